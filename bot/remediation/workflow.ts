/**
 * The approval workflow. A fix never runs when it is asked for: it becomes a persisted request,
 * and runs once, only after enough authorised approvers (never the requester) approve it.
 *
 *   pending ──approve (enough approvers)──▶ approved ──claim──▶ executing ──▶ succeeded | failed
 *      ├──reject──▶ rejected       ├──cancel (requester)──▶ cancelled       └──time──▶ expired
 *
 * Every move is a conditional update in the database (see ApprovalStore), so concurrent clicks
 * and concurrent processes execute at most once; every move is written to the audit trail.
 * Nothing here trusts what a card sent back beyond the request id.
 */
import { randomBytes } from 'node:crypto';
import type { GraphApi } from '../graph/api';
import { DEFAULT_LEASE_MS, type ActionTarget, type ApprovalRecord, type ApprovalStore, type AuditLog, type ConversationPointer } from '../store';
import type { ApproverDirectory } from './approvers';
import { findAction } from './catalogue';
import { explainFailure } from './explain';
import type { ActionContext, RemediationAction, TargetResult } from './types';

/** Storing an execution's result is retried with doubling waits up to this one (≈ 30 s in all). */
const PERSIST_RETRY_MAX_DELAY_MS = 16_000;

export type { TargetResult } from './types';

export interface Actor {
  id: string;
  name: string;
  /** The tenant the actor's Teams activity came from (from the activity, never from card data). */
  tenantId: string;
}

/** How the workflow tells the outside world (cards, channels, chats) that something changed. */
export interface ApprovalEvents {
  requested(record: ApprovalRecord): Promise<void>;
  changed(record: ApprovalRecord): Promise<void>;
}

/**
 * Why nothing happened: the request is unknown (or another tenant's), the person may not do
 * this, the request is past that point, the input is unusable, or remediation is switched off.
 */
export type Refusal = 'not-found' | 'forbidden' | 'state' | 'invalid' | 'off';

export type Outcome =
  | { ok: true; record: ApprovalRecord; message: string }
  | { ok: false; message: string; refusal: Refusal; record?: ApprovalRecord };

export interface WorkflowDeps {
  approvals: ApprovalStore;
  audit: AuditLog;
  approvers: ApproverDirectory;
  graphFor(tenantId: string): GraphApi;
  events: ApprovalEvents;
  ttlMinutes: number;
  /** Distinct approvers a high-risk fix needs (HIGH_RISK_APPROVALS, default 2). */
  highRiskApprovals?: number;
  /** False with REMEDIATION=off: nothing is requested, approved or executed. */
  enabled?: boolean;
  /** Break-glass accounts of a tenant, object ids or UPNs (EXCLUDED_ACCOUNTS; the demo's own by default). */
  breakGlassFor?: (tenantId: string) => Promise<string[]>;
  /** How long an execution holds its request before a restarted process may settle it. */
  leaseMs?: number;
  now?: () => Date;
  /** Test seam for crash injection: called after the Graph writes, before the result is stored. */
  afterWrite?: (record: ApprovalRecord) => Promise<void>;
}

/** A bulk request covers at most this many targets. */
export const MAX_TARGETS = 500;

export class ApprovalWorkflow {
  private readonly now: () => Date;
  readonly highRiskApprovals: number;
  readonly enabled: boolean;
  private readonly breakGlassFor: (tenantId: string) => Promise<string[]>;
  private readonly leaseMs: number;

