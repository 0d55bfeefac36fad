/**
 * Alert delivery and the alert card's buttons. An alert becomes one digest card in the tenant's
 * alerts channel (or its approvals channel when no alerts channel is set). If Teams says the
 * channel can no longer be written to, the channel is marked unreachable and the approvers who
 * have talked to Vigil are told in their personal chat; the alert is kept as undeliverable.
 */
import { alertCard, literal, messageCard, type AlertItemView, type Card } from '../../cards';
import { findCheck } from '../checks';
import { findAction } from '../remediation/catalogue';
import type { AlertRecord, CardRefBatch, ChannelRecord, Store, StoredFinding } from '../store';
import { ConversationUnreachableError, type Messenger } from './messenger';

const MAX_ITEMS = 8;
const REF_TTL_MS = 30 * 86_400_000;
const SNOOZE_MS = 7 * 86_400_000;
const MAX_ATTEMPTS = 6;

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AlertDeliveryDeps {
  store: Store;
  messenger: Messenger;
  tenantName(tenantId: string): Promise<string>;
  /** May this user acknowledge/snooze alerts of this tenant? */
  isApprover(tenantId: string, userId: string): Promise<boolean>;
  log: Logger;
  now?: () => Date;
}

export interface AckPayload {
  key: string;
  alertId: string;
}

export class AlertDelivery {
  private readonly now: () => Date;

