import template from './approval.json';
import { formatDateTime, literal, render, type Card } from './render';

export interface ApprovalCardView {
  requestId: string;
  state: string;
  actionTitle: string;
  risk: string;
  targets: Array<{ displayName: string; detail?: string }>;
  requesterName: string;
  createdAt: Date;
  expiresAt: Date;
  requiredApprovals: number;
  approvals: Array<{ approverName: string; at: string }>;
  previews: string[];
  decidedByName: string | null;
  decidedAt: Date | null;
  finishedAt: Date | null;
  results: Array<{ displayName: string; outcome: string; message: string }>;
  channelName?: string;
}

const STYLE: Record<string, string> = {
  pending: 'warning',
  approved: 'accent',
  executing: 'accent',
  succeeded: 'good',
  failed: 'attention',
  rejected: 'attention',
  expired: 'default',
  cancelled: 'default',
};

export function approvalCard(v: ApprovalCardView): Card {
  const who = v.decidedByName ? literal(v.decidedByName) : 'someone';
  const at = v.decidedAt ? formatDateTime(v.decidedAt) : '';
  const statusLine: Record<string, string> = {
    pending: `Waiting for ${v.requiredApprovals - v.approvals.length} approval${v.requiredApprovals - v.approvals.length === 1 ? '' : 's'}. Only security approvers can approve, and not the person who asked.`,
    approved: `Approved by ${who} at ${at} — running now.`,
    executing: `Approved by ${who} at ${at} — running now.`,
    succeeded: `Approved by ${who} at ${at} — done.`,
    failed: `Approved by ${who} at ${at} — failed. Nothing more will be tried; see the result below.`,
    rejected: `Rejected by ${who} at ${at}. Nothing was changed.`,
    cancelled: `Cancelled by ${who} at ${at}. Nothing was changed.`,
    expired: `Expired at ${formatDateTime(v.expiresAt)} without a decision. Nothing was changed.`,
  };
  return render(template, {
    heading: v.state === 'pending' ? `Approval needed: ${v.actionTitle}` : `${v.actionTitle}: ${v.state}`,
    statusLine: statusLine[v.state] ?? v.state,
    statusStyle: STYLE[v.state] ?? 'default',
    actionTitle: v.actionTitle,
    targetsText: v.targets.map((t) => `${literal(t.displayName)}${t.detail ? ` (${literal(t.detail)})` : ''}`).join(', '),
    requester: literal(v.requesterName),
    risk: v.risk,
    approvalsText: v.approvals.length
      ? `${v.approvals.map((a) => literal(a.approverName)).join(', ')} (${v.approvals.length} of ${v.requiredApprovals})`
      : `0 of ${v.requiredApprovals}`,
    expires: formatDateTime(v.expiresAt),
    shortId: v.requestId.slice(0, 8),
    previews: v.previews.map((line) => ({ line: literal(line) })),
    results: v.results.map((r) => ({
      line: `${r.outcome === 'done' ? '✔' : r.outcome === 'skipped' ? '–' : '✖'} ${literal(r.displayName)}: ${literal(r.message)}`,
      color: r.outcome === 'done' ? 'Good' : r.outcome === 'skipped' ? 'Warning' : 'Attention',
    })),
    pending: v.state === 'pending',
    requestId: v.requestId,
  });
}
