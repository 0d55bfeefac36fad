/** Turns approval records into cards and keeps the channel card and the requester up to date. */
import { approvalCard, literal, messageCard, type Card } from '../../cards';
import { findAction } from '../remediation/catalogue';
import type { ApprovalEvents } from '../remediation/workflow';
import type { ApprovalRecord, ApprovalStore, ChannelStore } from '../store';
import type { Messenger } from './messenger';

interface Logger {
  warn(obj: object, msg: string): void;
}

export function approvalCardFor(r: ApprovalRecord): Card {
  const action = findAction(r.actionId);
  const results = ((r.result?.targets ?? []) as Array<{ displayName: string; outcome: string; message: string }>) ?? [];
  return approvalCard({
    requestId: r.id,
    state: r.state,
    actionTitle: action?.title ?? r.actionId,
    risk: action?.risk ?? 'unknown',
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
  });
}

/** The requester hears about decisions and outcomes in the chat they asked from. */
function requesterNotice(r: ApprovalRecord): Card | undefined {
  const action = findAction(r.actionId)?.title ?? r.actionId;
  const targets = r.targets.map((t) => literal(t.displayName)).join(', ');
  const by = literal(r.decidedByName ?? '');
  switch (r.state) {
    case 'succeeded':
      return messageCard(`Done: ${action} for ${targets}`, `Approved by ${by} and confirmed in Microsoft 365.`, 'good');
    case 'failed':
      return messageCard(`Failed: ${action} for ${targets}`, `Approved by ${by}, but it did not complete. The approval card in the channel has the details.`, 'attention');
    case 'rejected':
      return messageCard(`Rejected: ${action} for ${targets}`, `${by} rejected the request. Nothing was changed.`, 'warning');
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
    private readonly log: Logger,
  ) {}

  async requested(r: ApprovalRecord): Promise<void> {
    const channel = await this.channels.get(r.tenantId, 'approvals');
    if (!channel) return;
    const message = await this.messenger.post(channel.ref, approvalCardFor(r));
    await this.approvals.setChannelRef(r.id, message);
  }

  async changed(r: ApprovalRecord): Promise<void> {
    // Failing to redraw a card must never undo or block the decision itself.
    const ref = r.channelRef ?? (await this.approvals.get(r.id))?.channelRef;
    if (ref) await this.messenger.update(ref, approvalCardFor(r)).catch((err) => this.log.warn({ err: String(err), requestId: r.id }, 'could not update approval card'));
    const notice = requesterNotice(r);
    if (notice && r.requesterRef) {
      await this.messenger.post(r.requesterRef, notice).catch((err) => this.log.warn({ err: String(err), requestId: r.id }, 'could not notify requester'));
    }
  }
}
