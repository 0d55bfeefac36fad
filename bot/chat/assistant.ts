/**
 * The conversation, without Teams: what Vigil answers to a message and to a card action.
 * Card actions carry only a random reference (or a request id); their meaning is looked up
 * server-side, bound to the tenant the activity came from.
 */
import { helpCard, literal, messageCard, tenantsCard, type Card } from '../../cards';
import { auditLogCard, type AuditLogRowView } from '../../cards/auditLog';
import { formatDateTime } from '../../cards/render';
import { CHECKS, findCheck, type CheckRunner } from '../checks';
import type { Check, CheckResult } from '../checks/types';
import type { ApproverDirectory } from '../remediation/approvers';
import type { AuditExports } from '../remediation/auditTrail';
import { allActions, findAction } from '../remediation/catalogue';
import { targetKey, type ApprovalWorkflow } from '../remediation/workflow';
import type { ActionTarget, ApprovalRecord, AuditRow, CardRefBatch, Store, TeamsUserDirectory } from '../store';
import type { ApprovalViews } from './approvalCards';
import { renderCheckCard, type RenderedFinding } from './checkCards';
import { renderPosture, runAllChecks } from './posture';
import { isTenantSpecific, parseIntent, type Intent } from './intents';
import type { AlertDelivery, AckPayload } from './alerts';
import type { Tenancy } from './tenancy';
import type { ServedTenant } from '../tenants/directory';
import type { WatchCommands } from './watchCommands';
import type { ActionReply, ChatContext, ChatReply } from './messenger';
import type { ReportChat } from './reports';
import { ConcurrentReads } from './concurrentReads';

const PAGE_SIZE = 10;
/**
 * How long answers reuse a tenant's fixes in flight and approvals channel (one read per second
 * instead of one per answer under load). At worst a card drawn within a second of a request made
 * in another process offers its button again; clicking it answers "Already waiting for approval".
 */
const OFFER_STATE_KEEP_MS = 1_000;
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
  /** Set when offered on an alert card: the answer is that alert card again. */
  alertId?: string;
}

/** "Which tenant?": the question to ask again about the tenant picked. */
interface PickPayload {
  text: string;
}

/** "Require MFA for all N shown": one request for every target offered on one page. */
interface BulkOfferPayload {
  actionId: string;
  targets: ActionTarget[];
  checkId: string;
  page: number;
}

/** What a tenant's fix buttons depend on (read-only: shared by concurrent answers). */
interface OfferState {
  inFlight: { open: Map<string, ApprovalRecord>; fixed: Map<string, ApprovalRecord> };
  channelName: string | null;
}

/** How many entries "show recent approvals" and "audit log" list. */
const RECENT = 20;

export interface AssistantDeps {
  store: Store;
  checks: CheckRunner;
  workflow: ApprovalWorkflow;
  approvers: ApproverDirectory;
  /** Approval cards per viewer (Approve / Reject for approvers, Cancel for the requester). */
  views: ApprovalViews;
  /** The audit trail's CSV download links. */
  exports: AuditExports;
  /** Teams ids of the people Vigil talks to (for approval cards' user-specific views). */
  teamsUsers: TeamsUserDirectory;
  /** "report" and "export … as CSV" (absent: those phrases get the help card). */
  reports?: ReportChat;
  /** "doctor" (approvers only): the Graph app's granted permissions against what Vigil needs, as a card. */
  doctor?: (tenantId: string) => Promise<Card>;
  /** MSP mode: which tenant a question is about and who may see which (absent: the activity's tenant only). */
  tenancy?: Tenancy;
  /** Alerts, scans and the tenant registry in chat. */
  watch?: WatchCommands;
  /** Alert cards' Acknowledge / Snooze, and redrawing an alert after a fix was asked from it. */
  alerts?: AlertDelivery;
  now?: () => Date;
}

/** The help card's questions: one per check, in the order checks are registered. */
export function helpQuestions(): Array<{ say: string; does: string }> {
  return [
    { say: 'how are we doing?', does: 'Security posture: every check at a glance, the Secure Score, the top 3 fixes' },
    ...CHECKS.map((c) => ({ say: c.ask, does: c.title })),
    { say: 'report', does: 'A one-page PDF of the whole picture, to hand to the boss' },
    { say: 'export forwarding rules as CSV', does: 'Any check\u2019s findings as a spreadsheet' },
    { say: 'help', does: 'This list' },
  ];
}

