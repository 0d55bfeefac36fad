/**
 * The approval workflow. A fix never runs when it is asked for: it becomes a persisted request,
 * and runs once, only after an authorised approver (never the requester) approves it.
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
import { GraphRequestError } from '../graph/errors';
import type { ActionTarget, ApprovalRecord, ApprovalStore, AuditLog, ConversationPointer } from '../store';
import type { ApproverDirectory } from './approvers';
import { findAction } from './catalogue';
import type { RemediationAction } from './types';

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

export type Outcome = { ok: true; record: ApprovalRecord; message: string } | { ok: false; message: string; record?: ApprovalRecord };

export interface TargetResult {
  id: string;
  displayName: string;
  outcome: 'done' | 'skipped' | 'failed';
  message: string;
  errorCode?: string;
}

export interface WorkflowDeps {
  approvals: ApprovalStore;
  audit: AuditLog;
  approvers: ApproverDirectory;
  graphFor(tenantId: string): GraphApi;
  events: ApprovalEvents;
  ttlMinutes: number;
  now?: () => Date;
  /** Test seam for crash injection: called after the Graph write, before the result is stored. */
  afterWrite?: (record: ApprovalRecord) => Promise<void>;
}

export class ApprovalWorkflow {
  private readonly now: () => Date;

  constructor(private readonly deps: WorkflowDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async request(input: {
    tenantId: string;
    actionId: string;
    targets: ActionTarget[];
    requester: { id: string; name: string };
    requesterRef: ConversationPointer | null;
  }): Promise<Outcome> {
    const action = findAction(input.actionId);
    if (!action) return { ok: false, message: 'That fix is not one Vigil knows.' };
    if (!input.targets.length) return { ok: false, message: 'There is nothing to fix.' };
    const now = this.now();
    const record = await this.deps.approvals.create({
      id: newRequestId(),
      tenantId: input.tenantId,
      actionId: action.id,
      targets: input.targets,
      params: {},
      summary: input.targets.map((t) => action.preview(t)).join('\n'),
      requesterId: input.requester.id,
      requesterName: input.requester.name,
      requesterRef: input.requesterRef,
      requiredApprovals: 1,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.deps.ttlMinutes * 60_000),
    });
    await this.audit(record, input.requester, 'requested', { action: action.id, targets: input.targets.map((t) => t.id) });
    try {
      await this.deps.events.requested(record);
    } catch (err) {
      // An approval nobody can see must not linger as pending: withdraw it and say why.
      await this.deps.approvals.decide(record.id, 'cancelled', 'vigil', 'Vigil', this.now());
      await this.audit(record, undefined, 'cancelled', { reason: 'could not post to the approvals channel', error: (err as Error).message });
      return { ok: false, message: 'I could not post the request to the approvals channel, so I withdrew it. Check that Vigil is still in that channel and try again.' };
    }
    return { ok: true, record, message: 'Sent for approval.' };
  }

