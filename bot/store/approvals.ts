/**
 * Approval requests, persisted. Every state change is ONE conditional UPDATE … RETURNING:
 * whoever's update matches the expected state wins, so two clicks, two processes or a
 * retry after a crash can never both move a request forward.
 */
import type { Queryable } from './db';

export type ApprovalState =
  | 'pending'
  | 'approved'
  | 'executing'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'cancelled';

export const FINAL_STATES: ApprovalState[] = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

/** How long an executing process holds a request before another may settle it (renewed while it works). */
export const DEFAULT_LEASE_MS = 5 * 60_000;

export interface ActionTarget {
  /** Graph object id of the target (user, rule, assignment…) */
  id: string;
  displayName: string;
  /** Secondary identifier shown to people, e.g. the UPN */
  detail?: string;
  /** Owner of a nested object (the mailbox user of an inbox rule, the principal of a role assignment) */
  userId?: string;
  /**
   * What the fix needs beyond the ids (an authentication method's type, the licences to remove, the
   * accounts a policy excludes). Fixed when the request is made, so what runs is what the approvers saw.
   */
  params?: Record<string, string | string[]>;
}

export interface Approval {
  approverId: string;
  approverName: string;
  at: string;
}

/** Opaque pointer to a Teams message (the Teams room fills and reads it; the domain never looks inside). */
export type ConversationPointer = Record<string, unknown>;

export interface ApprovalRecord {
  id: string;
  tenantId: string;
  actionId: string;
  targets: ActionTarget[];
  params: Record<string, unknown>;
  summary: string;
  requesterId: string;
  requesterName: string;
  requesterRef: ConversationPointer | null;
  state: ApprovalState;
  requiredApprovals: number;
  approvals: Approval[];
  createdAt: Date;
  expiresAt: Date;
  decidedBy: string | null;
  decidedByName: string | null;
  decidedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  result: Record<string, unknown> | null;
  channelRef: ConversationPointer | null;
  /** While executing: until when the executing process holds the request; past it, a restart may settle it. */
  leaseUntil: Date | null;
}

export type NewApproval = Pick<
  ApprovalRecord,
  'id' | 'tenantId' | 'actionId' | 'targets' | 'params' | 'summary' | 'requesterId' | 'requesterName' | 'requesterRef' | 'requiredApprovals' | 'createdAt' | 'expiresAt'
>;

const COLUMNS = `id, tenant_id, action_id, targets, params, summary, requester_id, requester_name, requester_ref, state,
  required_approvals, approvals, created_at, expires_at, decided_by, decided_by_name, decided_at, started_at, finished_at,
  result, channel_ref, lease_until`;

export class ApprovalStore {
  constructor(private readonly db: Queryable) {}

