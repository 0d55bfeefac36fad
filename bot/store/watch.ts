/**
 * Scan jobs, finding state and alert history.
 *
 * Scan jobs are claimed with SELECT … FOR UPDATE SKIP LOCKED and a lease, which works the same
 * on PostgreSQL (several processes) and PGlite (one process). A scan's results are committed
 * only while its worker still holds the lease (fencing), so a worker that stalled past its
 * lease cannot write over, or alert on top of, the worker that took over.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from './db';

export type ScanKind = 'full' | 'quick';

export interface ScanClaim {
  tenantId: string;
  runId: number;
  /** full: every check; quick: only the cheap ones, between full scans. A due full scan wins. */
  kind: ScanKind;
}

export interface StoredFinding {
  tenantId: string;
  key: string;
  checkId: string;
  severity: string;
  finding: Record<string, unknown>;
  firstSeen: Date;
  lastSeen: Date;
  resolvedAt: Date | null;
  ackedBy: string | null;
  ackedAt: Date | null;
  snoozedUntil: Date | null;
  lastAlertedAt: Date | null;
}

export interface CurrentFinding {
  key: string;
  checkId: string;
  severity: string;
  finding: Record<string, unknown>;
  /** Worth a proactive alert when new (severity and check decide). */
  alertable: boolean;
}

export interface AlertRecord {
  id: string;
  tenantId: string;
  scanRunId: number | null;
  createdAt: Date;
  findingKeys: string[];
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'undeliverable';
  attempts: number;
  sentAt: Date | null;
  messageRef: Record<string, unknown> | null;
  error: string | null;
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

export class WatchStore {
  constructor(private readonly db: Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> }) {}

  /** Make sure a tenant has a scan job; a new one is due at once. */
  async ensureJob(tenantId: string, now: Date): Promise<void> {
    await this.db.query(`INSERT INTO scan_jobs (tenant_id, next_run_at) VALUES ($1,$2) ON CONFLICT (tenant_id) DO NOTHING`, [tenantId.toLowerCase(), now]);
  }

  async removeJobsExcept(tenantIds: string[]): Promise<void> {
    await this.db.query(`DELETE FROM scan_jobs WHERE NOT (tenant_id = ANY($1::text[]))`, [tenantIds.map((t) => t.toLowerCase())]);
  }