export const APPROVER_COMMANDS = [
  { say: '@Vigil use this channel for approvals', does: 'Fix requests are posted here for approval' },
  { say: 'show recent approvals', does: `The last ${RECENT} fix requests and how they ended` },
  { say: 'audit log', does: `The last ${RECENT} entries of the audit trail, with a CSV download of all of it` },
  { say: 'doctor', does: 'Which Graph permissions Vigil\u2019s app has, and which it lacks' },
];

/** The help card's list of fixes: what each needs from Graph and how many approvers. */
export function helpFixes(workflow: ApprovalWorkflow): Array<{ say: string; does: string }> {
  return allActions().map((a) => {
    const approvers = workflow.requiredApprovals(a);
    return { say: a.title, does: `${a.permission} · ${a.risk} risk · ${approvers} approver${approvers === 1 ? '' : 's'}` };
  });
}

export class Assistant {
  private readonly now: () => Date;
  private readonly seen = new Set<string>();
  private readonly reads = new ConcurrentReads();
  /**
   * Bumped when this process changes a tenant's requests or channels: an answer that follows such
   * a change (the card redrawn after "Require MFA") never shares a read that began before it.
   */
  private readonly changes = new Map<string, number>();

  constructor(private readonly deps: AssistantDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async onMessage(viewer: ChatContext, text: string): Promise<ChatReply> {
    await this.rememberTeamsId(viewer);
    await this.rememberConversation(viewer);
    // The tenants this person may see, read once for the whole message (which tenant, and the label).
    const entitled = await this.deps.tenancy?.entitled({ tenantId: viewer.tenantId, userId: viewer.user.id });
    const routed = await this.route(viewer, text, entitled);
    if ('card' in routed) return routed;
    const reply = await this.answer(routed.ctx, viewer, routed.intent, text);
    return { ...reply, card: await this.labelTenant(reply.card, routed.ctx, viewer, entitled) };
  }

  /** When the person may see several tenants, every answer says which tenant it is about. */
  private async labelTenant(card: Card, ctx: ChatContext, viewer: ChatContext, entitled?: ServedTenant[]): Promise<Card> {
    const tenancy = this.deps.tenancy;
    if (!tenancy || !Array.isArray(card.body)) return card;
    const seen = entitled ?? (await tenancy.entitled({ tenantId: viewer.tenantId, userId: viewer.user.id }));
    if (seen.length < 2) return card;
    const tenant = seen.find((t) => t.tenantId === ctx.tenantId.toLowerCase());
    if (!tenant) return card;
    return { ...card, body: [{ type: 'TextBlock', text: `Tenant: ${literal(tenant.displayName)}`, isSubtle: true, size: 'Small', wrap: true }, ...card.body] };
  }

  /**
   * Which tenant the message is about. A named tenant the person may see ("… at Contoso"), their
   * only tenant, or — when they may see several and named none — a card asking which.
   */
  private async route(viewer: ChatContext, text: string, entitled?: ServedTenant[]): Promise<{ ctx: ChatContext; intent: Intent } | ChatReply> {
    const tenancy = this.deps.tenancy;
    if (!tenancy) return { ctx: viewer, intent: parseIntent(text) };
    const resolved = await tenancy.resolve({ tenantId: viewer.tenantId, userId: viewer.user.id }, text, entitled);
    const intent = parseIntent(resolved.text);
    if (!isTenantSpecific(intent)) return { ctx: viewer, intent };
    if (resolved.kind === 'tenant') return { ctx: switchTenant(viewer, resolved.tenant.tenantId), intent };
    if (resolved.kind === 'choose') {
      const refs = this.deps.store.cardRefs.batch(this.now());
      const rows = resolved.tenants.map((t) => ({
        name: t.displayName,
        detail: t.isHome ? 'Your own tenant' : 'Customer tenant',
        pickRef: refs.add<PickPayload>({ tenantId: t.tenantId, userId: viewer.user.id, kind: 'pick', payload: { text: resolved.text }, ttlMs: REF_TTL_MS }),
        pickTitle: 'Ask about this one',
      }));
      await refs.save();
      return { card: tenantsCard('Which tenant?', `You can see ${resolved.tenants.length} tenants. Pick one — or name it, e.g. “who lacks MFA at ${literal(resolved.tenants[1]?.displayName ?? 'Contoso')}?”.`, rows) };
    }
    return { ctx: viewer, intent };
  }

  private async answer(ctx: ChatContext, viewer: ChatContext, intent: Intent, text: string): Promise<ChatReply> {
    switch (intent.kind) {
      case 'check':
        return { card: await this.answerCheck(ctx, intent.checkId, 0) };
      case 'set-channel':
        return { card: await this.setChannel(ctx, intent.purpose) };
      case 'help':
        return { card: this.help() };
      case 'posture':
        return { card: await this.answerPosture(ctx) };
      case 'recent-approvals':
      case 'audit-log':
      case 'audit-export':
        return this.auditTrail(ctx, intent.kind);
      case 'report':
        return this.deps.reports ? this.deps.reports.report(ctx, intent.tenant) : { card: this.help() };
      case 'export':
        return this.deps.reports ? this.deps.reports.exportCsv(ctx, intent.what) : { card: this.help() };
      case 'doctor':
        return { card: await this.doctor(ctx) };
      case 'watch':
        return this.deps.watch ? { card: await this.deps.watch.handle(ctx, viewer.viewerTenantId ?? viewer.tenantId, intent.command, text) } : { card: this.help() };
      default:
        return { card: this.help(`I did not understand “${literal(text.replace(/<[^>]+>/g, '').trim().slice(0, 200))}”. Here is what I can do.`) };
    }
  }

  /**
   * A card button, or Teams asking for a card's current view. `automatic` marks a refresh Teams
   * made by itself (a person looked at the card): that only ever reads, whatever the verb says,
   * and never edits the message (Teams would refresh again, forever).
   */
  async onAction(ctx: ChatContext, verb: string, data: Record<string, unknown>, opts: { automatic?: boolean } = {}): Promise<ActionReply> {
    if (!opts.automatic) await this.rememberTeamsId(ctx);
    if (opts.automatic || verb === 'vigil.refresh') return this.refreshApproval(ctx, data.requestId);
    switch (verb) {
      case 'vigil.pick':
        return this.pickTenant(ctx, data.ref);
      case 'vigil.ack':
      case 'vigil.snooze':
        return this.actOnAlert(ctx, verb, data.ref);
      case 'vigil.page':
        return this.showPage(ctx, data.ref);
      case 'vigil.fix':
        return this.requestFix(ctx, data.ref);
      case 'vigil.fixAll':
        return this.requestBulkFix(ctx, data.ref);
      case 'vigil.approve':
      case 'vigil.reject':
      case 'vigil.cancel':
        return this.decide(ctx, verb, data.requestId);
      default:
        return { card: this.help('That button is not one I know. Here is what I can do.') };
    }
  }

  help(intro?: string): Card {
    const enabled = this.deps.workflow.enabled;
    return helpCard({
      intro,
      questions: helpQuestions(),
      approverCommands: APPROVER_COMMANDS,
      fixes: helpFixes(this.deps.workflow),
      fixesIntro: enabled
        ? 'Fixes I can make once approved (the Graph application permission each needs; without it the fix fails and says so):'
        : 'Fixes are switched off here (REMEDIATION=off): I only read. With them on, each would need:',
    });
  }

  /** "How are we doing?": every check's status, the Secure Score, and the top 3 fixes — offered exactly as a check card offers them. */
  private async answerPosture(ctx: ChatContext): Promise<Card> {
    const now = this.now();
    const results = await runAllChecks(this.deps.checks, ctx.tenantId);
    const state = await this.offerState(ctx.tenantId);
    const refs = this.deps.store.cardRefs.batch(now);
    const card = await renderPosture(results, {
      viewRef: async (checkId) => this.mintRef<ViewPayload>(refs, ctx, 'view', { checkId, page: 0 }),
      offer: async ({ checkId, finding, page }) => {
        const o = this.offerFor(refs, ctx, finding, checkId, page, state);
        return { fixRef: o.fixRef, fixTitle: o.fixTitle, status: o.status || (o.action ? '' : 'No automatic fix: see the check') };
      },
    });
    await refs.save();
    return card;
  }

  private async answerCheck(ctx: ChatContext, checkId: string, page: number): Promise<Card> {
    const check = findCheck(checkId);
    if (!check) return this.help();
    const result = await this.deps.checks.run(check, ctx.tenantId);
    return this.renderCheck(ctx, check, result, page);
  }

  /** One page of a check's findings, each with its fix button (or why there is none). */
  private async renderCheck(ctx: ChatContext, check: Check, result: CheckResult, page: number): Promise<Card> {
    const now = this.now();
    const lastPage = Math.max(0, Math.ceil(result.findings.length / PAGE_SIZE) - 1);
    const p = Math.min(Math.max(0, page), lastPage);
    const shown = result.findings.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    const state = await this.offerState(ctx.tenantId);
    // Every button of this card is minted here and written in one INSERT before the card is returned.
    const refs = this.deps.store.cardRefs.batch(now);
    const rows: RenderedFinding[] = [];
    const bulk = new Map<string, ActionTarget[]>();
    for (const finding of shown) {
      const { action, target, fixRef, fixTitle, status } = this.offerFor(refs, ctx, finding, check.id, p, state);
      if (fixRef && action?.bulk) bulk.set(action.id, [...(bulk.get(action.id) ?? []), target]);
      rows.push({ finding, fixRef, fixTitle, status });
    }
    const moreRef = p < lastPage ? this.mintRef<ViewPayload>(refs, ctx, 'view', { checkId: check.id, page: p + 1 }) : '';
    const card = renderCheckCard(check, result, { rows, firstIndex: p * PAGE_SIZE + 1, moreRef, now });
    // "Require MFA for all N shown": one request, one approval, for every offer on this page.
    const bulkActions = [];
    for (const [actionId, targets] of bulk) {
      if (targets.length < 2) continue;
      const ref = this.mintRef<BulkOfferPayload>(refs, ctx, 'offer-all', { actionId, targets, checkId: check.id, page: p });
      bulkActions.push({ type: 'Action.Execute', title: findAction(actionId)!.bulk!.title(targets.length), verb: 'vigil.fixAll', data: { verb: 'vigil.fixAll', ref } });
    }
    await refs.save();
    return bulkActions.length ? { ...card, actions: [...((card.actions as unknown[]) ?? []), ...bulkActions] } : card;
  }

  /**
   * A finding's fix, as every card offers it: a button (a server-side reference) unless the fix is
   * already asked for, done, or fixes are off — then a status line saying which.
   */
  private offerFor(
    refs: CardRefBatch,
    ctx: ChatContext,
    finding: CheckResult['findings'][number],
    checkId: string,
    page: number,
    { inFlight, channelName }: OfferState,
  ) {
    const action = finding.remediation ? findAction(finding.remediation) : undefined;
    const target: ActionTarget = finding.target ?? { id: finding.subject.id, displayName: finding.subject.displayName, detail: finding.subject.userPrincipalName };
    const key = action ? `${action.id}/${targetKey(target)}` : '';
    const pending = inFlight.open.get(key);
    const done = inFlight.fixed.get(key);
    const fixRef = action && !pending && !done && this.deps.workflow.enabled ? this.mintRef<OfferPayload>(refs, ctx, 'offer', { actionId: action.id, target, checkId, page }) : '';
    const status = pending
      ? `Awaiting approval${channelName ? ` in ${literal(channelName)}` : ''}`
      : done
        ? `Fixed through Vigil on ${done.finishedAt!.toISOString().slice(0, 10)}`
        : action && !this.deps.workflow.enabled
          ? 'Fixes are off (read-only)'
          : '';
    return { action, target, fixRef, fixTitle: action?.title ?? '', status };
  }

  /**
   * What a card button means, from its random reference, for the person clicking: only if the
   * reference exists, is of that kind, is unexpired, and belongs to a tenant they may see.
   */
  private async openRef<T>(viewer: ChatContext, ref: unknown, kind: string): Promise<{ ctx: ChatContext; payload: T } | undefined> {
    const found = await this.deps.store.cardRefs.find<T>(ref, kind, this.now());
    if (!found) return undefined;
    if (found.tenantId.toLowerCase() === viewer.tenantId.toLowerCase()) return { ctx: viewer, payload: found.payload };
    const tenancy = this.deps.tenancy;
    if (!tenancy || !(await tenancy.canSee({ tenantId: viewer.tenantId, userId: viewer.user.id }, found.tenantId))) return undefined;
    return { ctx: switchTenant(viewer, found.tenantId), payload: found.payload };
  }

  private async showPage(viewer: ChatContext, ref: unknown): Promise<ActionReply> {
    const opened = await this.openRef<ViewPayload>(viewer, ref, 'view');
    if (!opened) return { message: OUT_OF_DATE };
    return { card: await this.answerCheck(opened.ctx, opened.payload.checkId, opened.payload.page) };
  }

  private async requestFix(viewer: ChatContext, ref: unknown): Promise<ActionReply> {
    const opened = await this.openRef<OfferPayload>(viewer, ref, 'offer');
    const offer = opened?.payload;
    if (!opened || !offer || !findAction(offer.actionId)) return { message: OUT_OF_DATE };
    const alerts = this.deps.alerts;
    const alert = offer.alertId && alerts ? (await this.deps.store.watch.alertHistory(opened.ctx.tenantId, 200)).find((a) => a.id === offer.alertId) : undefined;
    const redraw = alert && alerts ? (banner: string) => alerts.render(alert, banner) : undefined;
    return this.sendForApproval(opened.ctx, offer.actionId, [offer.target], offer.checkId, offer.page, redraw);
  }

  private async requestBulkFix(viewer: ChatContext, ref: unknown): Promise<ActionReply> {
    const opened = await this.openRef<BulkOfferPayload>(viewer, ref, 'offer-all');
    const offer = opened?.payload;
    if (!opened || !offer || !findAction(offer.actionId)?.bulk) return { message: OUT_OF_DATE };
    return this.sendForApproval(opened.ctx, offer.actionId, offer.targets, offer.checkId, offer.page);
  }

  /** "Which tenant?" answered: the same question, about the tenant picked (if the person may see it). */
  private async pickTenant(viewer: ChatContext, ref: unknown): Promise<ActionReply> {
    const opened = await this.openRef<PickPayload>(viewer, ref, 'pick');
    if (!opened) return { message: OUT_OF_DATE };
    const reply = await this.answer(opened.ctx, viewer, parseIntent(opened.payload.text), opened.payload.text);
    return { card: await this.labelTenant(reply.card, opened.ctx, viewer) };
  }

  private async actOnAlert(viewer: ChatContext, verb: 'vigil.ack' | 'vigil.snooze', ref: unknown): Promise<ActionReply> {
    const kind = verb === 'vigil.ack' ? 'ack' : 'snooze';
    const opened = await this.openRef<AckPayload>(viewer, ref, kind);
    if (!this.deps.alerts) return { message: OUT_OF_DATE };
    if (!opened) {
      // A real button of a tenant this person may not see: they are no approver there.
      const exists = await this.deps.store.cardRefs.find(ref, kind, this.now());
      return { message: exists ? 'Only security approvers can acknowledge or snooze alerts.' : OUT_OF_DATE };
    }
    const out = await this.deps.alerts.act(verb, opened.payload, opened.ctx.tenantId, opened.ctx.user);
    return typeof out === 'string' ? { message: out } : { card: out };
  }

  /** One request for the targets not already asked for; the check card again, with a banner and a Cancel button. */
  private async sendForApproval(
    ctx: ChatContext,
    actionId: string,
    targets: ActionTarget[],
    checkId: string,
    page: number,
    redraw?: (banner: string) => Promise<Card>,
  ): Promise<ActionReply> {
    const action = findAction(actionId)!;
    if (!this.deps.workflow.enabled) {
      return { card: messageCard('Fixes are switched off', 'This Vigil only reads (REMEDIATION=off), so it does not send fixes for approval. Nothing was changed.', 'warning') };
    }
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
    // Read afresh (never shared): this decides what is sent for approval.
    const { open } = await this.targetsInFlight(ctx.tenantId, this.now());
    const fresh = targets.filter((t) => !open.has(`${actionId}/${targetKey(t)}`));
    let requestId = targets.length === 1 ? open.get(`${actionId}/${targetKey(targets[0])}`)?.id : undefined;
    if (fresh.length) {
      this.changed(ctx.tenantId);
      const outcome = await this.deps.workflow.request({ tenantId: ctx.tenantId, actionId, targets: fresh, requester: ctx.user, requesterRef: ctx.conversation.ref });
      this.changed(ctx.tenantId);
      if (!outcome.ok) return { card: messageCard('I could not send that for approval', literal(outcome.message), 'attention') };
      requestId = outcome.record.id;
    }
    const check = findCheck(checkId);
    const card = redraw
      ? undefined
      : check
        ? await this.renderCheck(ctx, check, await this.deps.checks.run(check, ctx.tenantId), page)
        : messageCard(action.title, '');
    const who = fresh.length > 1 ? `${fresh.length} accounts` : literal((fresh[0] ?? targets[0]).displayName);
    const text = fresh.length
      ? `Sent for approval to ${literal(channel.name ?? 'the approvals channel')}: ${action.title} for ${who}. I will tell you here when it is decided.`
      : `Already waiting for approval in ${literal(channel.name ?? 'the approvals channel')}: ${action.title} for ${who}.`;
    const requester = requestId ? await this.deps.store.approvals.get(requestId) : undefined;
    const cancel = requester && requester.requesterId === ctx.user.id && requester.state === 'pending' ? requestId : undefined;
    return { card: card ? withBanner(card, text, cancel) : withBanner(await redraw!(''), text, cancel) };
  }

  /** Approve, reject or cancel. Refusals about who you are come back as a message; the card stays as it is. */
  private async decide(viewer: ChatContext, verb: string, requestId: unknown): Promise<ActionReply> {
    if (typeof requestId !== 'string') return { message: 'I cannot find that request.' };
    const ctx = await this.requestContext(viewer, requestId);
    const actor = { id: ctx.user.id, name: ctx.user.name, tenantId: ctx.tenantId };
    const wf = this.deps.workflow;
    this.changed(ctx.tenantId);
    const outcome =
      verb === 'vigil.approve' ? await wf.approve(requestId, actor) : verb === 'vigil.reject' ? await wf.reject(requestId, actor) : await wf.cancel(requestId, actor);
    this.changed(ctx.tenantId);
    if (!outcome.ok) {
      // Not allowed, unknown, off: a 200 message response (Teams shows it; the card is untouched).
      if (outcome.refusal !== 'state' || !outcome.record) return { message: outcome.message };
      // Past that point: the card as it is now, with why nothing happened.
      return { card: await this.deps.views.forViewer(outcome.record, ctx.user.id, { note: outcome.message, noteTone: 'warning' }) };
    }
    const latest = (await this.deps.store.approvals.get(requestId)) ?? outcome.record;
    if (latest.state === 'succeeded') this.deps.checks.invalidate(ctx.tenantId);
    return { card: await this.deps.views.forViewer(latest, ctx.user.id, outcome.record.state === 'pending' ? { note: outcome.message, noteTone: 'good' } : {}) };
  }

  /** Teams asking for this person's view of an approval card: read-only, never edits the message. */
  private async refreshApproval(viewer: ChatContext, requestId: unknown): Promise<ActionReply> {
    const record = typeof requestId === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(requestId) ? await this.deps.store.approvals.get(requestId) : undefined;
    const ctx = record ? await this.requestContext(viewer, record.id) : viewer;
    if (!record || record.tenantId !== ctx.tenantId) return { message: 'I cannot find that request.' };
    return { card: await this.deps.views.forViewer(record, ctx.user.id) };
  }

  /** "show recent approvals", "audit log", "export audit log": approvers only. */
  private async auditTrail(ctx: ChatContext, kind: 'recent-approvals' | 'audit-log' | 'audit-export'): Promise<ChatReply> {
    if (!(await this.deps.approvers.isApprover(ctx.tenantId, ctx.user.id))) {
      return { card: messageCard('Only security approvers can see the audit trail', 'Ask one of your security approvers.', 'attention') };
    }
    const { url: exportUrl, expiresAt } = await this.deps.exports.link(ctx.tenantId, ctx.user.id);
    if (kind === 'audit-export') {
      const subtitle = `Every request, decision and execution of this tenant, oldest first, as a CSV file (it opens in Excel). The link works until ${formatDateTime(expiresAt)}.`;
      const card = auditLogCard({ title: 'Audit trail export', subtitle, rows: [], exportUrl });
      if (ctx.conversation.kind !== 'personal') return { card };
      // In personal chat Teams can also save it straight to the person's OneDrive (file consent card).
      const file = await this.deps.exports.file(ctx.tenantId, ctx.user.id, 'offer');
      return { card, file: { ref: file.id, name: file.name, sizeInBytes: file.bytes.length, description: 'Vigil audit trail (CSV)' } };
    }
    if (kind === 'recent-approvals') {
      const recent = await this.deps.store.approvals.recent(ctx.tenantId, RECENT);
      return { card: auditLogCard({ title: 'Recent approvals', subtitle: `The last ${RECENT} fix requests, newest first.`, rows: recent.map(approvalRow), exportUrl }) };
    }
    const rows = await this.deps.store.audit.recent(ctx.tenantId, RECENT);
    return { card: auditLogCard({
      title: 'Audit log',
      subtitle: `The last ${RECENT} entries of the audit trail, newest first. Entries can be added, never changed or removed.`,
      rows: rows.map(auditRow),
      exportUrl,
    }) };
  }

  /** "doctor": which permissions the Graph app has and lacks, for this tenant. Approvers only. */
  private async doctor(ctx: ChatContext): Promise<Card> {
    if (!this.deps.doctor) return this.help();
    if (!(await this.deps.approvers.isApprover(ctx.tenantId, ctx.user.id))) {
      return messageCard('Only security approvers can run the doctor', 'Ask one of your security approvers.', 'attention');
    }
    return this.deps.doctor(ctx.tenantId);
  }

  /**
   * The context to decide a request in: a request about a customer tenant is decided by the
   * provider's technicians from the provider's tenant, if they may see it. Anyone else keeps
   * their own tenant, so the workflow reports the request as unknown to them.
   */
  private async requestContext(viewer: ChatContext, requestId: string): Promise<ChatContext> {
    const record = /^[A-Za-z0-9_-]{16,64}$/.test(requestId) ? await this.deps.store.approvals.get(requestId) : undefined;
    if (!record || record.tenantId.toLowerCase() === viewer.tenantId.toLowerCase() || !this.deps.tenancy) return viewer;
    return (await this.deps.tenancy.canSee({ tenantId: viewer.tenantId, userId: viewer.user.id }, record.tenantId)) ? switchTenant(viewer, record.tenantId) : viewer;
  }

  /** Remember personal chats, so Vigil can tell approvers when an alerts channel becomes unreachable. */
  private async rememberConversation(ctx: ChatContext): Promise<void> {
    if (ctx.conversation.kind !== 'personal' || !ctx.user.id) return;
    const key = `conv/${ctx.tenantId}/${ctx.user.id}`;
    if (this.seen.has(key)) return;
    await this.deps.store.watch.rememberUserConversation(ctx.tenantId, ctx.user.id, ctx.conversation.ref, this.now());
    this.seen.add(key);
  }

  /** Learn the Teams id of whoever talks to Vigil (approval cards name approvers by it). */
  private async rememberTeamsId(ctx: ChatContext): Promise<void> {
    const teamsId = ctx.user.teamsId;
    if (!teamsId || !ctx.user.id) return;
    const key = `${ctx.tenantId}/${ctx.user.id}/${teamsId}`;
    if (this.seen.has(key)) return;
    await this.deps.teamsUsers.remember(ctx.tenantId, ctx.user.id, teamsId, ctx.user.name, this.now());
    this.seen.add(key);
  }

  private async setChannel(ctx: ChatContext, purpose: 'approvals' | 'alerts'): Promise<Card> {
    if (ctx.conversation.kind !== 'channel') {
      return messageCard('Say that in a team channel', `Go to the team channel where your approvers work and say “@Vigil use this channel for ${purpose}” there.`, 'warning');
    }
    if (!(await this.deps.approvers.isApprover(ctx.tenantId, ctx.user.id))) {
      return messageCard('Only security approvers can do that', `Ask one of your security approvers to choose the ${purpose} channel.`, 'attention');
    }
    this.changed(ctx.tenantId);
    await this.deps.store.channels.set({
      tenantId: ctx.tenantId,
      purpose,
      ref: ctx.conversation.ref,
      name: ctx.conversation.name ?? (await ctx.conversation.resolveName?.()) ?? null,
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

  /**
   * Fixes in flight or done and the approvals channel's name, for drawing buttons. Answers about a
   * tenant share these reads for up to OFFER_STATE_KEEP_MS (see ConcurrentReads), except across a
   * change this process made; a change made elsewhere shows within that time. A click never relies
   * on them: sendForApproval reads afresh and the workflow checks again.
   */
  private offerState(tenantId: string): Promise<OfferState> {
    const key = `${tenantId.toLowerCase()}/${this.changes.get(tenantId.toLowerCase()) ?? 0}`;
    return this.reads.share(
      key,
      async () => {
        const [inFlight, channel] = await Promise.all([this.targetsInFlight(tenantId, this.now()), this.deps.store.channels.get(tenantId, 'approvals')]);
        return { inFlight, channelName: channel?.name ?? null };
      },
      OFFER_STATE_KEEP_MS,
    );
  }

  /** This process is about to change (or has changed) a tenant's requests or channels. */
  private changed(tenantId: string): void {
    const key = tenantId.toLowerCase();
    this.changes.set(key, (this.changes.get(key) ?? 0) + 1);
  }

  /** Fixes already asked for (pending/approved/executing) or done in the last 30 days, by "action/target". */
  private async targetsInFlight(tenantId: string, now: Date): Promise<{ open: Map<string, ApprovalRecord>; fixed: Map<string, ApprovalRecord> }> {
    const open = new Map<string, ApprovalRecord>();
    for (const r of await this.deps.store.approvals.open(tenantId)) for (const t of r.targets) open.set(`${r.actionId}/${targetKey(t)}`, r);
    const fixed = new Map<string, ApprovalRecord>();
    const since = new Date(now.getTime() - 30 * 86_400_000);
    for (const r of await this.deps.store.approvals.succeededSince(tenantId, since)) for (const t of r.targets) fixed.set(`${r.actionId}/${targetKey(t)}`, r);
    return { open, fixed };
  }

  /** A button's reference, bound to the tenant the card is about; written with the card's batch. */
  private mintRef<T>(refs: CardRefBatch, ctx: ChatContext, kind: string, payload: T): string {
    return refs.add({ tenantId: ctx.tenantId, userId: ctx.user.id, kind, payload, ttlMs: REF_TTL_MS });
  }
}

const OUT_OF_DATE = 'This card is out of date. Ask me again for a fresh answer.';

/** The same person and conversation, about another tenant (already checked: they may see it). */
function switchTenant(viewer: ChatContext, tenantId: string): ChatContext {
  if (viewer.tenantId.toLowerCase() === tenantId.toLowerCase()) return viewer;
  return { ...viewer, tenantId: tenantId.toLowerCase(), viewerTenantId: viewer.viewerTenantId ?? viewer.tenantId };
}

/** Put a one-line notice at the top of a card (e.g. "Sent for approval to Security"), with Cancel for the requester. */
function withBanner(card: Card, text: string, cancelRequestId?: string): Card {
  const body = Array.isArray(card.body) ? card.body : [];
  const items: unknown[] = [{ type: 'TextBlock', text, wrap: true, weight: 'Bolder' }];
  if (cancelRequestId) {
    items.push({
      type: 'ActionSet',
      actions: [{ type: 'Action.Execute', title: 'Cancel request', verb: 'vigil.cancel', data: { verb: 'vigil.cancel', requestId: cancelRequestId } }],
    });
  }
  return { ...card, body: [{ type: 'Container', style: 'emphasis', items }, ...body] };
}

const TONES: Record<string, AuditLogRowView['tone']> = {
  succeeded: 'good',
  approved: 'good',
  failed: 'attention',
  refused: 'attention',
  rejected: 'warning',
  expired: 'warning',
  cancelled: 'warning',
};

/** One audit entry: what it was about, when and by whom, and the event (with a refusal's reason). */
function auditRow(r: AuditRow): AuditLogRowView {
  const d = r.detail ?? {};
  const action = typeof d.action === 'string' ? (findAction(d.action)?.title ?? d.action) : '';
  const about = [action, r.requestId ? `request ${r.requestId.slice(0, 8)}` : '', typeof d.purpose === 'string' ? `${d.purpose} channel` : ''].filter(Boolean).join(' · ');
  const reason = typeof d.reason === 'string' ? `: ${d.reason}` : '';
  return {
    what: `${literal(about || r.event)}${literal(reason)}`,
    when: `${formatDateTime(r.at)} · ${literal(r.actorName ?? 'Vigil')}`,
    outcome: r.event,
    tone: TONES[r.event] ?? 'default',
  };
}

function approvalRow(r: ApprovalRecord): AuditLogRowView {
  const action = findAction(r.actionId)?.title ?? r.actionId;
  const targets = r.targets.length > 3 ? `${r.targets.length} accounts` : r.targets.map((t) => literal(t.displayName)).join(', ');
  const by = r.approvals.length ? ` · approved by ${r.approvals.map((a) => literal(a.approverName)).join(' and ')}` : r.decidedByName && r.state !== 'expired' ? ` · ${r.state} by ${literal(r.decidedByName)}` : '';
  return {
    what: `${action} for ${targets} · asked by ${literal(r.requesterName)}${by}`,
    when: formatDateTime(r.createdAt),
    outcome: r.state,
    tone: TONES[r.state] ?? 'default',
  };
}
