/**
 * A remediation action: one fix Vigil can make through Graph, always behind an approval.
 * Each states the exact Graph call in plain words, the permission it needs, its risk, a
 * precondition re-checked just before running, and a read-back that proves it worked.
 */
import type { GraphApi } from '../graph/api';
import type { ActionTarget } from '../store/approvals';

export type Risk = 'low' | 'medium' | 'high';

export type Precondition = { ok: true } | { ok: false; reason: string };

/** What a request is made with (before anyone approved). */
export interface RequestContext {
  tenantId: string;
  requesterId: string;
  /**
   * Break-glass (emergency access) accounts, by object id or UPN (EXCLUDED_ACCOUNTS): a Conditional
   * Access policy excludes them and Vigil never blocks them.
   */
  breakGlassAccounts: string[];
}

/** What an execution (or a read-back after a restart) knows besides the target. */
export interface ActionContext extends RequestContext {
  /** Everyone who approved. */
  approverIds: string[];
  /** When execution started: a read-back compares time stamps with it. */
  startedAt: Date;
}

/** How one target of a request ended. */
export interface TargetResult {
  id: string;
  displayName: string;
  outcome: 'done' | 'skipped' | 'failed';
  message: string;
  errorCode?: string;
}

export type Prepared = { ok: true; target: ActionTarget } | { ok: false; reason: string };

export interface RemediationAction {
  id: string;
  /** Button and card title, e.g. "Require MFA" */
  title: string;
  risk: Risk;
  /** Graph application permission the write needs. */
  permission: string;
  /** Graph application permission(s) the precondition and the read-back need. */
  readPermission: string;
  /** Entra licence the API needs, when it needs one. */
  licence?: string;
  /** The Graph call in plain words, for the approver. */
  preview(target: ActionTarget): string;
  /**
   * Optional, at request time: read what the exact call needs into the target's params (so the
   * approvers see, and the execution makes, one and the same call), or refuse with a reason.
   */
  prepare?(graph: GraphApi, target: ActionTarget, ctx: RequestContext): Promise<Prepared>;
  /** The fix acts on an account or a role an approver may hold: nobody approves it for themselves. */
  protectsApprover?: boolean;
  precondition(graph: GraphApi, target: ActionTarget, ctx: ActionContext): Promise<Precondition>;
  execute(graph: GraphApi, target: ActionTarget, ctx: ActionContext): Promise<void>;
  /** Read the target back; true when the change is in place. Used after execution and to reconcile after a crash. */
  verify(graph: GraphApi, target: ActionTarget, ctx: ActionContext): Promise<boolean>;
  /** Actions that can run for many targets at once (JSON $batch), offered as "… for all N shown". */
  bulk?: {
    title(n: number): string;
    run(graph: GraphApi, targets: ActionTarget[], ctx: ActionContext): Promise<TargetResult[]>;
  };
}
