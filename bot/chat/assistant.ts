/**
 * The conversation, without Teams: what Vigil answers to a message and to a card action.
 * Card actions carry only a random reference (or a request id); their meaning is looked up
 * server-side, bound to the tenant the activity came from.
 */
import { helpCard, literal, messageCard, mfaRegistrationCard, type Card } from '../../cards';
import { findCheck, type CheckRunner } from '../checks';
import { daysSince, mfaRegistration, type MfaRegistrationData } from '../checks/mfaRegistration';
import type { CheckResult } from '../checks/types';
import type { ApproverDirectory } from '../remediation/approvers';
import { findAction } from '../remediation/catalogue';
import type { ApprovalWorkflow } from '../remediation/workflow';
import type { ActionTarget, ApprovalRecord, Store } from '../store';
import { approvalCardFor } from './approvalCards';
import { parseIntent } from './intents';
import type { ActionReply, ChatContext, ChatReply } from './messenger';

const PAGE_SIZE = 10;
const REF_TTL_MS = 24 * 60 * 60_000;

interface ViewPayload {
  checkId: string;
  page: number;
}

interface OfferPayload {
  actionId: string;
  target: ActionTarget;
  checkId: string;
  page: number;
}

export interface AssistantDeps {
  store: Store;
  checks: CheckRunner;
  workflow: ApprovalWorkflow;
  approvers: ApproverDirectory;
  now?: () => Date;
}

export const HELP_QUESTIONS = [
  { say: 'who lacks MFA?', does: 'People without MFA, newest joiners first, with a fix button for each' },
  { say: 'help', does: 'This list' },
];

export const APPROVER_COMMANDS = [{ say: '@Vigil use this channel for approvals', does: 'Fix requests are posted here for approval' }];

export class Assistant {
  private readonly now: () => Date;