  constructor(private readonly deps: WorkflowDeps) {
    this.now = deps.now ?? (() => new Date());
    this.highRiskApprovals = Math.max(1, deps.highRiskApprovals ?? 2);
    this.enabled = deps.enabled ?? true;
    this.breakGlassFor = deps.breakGlassFor ?? (async () => []);
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Approvals a fix of this risk needs. */
  requiredApprovals(action: RemediationAction): number {
    return action.risk === 'high' ? this.highRiskApprovals : 1;
  }

  async request(input: {
    tenantId: string;
    actionId: string;
    targets: ActionTarget[];
    requester: { id: string; name: string };
    requesterRef: ConversationPointer | null;
  }): Promise<Outcome> {
    if (!this.enabled) return refuse('off', REMEDIATION_OFF);
    const action = findAction(input.actionId);
    if (!action) return refuse('invalid', 'That fix is not one Vigil knows.');
    const unique = [...new Map(input.targets.map((t) => [targetKey(t), t])).values()];
    if (!unique.length) return refuse('invalid', 'There is nothing to fix.');
    if (unique.length > MAX_TARGETS) return refuse('invalid', `One request can cover at most ${MAX_TARGETS} targets.`);

    // Read what the exact call needs now, so the approvers see the call that will run.
    const targets: ActionTarget[] = [];
    if (action.prepare) {
      const graph = this.deps.graphFor(input.tenantId);
      const ctx = { tenantId: input.tenantId, requesterId: input.requester.id, breakGlassAccounts: await this.breakGlassFor(input.tenantId) };
      for (const t of unique) {
        const prepared = await action.prepare(graph, t, ctx).catch((err: unknown) => ({ ok: false as const, reason: explainFailure(err, action, 'check').message }));
        if (!prepared.ok) return refuse('invalid', prepared.reason);
        targets.push(prepared.target);
      }
    } else {
      targets.push(...unique);
    }

    const required = this.requiredApprovals(action);
    const short = await this.tooFewApprovers(input.tenantId, action, targets, input.requester.id, required);
    if (short) return refuse('invalid', short);

    const now = this.now();
    const record = await this.deps.approvals.create({
      id: newRequestId(),
      tenantId: input.tenantId,
      actionId: action.id,
      targets,
      params: {},
      summary: targets.map((t) => action.preview(t)).join('\n'),
      requesterId: input.requester.id,
      requesterName: input.requester.name,
      requesterRef: input.requesterRef,
      requiredApprovals: required,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.deps.ttlMinutes * 60_000),
    });
    await this.audit(record, input.requester, 'requested', {
      risk: action.risk,
      required: record.requiredApprovals,
      targets: targets.map((t) => ({ id: t.id, displayName: t.displayName, userId: t.userId, params: t.params })),
    });
    try {
      await this.deps.events.requested(record);
    } catch (err) {
      // An approval nobody can see must not linger as pending: withdraw it and say why.
      await this.deps.approvals.decide(record.id, 'cancelled', 'vigil', 'Vigil', this.now());
      await this.audit(record, undefined, 'cancelled', { reason: 'could not post to the approvals channel', error: (err as Error).message });
      return refuse('state', 'I could not post the request to the approvals channel, so I withdrew it. Check that Vigil is still in that channel and try again.');
    }
    return { ok: true, record, message: 'Sent for approval.' };
  }

  /**
   * A request nobody could ever approve only waits to expire: say so at once. Counts the tenant's
   * approvers other than the requester (and, for fixes on a person, other than that person).
   * When the approvers cannot be listed, the request goes ahead (approval is checked per click anyway).
   */
  private async tooFewApprovers(tenantId: string, action: RemediationAction, targets: ActionTarget[], requesterId: string, required: number): Promise<string | undefined> {
    const approverIds = await this.deps.approvers.list(tenantId).catch(() => undefined);
    if (!approverIds) return undefined;
    const excluded = [requesterId, ...(action.protectsApprover ? targets.flatMap((t) => [t.id, t.userId ?? '']) : [])];
    const eligible = approverIds.filter((id) => !excluded.some((x) => sameId(x, id)));
    if (eligible.length >= required) return undefined;
    return (
      `This fix needs ${required} different approver${required === 1 ? '' : 's'}, and this tenant has ${eligible.length} who could approve it ` +
      `(not counting the person asking${action.protectsApprover ? ' or the person it acts on' : ''}). Add security approvers, then ask again.`
    );
  }

