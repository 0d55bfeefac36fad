/**
 * The store tests run against every engine available: PGlite always (in memory), and the
 * real PostgreSQL server when DATABASE_URL is set (CI sets it). Each PostgreSQL run gets its
 * own schema so runs never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openStore, type Store } from '../../bot/store';

export interface Engine {
  name: string;
  open(): Promise<Store>;
}

export function engines(): Engine[] {
  const list: Engine[] = [{ name: 'PGlite', open: () => openStore({}) }];
  const url = process.env.DATABASE_URL;
  if (url) list.push({ name: 'PostgreSQL', open: () => openPostgresSchema(url) });
  return list;
}

/** A fresh schema on the real server: the URL that uses it, and how to drop it. */
export async function postgresSchema(url: string, prefix = 'vigil_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { url: u.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

/** A store in a fresh schema on the real server, dropped when the store closes. */
export async function openPostgresSchema(url: string): Promise<Store> {
  const schema = await postgresSchema(url);
  const store = await openStore({ databaseUrl: schema.url });
  const close = store.close;
  store.close = async () => {
    await close();
    await schema.drop();
  };
  return store;
}
