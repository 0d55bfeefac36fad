/**
 * A remediation action: one fix Vigil can make through Graph, always behind an approval.
 * Each states the exact Graph call in plain words, the permission it needs, its risk, a
 * precondition re-checked just before running, and a read-back that proves it worked.
 */
import type { GraphApi } from '../graph/api';
import type { ActionTarget } from '../store/approvals';

export type Risk = 'low' | 'medium' | 'high';

export type Precondition = { ok: true } | { ok: false; reason: string };

export interface RemediationAction {
  id: string;
  /** Button and card title, e.g. "Require MFA" */
  title: string;
  risk: Risk;
  /** Graph application permission the write needs. */
  permission: string;
  /** The Graph call in plain words, for the approver. */
  preview(target: ActionTarget): string;
  precondition(graph: GraphApi, target: ActionTarget): Promise<Precondition>;
  execute(graph: GraphApi, target: ActionTarget): Promise<void>;
  /** Read the target back; true when the change is in place. Used after execution and to reconcile after a crash. */
  verify(graph: GraphApi, target: ActionTarget): Promise<boolean>;
}