  async approve(requestId: string, actor: Actor): Promise<Outcome> {
    if (!this.enabled) return refuse('off', REMEDIATION_OFF);
    const checked = await this.checkDecision(requestId, actor);
    if (!checked.ok) return checked;
    const record = checked.record;
    const action = findAction(record.actionId);
    if (action?.protectsApprover && record.targets.some((t) => sameId(t.id, actor.id) || sameId(t.userId, actor.id))) {
      await this.audit(record, actor, 'refused', { reason: 'fix on the approver themselves' });
      return refuse('forbidden', 'This fix acts on your own account or role, so someone else has to approve it.', record);
    }
    const now = this.now();
    const updated = await this.deps.approvals.addApproval(requestId, { approverId: actor.id, approverName: actor.name, at: now.toISOString() }, now);
    if (!updated) return this.explainRefusal(requestId, actor, 'approve');
    await this.audit(updated, actor, updated.state === 'approved' ? 'approved' : 'approval-recorded', {
      approvals: updated.approvals.length,
      required: updated.requiredApprovals,
    });
    await this.deps.events.changed(updated);
    if (updated.state !== 'approved') {
      const left = updated.requiredApprovals - updated.approvals.length;
      return { ok: true, record: updated, message: `Approval recorded; ${left} more approver${left === 1 ? '' : 's'} needed.` };
    }
    const final = await this.execute(requestId);
    return { ok: true, record: final ?? updated, message: final ? `Approved: ${final.state}.` : 'Approved.' };
  }

  async reject(requestId: string, actor: Actor): Promise<Outcome> {
    const checked = await this.checkDecision(requestId, actor);
    if (!checked.ok) return checked;
    const updated = await this.deps.approvals.decide(requestId, 'rejected', actor.id, actor.name, this.now());
    if (!updated) return this.explainRefusal(requestId, actor, 'reject');
    await this.audit(updated, actor, 'rejected', {});
    await this.deps.events.changed(updated);
    return { ok: true, record: updated, message: 'Rejected.' };
  }

  /** The requester withdraws a pending request. */
  async cancel(requestId: string, actor: Actor): Promise<Outcome> {
    const record = await this.find(requestId, actor);
    if (!record) return refuse('not-found', NOT_FOUND);
    if (record.requesterId !== actor.id) {
      await this.audit(record, actor, 'refused', { reason: 'cancel by someone other than the requester' });
      return refuse('forbidden', 'Only the person who asked can cancel a request.', record);
    }
    const updated = await this.deps.approvals.decide(requestId, 'cancelled', actor.id, actor.name, this.now());
    if (!updated) return this.explainRefusal(requestId, actor, 'cancel');
    await this.audit(updated, actor, 'cancelled', {});
    await this.deps.events.changed(updated);
    return { ok: true, record: updated, message: 'Cancelled.' };
  }

  /** Expire pending requests whose time is up (run on a timer). */
  async expireDue(): Promise<ApprovalRecord[]> {
    const expired = await this.deps.approvals.expireDue(this.now());
    for (const r of expired) {
      await this.audit(r, undefined, 'expired', {});
      await this.deps.events.changed(r);
    }
    return expired;
  }

  /**
   * At start and on a timer: requests approved but never started are executed (the claim keeps
   * that once-only); requests whose executing process stopped (its lease ran out) are settled by
   * reading the targets back from Graph, never by running the write again.
   */
  async reconcile(): Promise<ApprovalRecord[]> {
    const settled: ApprovalRecord[] = [];
    for (const r of await this.deps.approvals.inState('approved')) {
      const done = await this.execute(r.id);
      if (done) settled.push(done);
    }
    for (const r of await this.deps.approvals.interrupted(this.now())) {
      const done = await this.settleInterrupted(r);
      if (done) settled.push(done);
    }
    return settled;
  }

