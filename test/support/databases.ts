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

/** A fresh schema on the real server, dropped when the store closes. */
export async function openPostgresSchema(url: string): Promise<Store> {
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const store = await openStore({ databaseUrl: u.toString() });
  const close = store.close;
  store.close = async () => {
    await close();
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    await c.end();
  };
  return store;
}