  constructor(private readonly deps: AlertDeliveryDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async deliver(alert: AlertRecord): Promise<void> {
    const { store } = this.deps;
    const channel = await this.alertChannel(alert.tenantId);
    if (!channel || channel.unreachableSince) {
      await store.watch.markAlert(alert.id, 'undeliverable', { error: channel ? 'channel unreachable' : 'no alerts or approvals channel set', at: this.now() });
      return;
    }
    try {
      const card = await this.render(alert);
      const ref = await this.deps.messenger.post(channel.ref, card);
      await store.watch.markAlert(alert.id, 'sent', { messageRef: ref, at: this.now() });
    } catch (err) {
      if (err instanceof ConversationUnreachableError) {
        await this.channelUnreachable(alert, channel, err);
        return;
      }
      const status = alert.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
      await store.watch.markAlert(alert.id, status, { error: (err as Error).message.slice(0, 300), at: this.now() });
      this.deps.log.warn({ alertId: alert.id, tenantId: alert.tenantId, attempts: alert.attempts, err: { message: (err as Error).message } }, 'alert not delivered');
    }
  }

  /** The alert's card, with fresh button refs and each finding's current state. */
  async render(alert: AlertRecord, banner?: string): Promise<Card> {
    const findings = await this.deps.store.watch.findings(alert.tenantId, alert.findingKeys);
    const byKey = new Map(findings.map((f) => [f.key, f]));
    const items: AlertItemView[] = [];
    const refs = this.deps.store.cardRefs.batch(this.now());
    for (const key of alert.findingKeys.slice(0, MAX_ITEMS)) {
      const f = byKey.get(key);
      if (f) items.push(this.item(alert, f, refs));
    }
    await refs.save();
    return alertCard({
      tenantName: await this.deps.tenantName(alert.tenantId),
      scannedAt: alert.createdAt,
      items,
      more: Math.max(0, alert.findingKeys.length - MAX_ITEMS),
      banner,
    });
  }

  /** Acknowledge or snooze from the card; only approvers of the alert's tenant may. */
  async act(verb: 'vigil.ack' | 'vigil.snooze', payload: AckPayload, tenantId: string, user: { id: string; name: string }): Promise<Card | string> {
    if (!(await this.deps.isApprover(tenantId, user.id))) return 'Only security approvers can acknowledge or snooze alerts.';
    const now = this.now();
    const ok =
      verb === 'vigil.ack'
        ? await this.deps.store.watch.acknowledge(tenantId, payload.key, user.id, now)
        : await this.deps.store.watch.snooze(tenantId, payload.key, new Date(now.getTime() + SNOOZE_MS));
    await this.deps.store.audit.append({ tenantId, actorId: user.id, actorName: user.name, event: verb === 'vigil.ack' ? 'alert-acknowledged' : 'alert-snoozed', detail: { key: payload.key, alertId: payload.alertId } }, now);
    const alert = (await this.deps.store.watch.alertHistory(tenantId, 200)).find((a) => a.id === payload.alertId);
    const banner = ok ? (verb === 'vigil.ack' ? `Acknowledged by ${literal(user.name)}: I will not alert on it again unless it is fixed and comes back.` : `Snoozed for 7 days by ${literal(user.name)}.`) : 'That finding is no longer open.';
    return alert ? this.render(alert, banner) : banner;
  }

  private item(alert: AlertRecord, f: StoredFinding, refs: CardRefBatch): AlertItemView {
    const finding = f.finding as { subject?: { displayName?: string; userPrincipalName?: string }; detail?: string; remediation?: string | null; target?: Record<string, unknown>; checkTitle?: string };
    const check = findCheck(f.checkId);
    const action = finding.remediation ? findAction(finding.remediation) : undefined;
    const now = this.now();
    const open = f.resolvedAt === null;
    const acked = f.ackedAt !== null;
    const snoozed = f.snoozedUntil !== null && f.snoozedUntil > now;
    const put = (kind: string, payload: unknown) => refs.add({ tenantId: alert.tenantId, kind, payload, ttlMs: REF_TTL_MS });
    const subject = finding.subject ?? {};
    const target = finding.target ?? { id: String((f.finding as { subject?: { id?: string } }).subject?.id ?? ''), displayName: subject.displayName ?? '', detail: subject.userPrincipalName };
    const actionable = open && !acked && !snoozed;
    return {
      checkTitle: finding.checkTitle ?? check?.title ?? f.checkId,
      severity: f.severity,
      subject: subject.displayName ? `${subject.displayName}${subject.userPrincipalName ? ` (${subject.userPrincipalName})` : ''}` : '',
      detail: finding.detail ?? '',
      why: check?.why ?? '',
      fixRef: actionable && action ? put('offer', { actionId: action.id, target, checkId: f.checkId, page: 0, alertId: alert.id }) : '',
      fixTitle: action?.title ?? '',
      ackRef: actionable ? put('ack', { key: f.key, alertId: alert.id } satisfies AckPayload) : '',
      snoozeRef: actionable ? put('snooze', { key: f.key, alertId: alert.id } satisfies AckPayload) : '',
      status: !open ? 'Resolved since.' : acked ? 'Acknowledged.' : snoozed ? `Snoozed until ${f.snoozedUntil!.toISOString().slice(0, 10)}.` : '',
    };
  }

  private async alertChannel(tenantId: string): Promise<ChannelRecord | undefined> {
    const alerts = await this.deps.store.channels.get(tenantId, 'alerts');
    return alerts ?? (await this.deps.store.channels.get(tenantId, 'approvals'));
  }

  private async channelUnreachable(alert: AlertRecord, channel: ChannelRecord, err: Error): Promise<void> {
    const now = this.now();
    await this.deps.store.watch.markChannelUnreachable(channel.tenantId, channel.purpose, now);
    await this.deps.store.watch.markAlert(alert.id, 'undeliverable', { error: err.message.slice(0, 300), at: now });
    const notice = messageCard(
      'I cannot post alerts any more',
      `Teams refuses my messages in ${literal(channel.name ?? 'the alerts channel')} (the channel may be archived or Vigil removed). Say "@Vigil use this channel for alerts" in a channel where I can post.`,
      'attention',
    );
    for (const c of await this.deps.store.watch.userConversations(channel.tenantId)) {
      if (!(await this.deps.isApprover(channel.tenantId, c.userId).catch(() => false))) continue;
      await this.deps.messenger.post(c.ref, notice).catch(() => undefined);
    }
    this.deps.log.warn({ tenantId: channel.tenantId, purpose: channel.purpose }, 'channel unreachable; approvers told');
  }

  /** Verbs this class answers. */
  static handles(verb: string): verb is 'vigil.ack' | 'vigil.snooze' {
    return verb === 'vigil.ack' || verb === 'vigil.snooze';
  }
}

export const ALERT_SNOOZE_MS = SNOOZE_MS;
