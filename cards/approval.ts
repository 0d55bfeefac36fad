/**
 * The approval card. One base card that everyone in the approvals channel sees (status, what
 * will change, no decision buttons), and per-person views Teams fetches through the card's
 * `refresh` (Universal Actions, user-specific views): approvers get Approve / Reject, the
 * requester gets Cancel. `refresh.userIds` names at most 60 people (Teams' limit).
 */
import template from './approval.json';
import { formatDateTime, literal, render, type Card } from './render';

/** Who the card is drawn for. */
export type ApprovalViewer = 'base' | 'approver' | 'requester' | 'other';

export interface ApprovalCardView {
  requestId: string;
  state: string;
  actionTitle: string;
  risk: string;
  permission: string;
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
  results: Array<{ displayName: string; outcome: string; message: string; errorCode?: string }>;
  viewer?: ApprovalViewer;
  /** One line for this viewer ("You approved; 1 more approver needed"). */
  note?: string;
  noteTone?: 'default' | 'good' | 'warning' | 'attention';
  /** Teams user ids that get their own view automatically (pending requests only). */
  refreshUserIds?: string[];
}

/** Teams refreshes user-specific views for at most this many users. */
export const MAX_REFRESH_USERS = 60;
/** Long lists (bulk requests) are shortened on the card; the audit trail keeps everything. */
const MAX_LINES = 10;

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

const TONE = { default: 'Default', good: 'Good', warning: 'Warning', attention: 'Attention' } as const;

export function approvalCard(v: ApprovalCardView): Card {
  const who = v.decidedByName ? literal(v.decidedByName) : 'someone';
  const at = v.decidedAt ? formatDateTime(v.decidedAt) : '';
  const left = v.requiredApprovals - v.approvals.length;
  const statusLine: Record<string, string> = {
    pending: `Waiting for ${left} approval${left === 1 ? '' : 's'}. Only security approvers can approve, and not the person who asked.`,
    approved: `Approved by ${approverNames(v, who)} at ${at} — running now.`,
    executing: `Approved by ${approverNames(v, who)} at ${at} — running now.`,
    succeeded: `Approved by ${approverNames(v, who)} at ${at} — done.`,
    failed: `Approved by ${approverNames(v, who)} at ${at} — failed. Nothing more will be tried; see the result below.`,
    rejected: `Rejected by ${who} at ${at}. Nothing was changed.`,
    cancelled: `Cancelled by ${who} at ${at}. Nothing was changed.`,
    expired: `Expired at ${formatDateTime(v.expiresAt)} without a decision. Nothing was changed.`,
  };
  const pending = v.state === 'pending';
  const viewer = v.viewer ?? 'base';
  const card = render(template, {
    heading: pending ? `Approval needed: ${v.actionTitle}` : `${v.actionTitle}: ${v.state}`,
    statusLine: statusLine[v.state] ?? v.state,
    statusStyle: STYLE[v.state] ?? 'default',
    note: v.note ?? '',
    noteColor: TONE[v.noteTone ?? 'default'],
    actionTitle: v.actionTitle,
    targetsText: targetsText(v.targets),
    requester: literal(v.requesterName),
    risk: `${v.risk}${v.requiredApprovals > 1 ? ` — needs ${v.requiredApprovals} different approvers` : ''}`,
    permission: v.permission,
    approvalsText: v.approvals.length
      ? `${v.approvals.map((a) => literal(a.approverName)).join(', ')} (${v.approvals.length} of ${v.requiredApprovals})`
      : `0 of ${v.requiredApprovals}`,
    expires: formatDateTime(v.expiresAt),
    shortId: literal(v.requestId.slice(0, 8)),
    previews: shorten(v.previews.map((line) => literal(line)), (n) => `… and ${n} more, the same call for each.`).map((line) => ({ line })),
    results: resultLines(v.results),
    showDecide: pending && viewer === 'approver',
    showCancel: pending && viewer === 'requester',
    showRefresh: pending && viewer === 'base',
    requestId: v.requestId,
  });
  if (pending && v.refreshUserIds?.length) {
    card.refresh = {
      action: { type: 'Action.Execute', title: 'Refresh', verb: 'vigil.refresh', data: { verb: 'vigil.refresh', requestId: v.requestId } },
      userIds: v.refreshUserIds.slice(0, MAX_REFRESH_USERS),
    };
  }
  return card;
}

function approverNames(v: ApprovalCardView, fallback: string): string {
  return v.approvals.length ? v.approvals.map((a) => literal(a.approverName)).join(' and ') : fallback;
}

function targetsText(targets: ApprovalCardView['targets']): string {
  const names = targets.map((t) => `${literal(t.displayName)}${t.detail ? ` (${literal(t.detail)})` : ''}`);
  if (names.length <= MAX_LINES) return names.join(', ');
  return `${targets.length} accounts: ${names.slice(0, MAX_LINES).join(', ')} and ${names.length - MAX_LINES} more`;
}

function shorten(lines: string[], more: (n: number) => string): string[] {
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), more(lines.length - MAX_LINES)];
}

const MARK: Record<string, string> = { done: '✔', skipped: '–', failed: '✖' };
const COLOR: Record<string, string> = { done: 'Good', skipped: 'Warning', failed: 'Attention' };

/** One line per target; a long run of successes is summed up so failures stay visible. */
function resultLines(results: ApprovalCardView['results']): Array<{ line: string; color: string }> {
  const line = (r: ApprovalCardView['results'][number]) => ({
    line: `${MARK[r.outcome] ?? '✖'} ${literal(r.displayName)}: ${literal(r.message)}${r.errorCode && !r.message.includes(r.errorCode) ? ` (Graph error ${literal(r.errorCode)})` : ''}`,
    color: COLOR[r.outcome] ?? 'Attention',
  });
  if (results.length <= MAX_LINES) return results.map(line);
  const done = results.filter((r) => r.outcome === 'done');
  const rest = results.filter((r) => r.outcome !== 'done');
  const shown = rest.slice(0, MAX_LINES).map(line);
  if (rest.length > MAX_LINES) shown.push({ line: `… and ${rest.length - MAX_LINES} more not done (the audit log has each one).`, color: 'Attention' });
  return [{ line: `✔ ${done.length} of ${results.length} done and confirmed by reading them back.`, color: 'Good' }, ...shown];
}
