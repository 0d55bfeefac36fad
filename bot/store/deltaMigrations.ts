/**
 * Schema for incremental reads: a per-tenant snapshot of the directory's users kept up to date
 * with Graph's `/users/delta`, and the deltaLink that continues it. Versions from 201 up so they
 * never collide with the approval workflow's (1+) or keeping watch's (101+) migrations.
 */
export const DELTA_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 201,
    sql: `
      -- One row per tenant: where the users' change tracking stands.
      CREATE TABLE directory_sync (
        tenant_id      text PRIMARY KEY,
        -- The @odata.deltaLink to follow next; null until a full round completed.
        delta_link     text,
        -- The $select the link tracks (a link tracks only what its first request selected).
        select_fields  text NOT NULL,
        -- When the round that produced the link started: Graph keeps a link 7 days.
        obtained_at    timestamptz,
        synced_at      timestamptz,
        -- Generation of the snapshot's last full round; rounds counts every round begun.
        generation     bigint NOT NULL DEFAULT 0,
        rounds         bigint NOT NULL DEFAULT 0
      );

      -- The snapshot: one row per user, the tracked properties as Graph sent them (merged).
      CREATE TABLE directory_users (
        tenant_id   text NOT NULL,
        id          text NOT NULL,
        generation  bigint NOT NULL,
        data        jsonb NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
    `,
  },
];