  async approve(requestId: string, actor: Actor): Promise<Outcome> {
    const checked = await this.checkDecision(requestId, actor);
    if (!checked.ok) return checked;
    const now = this.now();
    const updated = await this.deps.approvals.addApproval(requestId, { approverId: actor.id, approverName: actor.name, at: now.toISOString() }, now);
    if (!updated) return this.explainRefusal(requestId, actor, 'approve');
    await this.audit(updated, actor, updated.state === 'approved' ? 'approved' : 'approval-recorded', {
      approvals: updated.approvals.length,
      required: updated.requiredApprovals,
    });
    await this.deps.events.changed(updated);
    if (updated.state !== 'approved') {
      return { ok: true, record: updated, message: `Approval recorded; ${updated.requiredApprovals - updated.approvals.length} more needed.` };
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
    const record = await this.deps.approvals.get(requestId);
    if (!record || record.tenantId !== actor.tenantId) return { ok: false, message: 'I cannot find that request.' };
    if (record.requesterId !== actor.id) return { ok: false, message: 'Only the person who asked can cancel a request.', record };
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
   * After a restart: requests approved but never started are executed (the claim keeps that
   * once-only); requests caught mid-execution are settled by reading the targets back from
   * Graph, never by running the write again.
   */
  async reconcile(): Promise<ApprovalRecord[]> {
    const settled: ApprovalRecord[] = [];
    for (const r of await this.deps.approvals.inState('approved')) {
      const done = await this.execute(r.id);
      if (done) settled.push(done);
    }
    for (const r of await this.deps.approvals.inState('executing')) {
      const done = await this.settleInterrupted(r);
      if (done) settled.push(done);
    }
    return settled;
  }

  /** approved → executing → succeeded | failed. Returns undefined when another caller holds the claim. */
  async execute(requestId: string): Promise<ApprovalRecord | undefined> {
    const claimed = await this.deps.approvals.claimExecution(requestId, this.now());
    if (!claimed) return undefined;
    await this.audit(claimed, undefined, 'execution-started', {});
    const action = findAction(claimed.actionId)!;
    const graph = this.deps.graphFor(claimed.tenantId);
    const results: TargetResult[] = [];
    for (const target of claimed.targets) results.push(await runOne(action, graph, target));
    await this.deps.afterWrite?.(claimed);
    return this.finish(claimed, results, false);
  }

  private async settleInterrupted(record: ApprovalRecord): Promise<ApprovalRecord | undefined> {
    const action = findAction(record.actionId)!;
    const graph = this.deps.graphFor(record.tenantId);
    const results: TargetResult[] = [];
    for (const t of record.targets) {
      const inPlace = await action.verify(graph, t).catch(() => false);
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
    const state = results.every((r) => r.outcome === 'done') ? 'succeeded' : 'failed';
    const finished = await this.deps.approvals.finish(record.id, state, { targets: results, reconciled }, this.now());
    if (!finished) return undefined;
    await this.audit(finished, undefined, state, { targets: results, reconciled });
    await this.deps.events.changed(finished);
    return finished;
  }

  /** The checks every approve/reject must pass, all server-side. */
  private async checkDecision(requestId: string, actor: Actor): Promise<Outcome> {
    const record = typeof requestId === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(requestId) ? await this.deps.approvals.get(requestId) : undefined;
    // A request of another tenant is reported exactly like a missing one: no existence oracle.
    if (!record || record.tenantId !== actor.tenantId) {
      await this.deps.audit.append({ tenantId: actor.tenantId, actorId: actor.id, actorName: actor.name, event: 'refused', detail: { reason: 'unknown request' } }, this.now());
      return { ok: false, message: 'I cannot find that request.' };
    }
    if (!(await this.deps.approvers.isApprover(record.tenantId, actor.id))) {
      await this.audit(record, actor, 'refused', { reason: 'not an approver' });
      return { ok: false, message: 'Only security approvers can approve or reject fixes.', record };
    }
    if (record.requesterId === actor.id) {
      await this.audit(record, actor, 'refused', { reason: 'own request' });
      return { ok: false, message: 'You asked for this fix, so someone else has to approve it.', record };
    }
    if (record.state === 'pending' && record.expiresAt.getTime() <= this.now().getTime()) {
      await this.expireDue();
      return { ok: false, message: 'This request has expired. Ask for the fix again if it is still needed.', record: await this.deps.approvals.get(requestId) };
    }
    if (record.state !== 'pending') return { ok: false, message: `This request is already ${record.state}.`, record };
    if (record.approvals.some((a) => a.approverId === actor.id)) return { ok: false, message: 'You have already approved this request.', record };
    return { ok: true, record, message: '' };
  }

  private async explainRefusal(requestId: string, actor: Actor, verb: string): Promise<Outcome> {
    const now = await this.deps.approvals.get(requestId);
    if (now) await this.audit(now, actor, 'refused', { reason: `cannot ${verb} in state ${now.state}` });
    return { ok: false, message: now ? `This request is already ${now.state}.` : 'I cannot find that request.', record: now };
  }

  private async audit(record: ApprovalRecord, actor: { id: string; name: string } | undefined, event: string, detail: Record<string, unknown>) {
    await this.deps.audit.append(
      { tenantId: record.tenantId, requestId: record.id, actorId: actor?.id, actorName: actor?.name, event, detail: { action: record.actionId, ...detail } },
      this.now(),
    );
  }
}

async function runOne(action: RemediationAction, graph: GraphApi, target: ActionTarget): Promise<TargetResult> {
  const base = { id: target.id, displayName: target.displayName };
  try {
    const pre = await action.precondition(graph, target);
    if (!pre.ok) return { ...base, outcome: 'skipped', message: pre.reason };
    await action.execute(graph, target);
    const inPlace = await action.verify(graph, target);
    return inPlace
      ? { ...base, outcome: 'done', message: 'Done and confirmed by reading it back.' }
      : { ...base, outcome: 'failed', message: 'Graph accepted the change but reading it back does not show it yet.' };
  } catch (err) {
    return { ...base, outcome: 'failed', ...explainError(err, action) };
  }
}

function explainError(err: unknown, action: RemediationAction): { message: string; errorCode?: string } {
  if (err instanceof GraphRequestError) {
    if (err.isMissingPermission) {
      return { message: `Vigil's app lacks the Graph permission ${action.permission}. Grant it (admin consent) and ask again.`, errorCode: err.code };
    }
    if (err.isMissingLicence) return { message: `The tenant lacks the licence this needs (${err.code}).`, errorCode: err.code };
    return { message: `Graph answered ${err.status} ${err.code}: ${err.message}`, errorCode: err.code };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/** 128 random bits, URL-safe: unguessable, and carries nothing but identity. */
export function newRequestId(): string {
  return randomBytes(16).toString('base64url');
}
