/**
 * Microsoft Graph's budgets shared by every Vigil process of one app registration on one
 * PostgreSQL (scale-out): the pacer (bot/graph/pacing.ts, `GraphPacer.share`) spends from these.
 *
 * - Token buckets: one row per bucket; a reservation is one atomic statement that refills by the
 *   time elapsed on the database server's clock (one clock for every process), takes the tokens
 *   (the level may go below zero: reservations queue, as in the in-memory TokenBucket) and answers
 *   how long the caller must wait. The row lock orders concurrent reservations.
 * - Live processes: each heartbeats every `heartbeatMs`; processes seen within 3 heartbeats count.
 *   The high-volume app-wide budgets are split among them (each uses capacity / N).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db';

export interface BucketShape {
  capacity: number;
  perSecond: number;
}

export interface PacingBudgetOptions {
  /** This process's id in the heartbeat table. */
  processId?: string;
  /** Heartbeat period (default 5 s); a process is live while seen within 3 periods. */
  heartbeatMs?: number;
}

/** Buckets untouched this long are full again: their rows are deleted (a missing row is a full bucket). */
const IDLE_BUCKET = '1 hour';

export class PacingBudgetStore {
  readonly processId: string;
  private readonly heartbeatMs: number;
  private live = 1;
  private timer?: NodeJS.Timeout;
  private beats = 0;

  constructor(
    private readonly db: Queryable,
    opts: PacingBudgetOptions = {},
  ) {
    this.processId = opts.processId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
  }

  /** Join: heartbeat now (so the count includes this process at once), then on a timer. */
  async start(): Promise<this> {
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat().catch(() => undefined), this.heartbeatMs);
    this.timer.unref();
    return this;
  }

  /** Leave: the others take over this process's share at their next heartbeat. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.db.query(`DELETE FROM pacing_processes WHERE id = $1`, [this.processId]).catch(() => undefined);
  }

  /** Live processes at the last heartbeat, this one included. */
  liveProcesses(): number {
    return this.live;
  }

  async heartbeat(): Promise<number> {
    const rows = await this.db.query<{ live: number }>(
      `WITH me AS (
         INSERT INTO pacing_processes (id, started_at, seen_at) VALUES ($1, clock_timestamp(), clock_timestamp())
         ON CONFLICT (id) DO UPDATE SET seen_at = clock_timestamp()
         RETURNING id)
       SELECT 1 + count(*)::int AS live FROM pacing_processes
        WHERE id <> (SELECT id FROM me) AND seen_at > clock_timestamp() - make_interval(secs => $2)`,
      [this.processId, (3 * this.heartbeatMs) / 1000],
    );
    this.live = Math.max(1, Number(rows[0]?.live ?? 1));
    if (this.beats++ % 60 === 0) {
      await this.db.query(`DELETE FROM pacing_processes WHERE seen_at < clock_timestamp() - interval '1 day'`);
      await this.db.query(`DELETE FROM pacing_buckets WHERE stamp < clock_timestamp() - interval '${IDLE_BUCKET}' AND (blocked_until IS NULL OR blocked_until < clock_timestamp())`);
    }
    return this.live;
  }

  /** Take `cost` tokens of bucket `key`; resolves to the wait (ms) before the caller may send. */
  async reserve(key: string, rate: BucketShape, cost: number): Promise<number> {
    const rows = await this.db.query<{ before: number; blocked_ms: number }>(
      `INSERT INTO pacing_buckets AS b (key, tokens, stamp) VALUES ($1, $2::float8 - $4::float8, clock_timestamp())
       ON CONFLICT (key) DO UPDATE SET
         tokens = least($2::float8, b.tokens + greatest(0, extract(epoch FROM clock_timestamp() - b.stamp)) * $3::float8) - $4::float8,
         stamp = greatest(b.stamp, clock_timestamp())
       RETURNING tokens + $4::float8 AS before,
         CASE WHEN blocked_until > clock_timestamp() THEN extract(epoch FROM blocked_until - clock_timestamp()) * 1000 ELSE 0 END AS blocked_ms`,
      [key, rate.capacity, rate.perSecond, cost],
    );
    const before = Number(rows[0].before);
    const need = Math.min(cost, rate.capacity);
    const refillMs = before >= need ? 0 : ((need - before) / rate.perSecond) * 1000;
    return Math.max(refillMs, Number(rows[0].blocked_ms));
  }

  /** Graph said "wait `waitMs`": nothing goes before, and then only one request's worth is left. */
  async block(key: string, rate: BucketShape, waitMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO pacing_buckets AS b (key, tokens, stamp, blocked_until)
       VALUES ($1, least($2::float8, 1 - $4::float8 / 1000 * $3::float8), clock_timestamp(), clock_timestamp() + make_interval(secs => $4::float8 / 1000))
       ON CONFLICT (key) DO UPDATE SET
         tokens = least(least($2::float8, b.tokens + greatest(0, extract(epoch FROM clock_timestamp() - b.stamp)) * $3::float8), 1 - $4::float8 / 1000 * $3::float8),
         stamp = greatest(b.stamp, clock_timestamp()),
         blocked_until = greatest(b.blocked_until, clock_timestamp() + make_interval(secs => $4::float8 / 1000))`,
      [key, rate.capacity, rate.perSecond, waitMs],
    );
  }
}