  async create(a: NewApproval): Promise<ApprovalRecord> {
    const rows = await this.db.query(
      `INSERT INTO approval_requests (id, tenant_id, action_id, targets, params, summary, requester_id, requester_name,
         requester_ref, state, required_approvals, created_at, expires_at, updated_at)
       VALUES ($1,$2,$3,$4::jsonb,$5::jsonb,$6,$7,$8,$9::jsonb,'pending',$10,$11,$12,$11)
       RETURNING ${COLUMNS}`,
      [a.id, a.tenantId, a.actionId, json(a.targets), json(a.params), a.summary, a.requesterId, a.requesterName,
        a.requesterRef ? json(a.requesterRef) : null, a.requiredApprovals, a.createdAt, a.expiresAt],
    );
    return toRecord(rows[0]);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM approval_requests WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Record one approval on a pending, unexpired request the approver has not approved yet.
   * The request becomes 'approved' in the same statement once enough distinct approvers agreed.
   * Returns undefined when the request was not in a state to accept this approval.
   */
  async addApproval(id: string, approval: Approval, now: Date): Promise<ApprovalRecord | undefined> {
    const entry = json([approval]);
    const rows = await this.db.query(
      `UPDATE approval_requests
          SET approvals = approvals || $2::jsonb,
              state = CASE WHEN jsonb_array_length(approvals) + 1 >= required_approvals THEN 'approved' ELSE 'pending' END,
              decided_by = CASE WHEN jsonb_array_length(approvals) + 1 >= required_approvals THEN $3 ELSE decided_by END,
              decided_by_name = CASE WHEN jsonb_array_length(approvals) + 1 >= required_approvals THEN $4 ELSE decided_by_name END,
              decided_at = CASE WHEN jsonb_array_length(approvals) + 1 >= required_approvals THEN $5 ELSE decided_at END,
              updated_at = $5
        WHERE id = $1 AND state = 'pending' AND expires_at > $5
          AND NOT approvals @> $6::jsonb
        RETURNING ${COLUMNS}`,
      [id, entry, approval.approverId, approval.approverName, now, json([{ approverId: approval.approverId }])],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** pending → rejected | cancelled, only while pending (and, for rejection, unexpired). */
  async decide(id: string, to: 'rejected' | 'cancelled', actorId: string, actorName: string, now: Date): Promise<ApprovalRecord | undefined> {
    const rows = await this.db.query(
      `UPDATE approval_requests
          SET state = $2, decided_by = $3, decided_by_name = $4, decided_at = $5, finished_at = $5, updated_at = $5
        WHERE id = $1 AND state = 'pending'
        RETURNING ${COLUMNS}`,
      [id, to, actorId, actorName, now],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * approved → executing: exactly one caller gets the row back and may execute. The caller holds
   * the request until `leaseUntil` (renew it for long runs); a crashed caller's lease runs out and
   * only then may another process settle the request (see `interrupted`).
   */
  async claimExecution(id: string, now: Date, leaseUntil: Date = new Date(now.getTime() + DEFAULT_LEASE_MS)): Promise<ApprovalRecord | undefined> {
    const rows = await this.db.query(
      `UPDATE approval_requests SET state = 'executing', started_at = $2, updated_at = $2, lease_until = $3
        WHERE id = $1 AND state = 'approved'
        RETURNING ${COLUMNS}`,
      [id, now, leaseUntil],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Extend the lease of a request this process is executing. */
  async renewLease(id: string, leaseUntil: Date): Promise<void> {
    await this.db.query(`UPDATE approval_requests SET lease_until = $2 WHERE id = $1 AND state = 'executing'`, [id, leaseUntil]);
  }

  /** Requests stuck in 'executing' whose executor's lease has run out: it stopped (crashed) mid-way. */
  async interrupted(now: Date): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM approval_requests
        WHERE state = 'executing' AND (lease_until IS NULL OR lease_until <= $1)
        ORDER BY created_at`,
      [now],
    );
    return rows.map(toRecord);
  }

  /** executing → succeeded | failed, keeping the result details. */
  async finish(id: string, to: 'succeeded' | 'failed', result: Record<string, unknown>, now: Date): Promise<ApprovalRecord | undefined> {
    const rows = await this.db.query(
      `UPDATE approval_requests SET state = $2, result = $3::jsonb, finished_at = $4, updated_at = $4, lease_until = NULL
        WHERE id = $1 AND state = 'executing'
        RETURNING ${COLUMNS}`,
      [id, to, json(result), now],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Expire every pending request whose time is up; returns the ones this call expired. */
  async expireDue(now: Date): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(
      `UPDATE approval_requests SET state = 'expired', finished_at = $1, updated_at = $1
        WHERE state = 'pending' AND expires_at <= $1
        RETURNING ${COLUMNS}`,
      [now],
    );
    return rows.map(toRecord);
  }

  async inState(state: ApprovalState): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM approval_requests WHERE state = $1 ORDER BY created_at`, [state]);
    return rows.map(toRecord);
  }

  /** Requests of a tenant still in flight (pending, approved or executing). */
  async open(tenantId: string): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = $1 AND state IN ('pending','approved','executing') ORDER BY created_at`,
      [tenantId],
    );
    return rows.map(toRecord);
  }

  /** Requests that succeeded since a time (to show "already fixed" instead of a button). */
  async succeededSince(tenantId: string, since: Date): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = $1 AND state = 'succeeded' AND finished_at >= $2`,
      [tenantId, since],
    );
    return rows.map(toRecord);
  }

  async setChannelRef(id: string, ref: ConversationPointer): Promise<void> {
    await this.db.query(`UPDATE approval_requests SET channel_ref = $2::jsonb WHERE id = $1`, [id, json(ref)]);
  }

  async recent(tenantId: string, limit: number): Promise<ApprovalRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM approval_requests WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [tenantId, limit],
    );
    return rows.map(toRecord);
  }
}

/**
 * Teams' own user ids ("29:…", per bot) by Entra object id, remembered from the activities people
 * send. Teams needs them in a card's `refresh.userIds` to show approvers their own view of an
 * approval card; Graph does not know them.
 */
export class TeamsUserDirectory {
  constructor(private readonly db: Queryable) {}

  async remember(tenantId: string, aadObjectId: string, teamsId: string, name: string, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO teams_users (tenant_id, aad_object_id, teams_id, name, seen_at) VALUES ($1, lower($2), $3, $4, $5)
       ON CONFLICT (tenant_id, aad_object_id) DO UPDATE SET teams_id = EXCLUDED.teams_id, name = EXCLUDED.name, seen_at = EXCLUDED.seen_at`,
      [tenantId, aadObjectId, teamsId, name, now],
    );
  }

  /** Teams ids of those of `aadObjectIds` Vigil has seen, in the order asked. */
  async teamsIds(tenantId: string, aadObjectIds: string[]): Promise<string[]> {
    if (!aadObjectIds.length) return [];
    const wanted = aadObjectIds.map((id) => id.toLowerCase());
    const rows = await this.db.query<{ aad_object_id: string; teams_id: string }>(
      `SELECT aad_object_id, teams_id FROM teams_users WHERE tenant_id = $1 AND aad_object_id = ANY($2::text[])`,
      [tenantId, wanted],
    );
    const byId = new Map(rows.map((r) => [r.aad_object_id, r.teams_id]));
    return wanted.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }
}

function json(v: unknown): string {
  return JSON.stringify(v);
}

function date(v: unknown): Date | null {
  return v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v));
}

function toRecord(r: Record<string, unknown>): ApprovalRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    actionId: String(r.action_id),
    targets: r.targets as ActionTarget[],
    params: (r.params ?? {}) as Record<string, unknown>,
    summary: String(r.summary),
    requesterId: String(r.requester_id),
    requesterName: String(r.requester_name),
    requesterRef: (r.requester_ref ?? null) as ConversationPointer | null,
    state: r.state as ApprovalState,
    requiredApprovals: Number(r.required_approvals),
    approvals: (r.approvals ?? []) as Approval[],
    createdAt: date(r.created_at)!,
    expiresAt: date(r.expires_at)!,
    decidedBy: (r.decided_by as string) ?? null,
    decidedByName: (r.decided_by_name as string) ?? null,
    decidedAt: date(r.decided_at),
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    result: (r.result ?? null) as Record<string, unknown> | null,
    channelRef: (r.channel_ref ?? null) as ConversationPointer | null,
    leaseUntil: date(r.lease_until),
  };
}