  constructor(private readonly deps: AssistantDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async onMessage(ctx: ChatContext, text: string): Promise<ChatReply> {
    const intent = parseIntent(text);
    switch (intent.kind) {
      case 'check':
        return { card: await this.answerCheck(ctx, intent.checkId, 0) };
      case 'set-channel':
        return { card: await this.setChannel(ctx, intent.purpose) };
      case 'help':
        return { card: this.help() };
      default:
        return { card: this.help(`I did not understand “${literal(text.replace(/<[^>]+>/g, '').trim().slice(0, 200))}”. Here is what I can do.`) };
    }
  }

  async onAction(ctx: ChatContext, verb: string, data: Record<string, unknown>): Promise<ActionReply> {
    switch (verb) {
      case 'vigil.page':
        return this.showPage(ctx, data.ref);
      case 'vigil.fix':
        return this.requestFix(ctx, data.ref);
      case 'vigil.approve':
      case 'vigil.reject':
      case 'vigil.cancel':
        return this.decide(ctx, verb, data.requestId);
      default:
        return { card: this.help('That button is not one I know. Here is what I can do.') };
    }
  }

  help(intro?: string): Card {
    return helpCard({ intro, questions: HELP_QUESTIONS, approverCommands: APPROVER_COMMANDS });
  }

  private async answerCheck(ctx: ChatContext, checkId: string, page: number): Promise<Card> {
    const check = findCheck(checkId);
    if (!check) return this.help();
    const result = await this.deps.checks.run(check, ctx.tenantId);
    return this.renderMfa(ctx, result as CheckResult<MfaRegistrationData>, page);
  }

  private async renderMfa(ctx: ChatContext, result: CheckResult<MfaRegistrationData>, page: number): Promise<Card> {
    const now = this.now();
    const data = result.data;
    const people = data?.membersLacking ?? [];
    const lastPage = Math.max(0, Math.ceil(people.length / PAGE_SIZE) - 1);
    const p = Math.min(Math.max(0, page), lastPage);
    const shown = people.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    const open = await this.openRequestsByTarget(ctx.tenantId, 'mfa.require');
    const fixed = await this.fixedTargets(ctx.tenantId, 'mfa.require', now);
    const channel = await this.deps.store.channels.get(ctx.tenantId, 'approvals');
    const rows = [];
    for (const person of shown) {
      const pending = open.get(person.id);
      const done = fixed.get(person.id);
      const fixRef = pending || done
        ? ''
        : await this.putRef<OfferPayload>(ctx, 'offer', {
            actionId: 'mfa.require',
            target: { id: person.id, displayName: person.displayName, detail: person.userPrincipalName },
            checkId: mfaRegistration.id,
            page: p,
          });
      rows.push({
        displayName: person.displayName,
        userPrincipalName: person.userPrincipalName,
        daysSinceJoined: daysSince(person.createdDateTime, now),
        isAdmin: person.isAdmin,
        fixRef,
        status: pending
          ? `Awaiting approval${channel?.name ? ` in ${literal(channel.name)}` : ''}`
          : done
            ? `MFA enforced on ${done.finishedAt!.toISOString().slice(0, 10)}; they must register at next sign-in`
            : '',
      });
    }
    const moreRef = p < lastPage ? await this.putRef<ViewPayload>(ctx, 'view', { checkId: mfaRegistration.id, page: p + 1 }) : '';
    return mfaRegistrationCard({
      enabledMembers: data?.enabledMembers ?? null,
      lackingCount: people.length,
      guestsLacking: data?.guestsLacking ?? 0,
      source: data?.source ?? 'report',
      people: rows,
      firstIndex: p * PAGE_SIZE + 1,
      moreRef,
      gaps: result.gaps,
      unknown: result.status === 'unknown',
    });
  }

  private async showPage(ctx: ChatContext, ref: unknown): Promise<ActionReply> {
    const view = await this.deps.store.cardRefs.get<ViewPayload>(ref, ctx.tenantId, 'view', this.now());
    if (!view) return { message: 'This card is out of date. Ask me again for a fresh answer.' };
    return { card: await this.answerCheck(ctx, view.checkId, view.page) };
  }

  private async requestFix(ctx: ChatContext, ref: unknown): Promise<ActionReply> {
    const offer = await this.deps.store.cardRefs.get<OfferPayload>(ref, ctx.tenantId, 'offer', this.now());
    if (!offer || !findAction(offer.actionId)) return { message: 'This card is out of date. Ask me again for a fresh answer.' };
    const channel = await this.deps.store.channels.get(ctx.tenantId, 'approvals');
    if (!channel) {
      return {
        card: messageCard(
          'No approvals channel yet',
          'Fixes go to your security approvers first. Ask an approver to say “@Vigil use this channel for approvals” in the team channel where they work, then try again.',
          'warning',
        ),
      };
    }
    const open = await this.openRequestsByTarget(ctx.tenantId, offer.actionId);
    if (!open.has(offer.target.id)) {
      const outcome = await this.deps.workflow.request({
        tenantId: ctx.tenantId,
        actionId: offer.actionId,
        targets: [offer.target],
        requester: ctx.user,
        requesterRef: ctx.conversation.ref,
      });
      if (!outcome.ok) return { card: messageCard('I could not send that for approval', outcome.message, 'attention') };
    }
    const check = findCheck(offer.checkId)!;
    const result = await this.deps.checks.run(check, ctx.tenantId);
    const card = await this.renderMfa(ctx, result as CheckResult<MfaRegistrationData>, offer.page);
    return { card: withBanner(card, `Sent for approval to ${literal(channel.name ?? 'the approvals channel')}: ${findAction(offer.actionId)!.title} for ${literal(offer.target.displayName)}. I will tell you here when it is decided.`) };
  }

  private async decide(ctx: ChatContext, verb: string, requestId: unknown): Promise<ActionReply> {
    if (typeof requestId !== 'string') return { message: 'I cannot find that request.' };
    const actor = { id: ctx.user.id, name: ctx.user.name, tenantId: ctx.tenantId };
    const wf = this.deps.workflow;
    const outcome =
      verb === 'vigil.approve' ? await wf.approve(requestId, actor) : verb === 'vigil.reject' ? await wf.reject(requestId, actor) : await wf.cancel(requestId, actor);
    if (!outcome.ok) {
      // The clicker keeps seeing the card as it is for everyone, plus why nothing happened.
      return outcome.record ? { card: withBanner(approvalCardFor(outcome.record), outcome.message) } : { message: outcome.message };
    }
    const latest = (await this.deps.store.approvals.get(requestId)) ?? outcome.record;
    if (latest.state === 'succeeded') this.deps.checks.invalidate(ctx.tenantId);
    return { card: approvalCardFor(latest) };
  }

  private async setChannel(ctx: ChatContext, purpose: 'approvals' | 'alerts'): Promise<Card> {
    if (ctx.conversation.kind !== 'channel') {
      return messageCard('Say that in a team channel', `Go to the team channel where your approvers work and say “@Vigil use this channel for ${purpose}” there.`, 'warning');
    }
    if (!(await this.deps.approvers.isApprover(ctx.tenantId, ctx.user.id))) {
      return messageCard('Only security approvers can do that', `Ask one of your security approvers to choose the ${purpose} channel.`, 'attention');
    }
    await this.deps.store.channels.set({
      tenantId: ctx.tenantId,
      purpose,
      ref: ctx.conversation.ref,
      name: ctx.conversation.name ?? null,
      setBy: ctx.user.id,
      setAt: this.now(),
    });
    await this.deps.store.audit.append(
      { tenantId: ctx.tenantId, actorId: ctx.user.id, actorName: ctx.user.name, event: 'channel-set', detail: { purpose, channel: ctx.conversation.name ?? null } },
      this.now(),
    );
    return messageCard(
      `This channel now receives ${purpose}`,
      purpose === 'approvals'
        ? 'When someone asks for a fix, the approval request appears here. Only security approvers can approve, and never their own request.'
        : 'New security findings will be posted here.',
      'good',
    );
  }

  private async openRequestsByTarget(tenantId: string, actionId: string): Promise<Map<string, ApprovalRecord>> {
    const open = await this.deps.store.approvals.open(tenantId);
    const map = new Map<string, ApprovalRecord>();
    for (const r of open) if (r.actionId === actionId) for (const t of r.targets) map.set(t.id, r);
    return map;
  }

  /** Targets a fix already succeeded for in the last 30 days: show that instead of offering it again. */
  private async fixedTargets(tenantId: string, actionId: string, now: Date): Promise<Map<string, ApprovalRecord>> {
    const since = new Date(now.getTime() - 30 * 86_400_000);
    const map = new Map<string, ApprovalRecord>();
    for (const r of await this.deps.store.approvals.succeededSince(tenantId, actionId, since)) for (const t of r.targets) map.set(t.id, r);
    return map;
  }

  private putRef<T>(ctx: ChatContext, kind: string, payload: T): Promise<string> {
    return this.deps.store.cardRefs.put({ tenantId: ctx.tenantId, userId: ctx.user.id, kind, payload, ttlMs: REF_TTL_MS }, this.now());
  }
}

/** Put a one-line notice at the top of a card (e.g. "Sent for approval to Security"). */
function withBanner(card: Card, text: string): Card {
  const body = Array.isArray(card.body) ? card.body : [];
  return {
    ...card,
    body: [{ type: 'Container', style: 'emphasis', items: [{ type: 'TextBlock', text, wrap: true, weight: 'Bolder' }] }, ...body],
  };
}