  /** approved → executing → succeeded | failed. Returns undefined when another caller holds the claim. */
  async execute(requestId: string): Promise<ApprovalRecord | undefined> {
    const startedAt = this.now();
    const claimed = await this.deps.approvals.claimExecution(requestId, startedAt, new Date(startedAt.getTime() + this.leaseMs));
    if (!claimed) return undefined;
    await this.audit(claimed, undefined, 'execution-started', { approvers: claimed.approvals.map((a) => a.approverId) });
    const action = findAction(claimed.actionId);
    if (!this.enabled || !action) {
      const message = action ? REMEDIATION_OFF : `Vigil no longer knows the fix ${claimed.actionId}; nothing was changed.`;
      return this.finish(claimed, claimed.targets.map((t) => ({ id: t.id, displayName: t.displayName, outcome: 'skipped', message })), false);
    }
    const graph = this.deps.graphFor(claimed.tenantId);
    const ctx = await this.contextOf(claimed);
    let results: TargetResult[];
    if (action.bulk) {
      results = await action.bulk.run(graph, claimed.targets, ctx).catch((err: unknown) =>
        claimed.targets.map((t) => ({ id: t.id, displayName: t.displayName, outcome: 'failed' as const, ...explainFailure(err, action, 'write') })),
      );
    } else {
      results = [];
      for (const target of claimed.targets) {
        results.push(await runOne(action, graph, target, ctx));
        if (claimed.targets.length > 1) await this.deps.approvals.renewLease(claimed.id, new Date(this.now().getTime() + this.leaseMs));
      }
    }
    await this.deps.afterWrite?.(claimed);
    return this.finish(claimed, results, false);
  }

  private async contextOf(r: ApprovalRecord): Promise<ActionContext> {
    return {
      tenantId: r.tenantId,
      requesterId: r.requesterId,
      breakGlassAccounts: await this.breakGlassFor(r.tenantId),
      approverIds: r.approvals.map((a) => a.approverId),
      startedAt: r.startedAt ?? r.decidedAt ?? r.createdAt,
    };
  }

  private async settleInterrupted(record: ApprovalRecord): Promise<ApprovalRecord | undefined> {
    const action = findAction(record.actionId);
    const graph = this.deps.graphFor(record.tenantId);
    const ctx = await this.contextOf(record);
    const results: TargetResult[] = [];
    for (const t of record.targets) {
      const inPlace = action ? await action.verify(graph, t, ctx).catch(() => false) : false;
      results.push({
        id: t.id,
        displayName: t.displayName,
        outcome: inPlace ? 'done' : 'failed',
        message: inPlace
          ? 'Confirmed in place after a restart.'
          : 'Vigil stopped while making this change and it is not in place; it was not retried automatically. Request it again.',
      });
    }
    return this.finish(record, results, true);
  }

  private async finish(record: ApprovalRecord, results: TargetResult[], reconciled: boolean): Promise<ApprovalRecord | undefined> {
    const state = results.some((r) => r.outcome === 'failed') || results.every((r) => r.outcome === 'skipped') ? 'failed' : 'succeeded';
    const result = { targets: results, reconciled };
    // The change is made: storing its result must not fail on a database blip (a restart, a
    // failover), or the request would wait for the sweep after its lease. The update is
    // conditional, so a retry after an answer lost in transit finds it already stored.
    let retried = false;
    const finished = await this.persisting(async () => {
      const done = await this.deps.approvals.finish(record.id, state, result, this.now());
      if (done || !retried) return done;
      const now = await this.deps.approvals.get(record.id);
      // Nobody else settles an execution inside its lease, so a finished record in our state is ours.
      return now?.state === state ? now : undefined;
    }, () => (retried = true));
    if (!finished) return undefined;
    await this.persisting(() => this.audit(finished, undefined, state, result));
    await this.deps.events.changed(finished);
    return finished;
  }

  /** A database write retried through a short outage: 0.25 s, 0.5 s, 1 s … up to about 30 s in all. */
  private async persisting<T>(write: () => Promise<T>, beforeRetry?: () => void): Promise<T> {
    for (let delay = 250; ; delay *= 2) {
      try {
        return await write();
      } catch (err) {
        if (delay > PERSIST_RETRY_MAX_DELAY_MS) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
        beforeRetry?.();
      }
    }
  }

  /** The request, only if it exists and belongs to the actor's tenant. */
  private async find(requestId: unknown, actor: Actor): Promise<ApprovalRecord | undefined> {
    const record = typeof requestId === 'string' && REQUEST_ID.test(requestId) ? await this.deps.approvals.get(requestId) : undefined;
    return record && record.tenantId === actor.tenantId ? record : undefined;
  }

