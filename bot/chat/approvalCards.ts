/**
 * Turns approval records into cards — the base card everyone in the channel sees and each
 * person's own view — and keeps the channel card and the requester up to date.
 */
import { approvalCard, literal, messageCard, type Card } from '../../cards';
import { MAX_REFRESH_USERS, type ApprovalViewer } from '../../cards/approval';
import type { ApproverDirectory } from '../remediation/approvers';
import { findAction } from '../remediation/catalogue';
import type { ApprovalEvents, TargetResult } from '../remediation/workflow';
import type { ApprovalRecord, ApprovalStore, ChannelStore, TeamsUserDirectory } from '../store';
import type { Messenger } from './messenger';

interface Logger {
  warn(obj: object, msg: string): void;
}

export interface ViewOptions {
  viewer?: ApprovalViewer;
  note?: string;
  noteTone?: 'default' | 'good' | 'warning' | 'attention';
  refreshUserIds?: string[];
}

/** Draw one record for one kind of viewer. Pure: the same record gives the same card. */
export function approvalCardFor(r: ApprovalRecord, opts: ViewOptions = {}): Card {
  const action = findAction(r.actionId);
  const results = (r.result?.targets ?? []) as TargetResult[];
  return approvalCard({
    requestId: r.id,
    state: r.state,
    actionTitle: action?.title ?? r.actionId,
    risk: action?.risk ?? 'unknown',
    permission: action ? `${action.permission} (Graph application permission)` : '',
    targets: r.targets,
    requesterName: r.requesterName,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    requiredApprovals: r.requiredApprovals,
    approvals: r.approvals,
    previews: r.summary.split('\n'),
    decidedByName: r.decidedByName,
    decidedAt: r.decidedAt,
    finishedAt: r.finishedAt,
    results,
    ...opts,
  });
}

/**
 * Who sees what. Approvers (and the requester) are named in the card's `refresh.userIds` by
 * their Teams ids, which Vigil learns when they talk to it; Teams then asks Vigil for their own
 * view whenever they look at the card. Answering that is read-only: it never edits the message.
 */
export class ApprovalViews {
  constructor(
    private readonly approvers: ApproverDirectory,
    private readonly teamsUsers: TeamsUserDirectory,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Teams ids that get their own view automatically: approvers, then the requester; nobody once decided. */
  async refreshUserIds(r: ApprovalRecord): Promise<string[]> {
    if (r.state !== 'pending') return [];
    const approverIds = await this.approvers.list(r.tenantId).catch((err: unknown) => {
      this.log.warn({ err: String(err), tenantId: r.tenantId }, 'could not list approvers for card refresh');
      return [] as string[];
    });
    const requester = r.requesterId.toLowerCase();
    const wanted = [...approverIds.filter((id) => id !== requester).slice(0, MAX_REFRESH_USERS - 1), requester];
    return this.teamsUsers.teamsIds(r.tenantId, wanted);
  }

  /** The card everyone sees (and that is posted and edited in the channel). */
  async base(r: ApprovalRecord): Promise<Card> {
    return approvalCardFor(r, { viewer: 'base', refreshUserIds: await this.refreshUserIds(r) });
  }

  /** The card for one person: Approve / Reject for an approver who may still decide, Cancel for the requester. */
  async forViewer(r: ApprovalRecord, viewerId: string, extra: Pick<ViewOptions, 'note' | 'noteTone'> = {}): Promise<Card> {
    const shown = this.asOfNow(r);
    const refreshUserIds = await this.refreshUserIds(shown);
    const pending = shown.state === 'pending';
    const own = sameId(shown.requesterId, viewerId);
    const approver = !own && pending && (await this.approvers.isApprover(shown.tenantId, viewerId).catch(() => false));
    const approvedAlready = shown.approvals.some((a) => sameId(a.approverId, viewerId));
    let viewer: ApprovalViewer = 'other';
    let note = '';
    if (pending && own) {
      viewer = 'requester';
      note = 'You asked for this fix; a security approver decides. You can cancel it while it waits.';
    } else if (approver && approvedAlready) {
      const left = shown.requiredApprovals - shown.approvals.length;
      note = `You approved this. ${left} more approver${left === 1 ? '' : 's'} needed.`;
    } else if (approver) {
      viewer = 'approver';
    } else if (pending) {
      note = 'Only security approvers can approve or reject fixes.';
    }
    return approvalCardFor(shown, { viewer, note: extra.note ?? note, noteTone: extra.noteTone, refreshUserIds });
  }

  /** A pending request past its expiry is shown as expired (the sweep will record it; a view never writes). */
  private asOfNow(r: ApprovalRecord): ApprovalRecord {
    return r.state === 'pending' && r.expiresAt.getTime() <= this.now().getTime() ? { ...r, state: 'expired' } : r;
  }
}

/** The requester hears about decisions and outcomes in the chat they asked from. */
function requesterNotice(r: ApprovalRecord): Card | undefined {
  const action = findAction(r.actionId)?.title ?? r.actionId;
  const targets = r.targets.length > 3 ? `${r.targets.length} accounts` : r.targets.map((t) => literal(t.displayName)).join(', ');
  const by = literal(r.approvals.length ? r.approvals.map((a) => a.approverName).join(' and ') : (r.decidedByName ?? ''));
  switch (r.state) {
    case 'succeeded':
      return messageCard(`Done: ${action} for ${targets}`, `Approved by ${by} and confirmed in Microsoft 365.`, 'good');
    case 'failed':
      return messageCard(`Failed: ${action} for ${targets}`, `Approved by ${by}, but it did not complete. The approval card in the channel has the details.`, 'attention');
    case 'rejected':
      return messageCard(`Rejected: ${action} for ${targets}`, `${literal(r.decidedByName ?? '')} rejected the request. Nothing was changed.`, 'warning');
    case 'expired':
      return messageCard(`Expired: ${action} for ${targets}`, 'Nobody decided in time. Nothing was changed; ask again if it is still needed.', 'warning');
    default:
      return undefined;
  }
}

export class ApprovalNotifier implements ApprovalEvents {
  constructor(
    private readonly messenger: Messenger,
    private readonly channels: ChannelStore,
    private readonly approvals: ApprovalStore,
    private readonly views: ApprovalViews,
    private readonly log: Logger,
  ) {}

  async requested(r: ApprovalRecord): Promise<void> {
    const channel = await this.channels.get(r.tenantId, 'approvals');
    if (!channel) return;
    const message = await this.messenger.post(channel.ref, await this.views.base(r));
    await this.approvals.setChannelRef(r.id, message);
  }

  async changed(r: ApprovalRecord): Promise<void> {
    // Failing to redraw a card must never undo or block the decision itself.
    const ref = r.channelRef ?? (await this.approvals.get(r.id))?.channelRef;
    if (ref) {
      await this.views
        .base(r)
        .then((card) => this.messenger.update(ref, card))
        .catch((err) => this.log.warn({ err: String(err), requestId: r.id }, 'could not update approval card'));
    }
    const notice = requesterNotice(r);
    if (notice && r.requesterRef) {
      await this.messenger.post(r.requesterRef, notice).catch((err) => this.log.warn({ err: String(err), requestId: r.id }, 'could not notify requester'));
    }
  }
}

function sameId(a: string | undefined, b: string | undefined): boolean {
  return Boolean(a && b && a.toLowerCase() === b.toLowerCase());
}
