/**
 * Schema migrations, applied in order and recorded in schema_migrations. On PostgreSQL an
 * advisory lock keeps two processes starting at once from migrating twice.
 */
import type { Database, Queryable } from './db';
import { DELTA_MIGRATIONS } from './deltaMigrations';
import { PACING_MIGRATIONS } from './pacingMigrations';
import { REPORT_MIGRATIONS } from './reportMigrations';
import { WATCH_MIGRATIONS } from './watchMigrations';

const MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE approval_requests (
        id                 text PRIMARY KEY,
        tenant_id          text NOT NULL,
        action_id          text NOT NULL,
        targets            jsonb NOT NULL,
        params             jsonb NOT NULL DEFAULT '{}'::jsonb,
        summary            text NOT NULL,
        requester_id       text NOT NULL,
        requester_name     text NOT NULL,
        requester_ref      jsonb,
        state              text NOT NULL,
        required_approvals integer NOT NULL DEFAULT 1,
        approvals          jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at         timestamptz NOT NULL,
        expires_at         timestamptz NOT NULL,
        decided_by         text,
        decided_by_name    text,
        decided_at         timestamptz,
        started_at         timestamptz,
        finished_at        timestamptz,
        result             jsonb,
        channel_ref        jsonb,
        updated_at         timestamptz NOT NULL
      );
      CREATE INDEX approval_requests_tenant_state ON approval_requests (tenant_id, state);
      CREATE INDEX approval_requests_state_expiry ON approval_requests (state, expires_at);

      CREATE TABLE audit_log (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL,
        tenant_id   text NOT NULL,
        request_id  text,
        actor_id    text,
        actor_name  text,
        event       text NOT NULL,
        detail      jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC);

      -- The audit trail is append-only: the database itself refuses edits and deletes.
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END;
      $$;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

      -- Server-side meaning of card buttons: a button carries only a random id pointing here.
      CREATE TABLE card_refs (
        id          text PRIMARY KEY,
        tenant_id   text NOT NULL,
        user_id     text,
        kind        text NOT NULL,
        payload     jsonb NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL
      );
      CREATE INDEX card_refs_expiry ON card_refs (expires_at);

      CREATE TABLE channels (
        tenant_id         text NOT NULL,
        purpose           text NOT NULL,
        conversation_ref  jsonb NOT NULL,
        name              text,
        set_by            text NOT NULL,
        set_at            timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, purpose)
      );
    `,
  },
  {
    // Remediation catalogue: execution leases (a restart settles only what a dead process held),
    // Teams ids of people (who sees the approver view of a card), recent-first listing.
    version: 2,
    sql: `
      ALTER TABLE approval_requests ADD COLUMN lease_until timestamptz;
      CREATE INDEX approval_requests_tenant_created ON approval_requests (tenant_id, created_at DESC);

      CREATE TABLE teams_users (
        tenant_id      text NOT NULL,
        aad_object_id  text NOT NULL,
        teams_id       text NOT NULL,
        name           text NOT NULL,
        seen_at        timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, aad_object_id)
      );
    `,
  },
];

const LOCK_KEY = 7_370_110; // arbitrary constant shared by every Vigil process

export async function migrate(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    for (const m of [...MIGRATIONS, ...WATCH_MIGRATIONS, ...DELTA_MIGRATIONS, ...PACING_MIGRATIONS, ...REPORT_MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await execScript(tx, m.sql);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
  });
}

/** Extended-protocol queries take one statement each, so split the script (dollar-quoted bodies kept whole). */
async function execScript(tx: Queryable, sql: string): Promise<void> {
  for (const stmt of splitStatements(sql)) await tx.query(stmt);
}

export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    if (/^\s*--/.test(line)) continue;
    const dollars = (line.match(/\$\$/g) ?? []).length;
    if (dollars % 2 === 1) inDollar = !inDollar;
    cur += line + '\n';
    if (!inDollar && /;\s*$/.test(line)) {
      out.push(cur.trim().replace(/;$/, ''));
      cur = '';
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