  /**
   * Claim one due job (oldest first) for `leaseMs`, or nothing when none is due. One lock per
   * tenant covers both kinds, so a tenant's full and quick scans never overlap.
   */
  async claimDue(worker: string, now: Date, leaseMs: number): Promise<ScanClaim | undefined> {
    return this.db.transaction(async (tx) => {
      const due = await tx.query<{ tenant_id: string; full: boolean }>(
        `SELECT tenant_id, next_run_at <= $1 AS full FROM scan_jobs
          WHERE (next_run_at <= $1 OR quick_next_run_at <= $1) AND (locked_until IS NULL OR locked_until < $1)
          ORDER BY LEAST(next_run_at, COALESCE(quick_next_run_at, next_run_at)) LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      if (!due.length) return undefined;
      const tenantId = due[0].tenant_id;
      const kind: ScanKind = due[0].full ? 'full' : 'quick';
      const run = await tx.query<{ id: number }>(
        `INSERT INTO scan_runs (tenant_id, worker, started_at, status, kind) VALUES ($1,$2,$3,'running',$4) RETURNING id`,
        [tenantId, worker, now, kind],
      );
      const runId = Number(run[0].id);
      await tx.query(`UPDATE scan_jobs SET locked_by = $2, locked_until = $3, last_started_at = $4, locked_run = $5 WHERE tenant_id = $1`, [
        tenantId,
        worker,
        new Date(now.getTime() + leaseMs),
        now,
        runId,
      ]);
      return { tenantId, runId, kind };
    });
  }

  /** Make a tenant's job due now (e.g. "scan now", or a test). */
  async makeDue(tenantId: string, now: Date): Promise<void> {
    await this.db.query(`UPDATE scan_jobs SET next_run_at = $2 WHERE tenant_id = $1`, [tenantId.toLowerCase(), now]);
  }

  /**
   * Commit a scan: update finding state and record the new alert in one transaction, only if
   * `worker` still holds the job. Returns the alert created (if any), or 'lost' when the lease was lost.
   */
  async commitScan(input: {
    claim: ScanClaim;
    worker: string;
    now: Date;
    /** When this kind of scan is next due. */
    nextRunAt: Date;
    /** After a full scan: when the next quick scan is due (null: none before the next full scan). */
    nextQuickRunAt?: Date | null;
    current: CurrentFinding[];
    /** Checks whose reads succeeded: only their missing findings count as resolved. */
    completeChecks: string[];
    alertsPaused: boolean;
    summary: Record<string, unknown>;
  }): Promise<{ alert?: AlertRecord; newKeys: string[]; baseline: boolean } | 'lost'> {
    const { claim, worker, now } = input;
    return this.db.transaction(async (tx) => {
      const held = await tx.query(`SELECT tenant_id FROM scan_jobs WHERE tenant_id = $1 AND locked_by = $2 AND locked_run = $3 FOR UPDATE`, [claim.tenantId, worker, claim.runId]);
      if (!held.length) {
        await tx.query(`UPDATE scan_runs SET status = 'lost', finished_at = $2 WHERE id = $1`, [claim.runId, now]);
        return 'lost' as const;
      }
      const existing = new Map(
        (await tx.query<Record<string, unknown>>(`SELECT * FROM findings WHERE tenant_id = $1`, [claim.tenantId])).map((r) => [String(r.key), toFinding(r)]),
      );
      // The first scan of a tenant sets the baseline: what is already there is answered in chat, not alerted.
      const baseline = (await tx.query(`SELECT 1 FROM scan_runs WHERE tenant_id = $1 AND status = 'done' LIMIT 1`, [claim.tenantId])).length === 0;
      const toAlert: string[] = [];
      const newKeys: string[] = [];
      const seen = new Set<string>();
      for (const f of input.current) {
        if (seen.has(f.key)) continue; // a check must not alert twice on one thing in one scan
        seen.add(f.key);
        const before = existing.get(f.key);
        const isNew = !before || before.resolvedAt !== null;
        if (isNew) newKeys.push(f.key);
        const snoozeOver = before?.snoozedUntil && before.snoozedUntil <= now && (!before.lastAlertedAt || before.lastAlertedAt < before.snoozedUntil);
        const acked = !isNew && before?.ackedAt;
        const snoozed = !isNew && before?.snoozedUntil && before.snoozedUntil > now;
        if (f.alertable && !acked && !snoozed && (isNew || snoozeOver)) toAlert.push(f.key);
        await tx.query(
          `INSERT INTO findings (tenant_id, key, check_id, severity, finding, first_seen, last_seen)
           VALUES ($1,$2,$3,$4,$5::jsonb,$6,$6)
           ON CONFLICT (tenant_id, key) DO UPDATE SET
             severity = EXCLUDED.severity, finding = EXCLUDED.finding, last_seen = EXCLUDED.last_seen,
             first_seen = CASE WHEN findings.resolved_at IS NOT NULL THEN EXCLUDED.first_seen ELSE findings.first_seen END,
             -- a finding that was fixed and came back starts over: not acknowledged, not snoozed
             acked_by = CASE WHEN findings.resolved_at IS NOT NULL THEN NULL ELSE findings.acked_by END,
             acked_at = CASE WHEN findings.resolved_at IS NOT NULL THEN NULL ELSE findings.acked_at END,
             snoozed_until = CASE WHEN findings.resolved_at IS NOT NULL THEN NULL ELSE findings.snoozed_until END,
             resolved_at = NULL`,
          [claim.tenantId, f.key, f.checkId, f.severity, JSON.stringify(f.finding), now],
        );
      }
      const complete = new Set(input.completeChecks);
      for (const [key, before] of existing) {
        if (!seen.has(key) && before.resolvedAt === null && complete.has(before.checkId)) {
          await tx.query(`UPDATE findings SET resolved_at = $3 WHERE tenant_id = $1 AND key = $2`, [claim.tenantId, key, now]);
        }
      }
      let alert: AlertRecord | undefined;
      if (toAlert.length && !input.alertsPaused && !baseline) {
        const id = randomBytes(12).toString('base64url');
        await tx.query(
          `INSERT INTO alerts (id, tenant_id, scan_run_id, created_at, finding_keys, status) VALUES ($1,$2,$3,$4,$5::jsonb,'pending')`,
          [id, claim.tenantId, claim.runId, now, JSON.stringify(toAlert)],
        );
        await tx.query(`UPDATE findings SET last_alerted_at = $3 WHERE tenant_id = $1 AND key = ANY($2::text[])`, [claim.tenantId, toAlert, now]);
        alert = { id, tenantId: claim.tenantId, scanRunId: claim.runId, createdAt: now, findingKeys: toAlert, status: 'pending', attempts: 0, sentAt: null, messageRef: null, error: null };
      }
      if (claim.kind === 'quick') {
        await tx.query(`UPDATE scan_jobs SET locked_by = NULL, locked_until = NULL, last_finished_at = $2, quick_next_run_at = $3, last_error = NULL WHERE tenant_id = $1`, [
          claim.tenantId,
          now,
          input.nextRunAt,
        ]);
      } else {
        await tx.query(
          `UPDATE scan_jobs SET locked_by = NULL, locked_until = NULL, last_finished_at = $2, next_run_at = $3, quick_next_run_at = $4, last_error = NULL WHERE tenant_id = $1`,
          [claim.tenantId, now, input.nextRunAt, input.nextQuickRunAt ?? null],
        );
      }
      await tx.query(`UPDATE scan_runs SET status = 'done', finished_at = $2, summary = $3::jsonb WHERE id = $1`, [claim.runId, now, JSON.stringify({ ...input.summary, alerted: alert ? toAlert.length : 0, new: newKeys.length, baseline })]);
      return { alert, newKeys, baseline };
    });
  }

  /** A scan that failed as a whole: release the job so it is retried after `retryAt`. */
  async failScan(claim: ScanClaim, worker: string, error: string, now: Date, retryAt: Date): Promise<void> {
    const due = claim.kind === 'quick' ? 'quick_next_run_at' : 'next_run_at';
    await this.db.query(`UPDATE scan_jobs SET locked_by = NULL, locked_until = NULL, last_error = $3, ${due} = $4 WHERE tenant_id = $1 AND locked_by = $2 AND locked_run = $5`, [
      claim.tenantId,
      worker,
      error.slice(0, 500),
      retryAt,
      claim.runId,
    ]);
    await this.db.query(`UPDATE scan_runs SET status = 'failed', finished_at = $2, summary = $3::jsonb WHERE id = $1`, [claim.runId, now, JSON.stringify({ error: error.slice(0, 500) })]);
  }

  async runs(tenantId?: string): Promise<Array<{ id: number; tenantId: string; worker: string; kind: ScanKind; startedAt: Date; status: string; summary: Record<string, unknown> }>> {
    const rows = await this.db.query<Record<string, unknown>>(
      tenantId ? `SELECT * FROM scan_runs WHERE tenant_id = $1 ORDER BY id` : `SELECT * FROM scan_runs ORDER BY id`,
      tenantId ? [tenantId.toLowerCase()] : [],
    );
    return rows.map((r) => ({ id: Number(r.id), tenantId: String(r.tenant_id), worker: String(r.worker), kind: r.kind === 'quick' ? ('quick' as const) : ('full' as const), startedAt: date(r.started_at)!, status: String(r.status), summary: (r.summary ?? {}) as Record<string, unknown> }));
  }

  async findings(tenantId: string, keys?: string[]): Promise<StoredFinding[]> {
    const rows = keys
      ? await this.db.query<Record<string, unknown>>(`SELECT * FROM findings WHERE tenant_id = $1 AND key = ANY($2::text[])`, [tenantId.toLowerCase(), keys])
      : await this.db.query<Record<string, unknown>>(`SELECT * FROM findings WHERE tenant_id = $1 AND resolved_at IS NULL ORDER BY first_seen`, [tenantId.toLowerCase()]);
    return rows.map(toFinding);
  }

  async acknowledge(tenantId: string, key: string, userId: string, now: Date): Promise<boolean> {
    const rows = await this.db.query(`UPDATE findings SET acked_by = $3, acked_at = $4 WHERE tenant_id = $1 AND key = $2 AND resolved_at IS NULL RETURNING key`, [
      tenantId.toLowerCase(),
      key,
      userId,
      now,
    ]);
    return rows.length > 0;
  }

  async snooze(tenantId: string, key: string, until: Date): Promise<boolean> {
    const rows = await this.db.query(`UPDATE findings SET snoozed_until = $3 WHERE tenant_id = $1 AND key = $2 AND resolved_at IS NULL RETURNING key`, [tenantId.toLowerCase(), key, until]);
    return rows.length > 0;
  }

  /** Claim alerts waiting to be sent (new, or left pending by a crash), one sender each. */
  async claimPendingAlerts(now: Date, limit = 10): Promise<AlertRecord[]> {
    // A sender that died mid-send leaves 'sending' behind; after 5 minutes another may retry it.
    const stale = new Date(now.getTime() - 5 * 60_000);
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Record<string, unknown>>(
        `SELECT * FROM alerts WHERE (status = 'pending' OR (status = 'sending' AND claimed_at < $2)) AND attempts < 8
          ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit, stale],
      );
      for (const r of rows) await tx.query(`UPDATE alerts SET status = 'sending', attempts = attempts + 1, claimed_at = $2 WHERE id = $1`, [r.id, now]);
      return rows.map(toAlert);
    });
  }

  async markAlert(id: string, status: AlertRecord['status'], fields: { messageRef?: Record<string, unknown>; error?: string; at: Date }): Promise<void> {
    await this.db.query(`UPDATE alerts SET status = $2, message_ref = COALESCE($3::jsonb, message_ref), error = $4, sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE id = $1`, [
      id,
      status,
      fields.messageRef ? JSON.stringify(fields.messageRef) : null,
      fields.error ?? null,
      fields.at,
    ]);
  }

  async alertHistory(tenantId: string, limit = 20): Promise<AlertRecord[]> {
    return (await this.db.query<Record<string, unknown>>(`SELECT * FROM alerts WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2`, [tenantId.toLowerCase(), limit])).map(toAlert);
  }

  async allAlerts(): Promise<AlertRecord[]> {
    return (await this.db.query<Record<string, unknown>>(`SELECT * FROM alerts ORDER BY created_at`)).map(toAlert);
  }

  async rememberUserConversation(tenantId: string, userId: string, ref: Record<string, unknown>, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO user_conversations (tenant_id, user_id, ref, updated_at) VALUES ($1,$2,$3::jsonb,$4)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET ref = EXCLUDED.ref, updated_at = EXCLUDED.updated_at`,
      [tenantId.toLowerCase(), userId, JSON.stringify(ref), now],
    );
  }

  async userConversations(tenantId: string): Promise<Array<{ userId: string; ref: Record<string, unknown> }>> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT user_id, ref FROM user_conversations WHERE tenant_id = $1`, [tenantId.toLowerCase()]);
    return rows.map((r) => ({ userId: String(r.user_id), ref: r.ref as Record<string, unknown> }));
  }

  async markChannelUnreachable(tenantId: string, purpose: string, now: Date | null): Promise<void> {
    await this.db.query(`UPDATE channels SET unreachable_since = $3 WHERE tenant_id = $1 AND purpose = $2`, [tenantId, purpose, now]);
  }
}

function toFinding(r: Record<string, unknown>): StoredFinding {
  return {
    tenantId: String(r.tenant_id),
    key: String(r.key),
    checkId: String(r.check_id),
    severity: String(r.severity),
    finding: (r.finding ?? {}) as Record<string, unknown>,
    firstSeen: date(r.first_seen)!,
    lastSeen: date(r.last_seen)!,
    resolvedAt: date(r.resolved_at),
    ackedBy: (r.acked_by as string) ?? null,
    ackedAt: date(r.acked_at),
    snoozedUntil: date(r.snoozed_until),
    lastAlertedAt: date(r.last_alerted_at),
  };
}

function toAlert(r: Record<string, unknown>): AlertRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    scanRunId: r.scan_run_id === null || r.scan_run_id === undefined ? null : Number(r.scan_run_id),
    createdAt: date(r.created_at)!,
    findingKeys: (r.finding_keys ?? []) as string[],
    status: r.status as AlertRecord['status'],
    attempts: Number(r.attempts ?? 0),
    sentAt: date(r.sent_at),
    messageRef: (r.message_ref ?? null) as Record<string, unknown> | null,
    error: (r.error as string) ?? null,
  };
}
