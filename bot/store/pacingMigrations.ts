/**
 * Schema for Graph budgets shared by every Vigil process on one PostgreSQL (bot/store/pacingBudgets.ts):
 * token buckets, and the live processes the high-volume budgets are split among. Versions from
 * 301 up so they never collide with the other migration files. UNLOGGED: pacing state is worth
 * nothing after a crash (a lost bucket is a full one, and a restart waits out nothing Graph does not).
 */
export const PACING_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 301,
    sql: `
      CREATE UNLOGGED TABLE pacing_buckets (
        key            text PRIMARY KEY,
        tokens         double precision NOT NULL,
        stamp          timestamptz NOT NULL,
        blocked_until  timestamptz
      );

      CREATE UNLOGGED TABLE pacing_processes (
        id          text PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        seen_at     timestamptz NOT NULL
      );
    `,
  },
];
