/**
 * Schema for keeping watch: the tenant registry (MSP mode), scheduled scans claimed as jobs,
 * the state of every finding across scans, and alert history. Versions from 101 up so they
 * never collide with the approval workflow's migrations.
 */
export const WATCH_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 101,
    sql: `
      CREATE TABLE tenants (
        tenant_id      text PRIMARY KEY,
        display_name   text NOT NULL,
        settings       jsonb NOT NULL DEFAULT '{}'::jsonb,
        alerts_paused  boolean NOT NULL DEFAULT false,
        added_by       text,
        added_at       timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX tenants_display_name ON tenants (lower(display_name));

      -- One row per tenant: the scan job. Workers claim due rows with FOR UPDATE SKIP LOCKED
      -- and hold a lease; a dead worker's lease runs out and another worker takes the job.
      CREATE TABLE scan_jobs (
        tenant_id        text PRIMARY KEY,
        next_run_at      timestamptz NOT NULL,
        locked_by        text,
        locked_until     timestamptz,
        last_started_at  timestamptz,
        last_finished_at timestamptz,
        last_error       text
      );
      CREATE INDEX scan_jobs_due ON scan_jobs (next_run_at);

      CREATE TABLE scan_runs (
        id           bigserial PRIMARY KEY,
        tenant_id    text NOT NULL,
        worker       text NOT NULL,
        started_at   timestamptz NOT NULL,
        finished_at  timestamptz,
        status       text NOT NULL,
        summary      jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX scan_runs_tenant ON scan_runs (tenant_id, started_at DESC);

      -- Every finding ever seen, by a stable key; resolved_at set when a scan no longer sees it.
      CREATE TABLE findings (
        tenant_id        text NOT NULL,
        key              text NOT NULL,
        check_id         text NOT NULL,
        severity         text NOT NULL,
        finding          jsonb NOT NULL,
        first_seen       timestamptz NOT NULL,
        last_seen        timestamptz NOT NULL,
        resolved_at      timestamptz,
        acked_by         text,
        acked_at         timestamptz,
        snoozed_until    timestamptz,
        last_alerted_at  timestamptz,
        PRIMARY KEY (tenant_id, key)
      );

      CREATE TABLE alerts (
        id            text PRIMARY KEY,
        tenant_id     text NOT NULL,
        scan_run_id   bigint,
        created_at    timestamptz NOT NULL,
        finding_keys  jsonb NOT NULL,
        status        text NOT NULL,
        attempts      integer NOT NULL DEFAULT 0,
        claimed_at    timestamptz,
        sent_at       timestamptz,
        message_ref   jsonb,
        error         text
      );
      CREATE INDEX alerts_tenant ON alerts (tenant_id, created_at DESC);
      CREATE INDEX alerts_status ON alerts (status);

      -- Personal chats Vigil may write to (approvers told when a channel becomes unreachable).
      CREATE TABLE user_conversations (
        tenant_id   text NOT NULL,
        user_id     text NOT NULL,
        ref         jsonb NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      );

      ALTER TABLE channels ADD COLUMN unreachable_since timestamptz;
    `,
  },
  {
    // Quick scans between full scans (the cheap checks, SCAN_QUICK_INTERVAL).
    version: 102,
    sql: `
      ALTER TABLE scan_jobs ADD COLUMN quick_next_run_at timestamptz;
      ALTER TABLE scan_runs ADD COLUMN kind text NOT NULL DEFAULT 'full';
    `,
  },
  {
    // A process scans several tenants at once: fence a commit by the run that claimed the job,
    // not only by the process (a lease that ran out may be re-claimed by the same process).
    version: 103,
    sql: `
      ALTER TABLE scan_jobs ADD COLUMN locked_run bigint;
    `,
  },
];