  /** The checks every approve/reject must pass, all server-side. */
  private async checkDecision(requestId: string, actor: Actor): Promise<{ ok: true; record: ApprovalRecord } | Extract<Outcome, { ok: false }>> {
    const record = await this.find(requestId, actor);
    // A request of another tenant is reported exactly like a missing one: no existence oracle.
    if (!record) {
      await this.deps.audit.append({ tenantId: actor.tenantId, actorId: actor.id, actorName: actor.name, event: 'refused', detail: { reason: 'unknown request' } }, this.now());
      return refuse('not-found', NOT_FOUND);
    }
    if (!(await this.deps.approvers.isApprover(record.tenantId, actor.id))) {
      await this.audit(record, actor, 'refused', { reason: 'not an approver' });
      return refuse('forbidden', 'Only security approvers can approve or reject fixes.', record);
    }
    if (record.requesterId === actor.id) {
      await this.audit(record, actor, 'refused', { reason: 'own request' });
      return refuse('forbidden', 'You asked for this fix, so someone else has to approve it.', record);
    }
    if (record.state === 'pending' && record.expiresAt.getTime() <= this.now().getTime()) {
      await this.expireDue();
      return refuse('state', 'This request has expired. Ask for the fix again if it is still needed.', await this.deps.approvals.get(requestId));
    }
    if (record.state !== 'pending') return refuse('state', `This request is already ${record.state}.`, record);
    if (record.approvals.some((a) => a.approverId === actor.id)) return refuse('state', 'You have already approved this request.', record);
    return { ok: true, record };
  }

  private async explainRefusal(requestId: string, actor: Actor, verb: string): Promise<Outcome> {
    const now = await this.deps.approvals.get(requestId);
    if (now) await this.audit(now, actor, 'refused', { reason: `cannot ${verb} in state ${now.state}` });
    return now ? refuse('state', `This request is already ${now.state}.`, now) : refuse('not-found', NOT_FOUND);
  }

  private async audit(record: ApprovalRecord, actor: { id: string; name: string } | undefined, event: string, detail: Record<string, unknown>) {
    await this.deps.audit.append(
      { tenantId: record.tenantId, requestId: record.id, actorId: actor?.id, actorName: actor?.name, event, detail: { action: record.actionId, ...detail } },
      this.now(),
    );
  }
}

const NOT_FOUND = 'I cannot find that request.';
const REMEDIATION_OFF = 'Fixes are switched off for this tenant (REMEDIATION=off): Vigil only reads. Nothing was changed.';
const REQUEST_ID = /^[A-Za-z0-9_-]{16,64}$/;

function refuse(refusal: Refusal, message: string, record?: ApprovalRecord): Extract<Outcome, { ok: false }> {
  return { ok: false, refusal, message, record };
}

function sameId(a: string | undefined, b: string | undefined): boolean {
  return Boolean(a && b && a.toLowerCase() === b.toLowerCase());
}

/** What makes two targets the same: the id within its owner (phone method ids repeat across users). */
export function targetKey(t: ActionTarget): string {
  return `${(t.userId ?? '').toLowerCase()}/${t.id.toLowerCase()}`;
}

async function runOne(action: RemediationAction, graph: GraphApi, target: ActionTarget, ctx: ActionContext): Promise<TargetResult> {
  const base = { id: target.id, displayName: target.displayName };
  let step: 'check' | 'write' | 'read-back' = 'check';
  try {
    const pre = await action.precondition(graph, target, ctx);
    if (!pre.ok) return { ...base, outcome: 'skipped', message: pre.reason };
    step = 'write';
    await action.execute(graph, target, ctx);
    step = 'read-back';
    const inPlace = await action.verify(graph, target, ctx);
    return inPlace
      ? { ...base, outcome: 'done', message: 'Done and confirmed by reading it back.' }
      : { ...base, outcome: 'failed', message: 'Graph accepted the change but reading it back does not show it yet.' };
  } catch (err) {
    return { ...base, outcome: 'failed', ...explainFailure(err, action, step) };
  }
}

/** 128 random bits, URL-safe: unguessable, and carries nothing but identity. */
export function newRequestId(): string {
  return randomBytes(16).toString('base64url');
}
