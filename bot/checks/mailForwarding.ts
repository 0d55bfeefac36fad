/**
 * mail.forwarding — inbox rules that forward, redirect or forward-as-attachment to addresses
 * outside the tenant's verified domains: the classic sign of a compromised mailbox ("Invoices" →
 * a gmail address), and a quiet data leak even when set up in good faith.
 *
 * "Outside" = the recipient's domain is not one of the tenant's verified domains (/domains).
 * Addresses without a domain (Exchange-internal X500 addresses) are inside.
 *
 * Reads: /domains; members with a mail address (one paged, filtered list); each mailbox's inbox
 * rules in $batch (20 per request, inner 429s retried after their Retry-After by GraphApi), sent
 * as each page of members arrives. Each $batch holds one request per mailbox, so no mailbox ever
 * sees more than one of our requests at once (Exchange allows 4 per app per mailbox). Accounts
 * without a mailbox answer 404 and are skipped silently. Disabled rules are reported at low
 * severity. Only the mailboxes with a rule that forwards are kept (and counts of the rest), so a
 * 100k-mailbox tenant is never held in memory.
 *
 * Mailbox-level forwarding (ForwardingSmtpAddress) and the tenant's outbound auto-forward policy
 * are not in Graph: they come from the optional Exchange Online reader (EXCHANGE_READER=on); the
 * card says when it is not configured.
 */
import { domainToASCII } from 'node:url';
import type { Domain, MessageRule, Recipient } from '@microsoft/microsoft-graph-types';
import { readAhead, type BatchRequest } from '../graph/api';
import type { GraphRequestError } from '../graph/errors';
import { EXCHANGE_PERMISSION, ExchangeRequestError, type AutoForwardPolicy, type MailboxForwarding } from './exchangeReader';
import { allOf, must, mustEach, type UserFacts } from './graphReads';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface MailboxRules {
  user: Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName' | 'accountEnabled'>;
  rules: MessageRule[];
}

export interface MailForwardingReads {
  verifiedDomains: string[];
  /** Mailboxes with their inbox rules; as read, only those with a rule that forwards, and only those rules. */
  mailboxes: MailboxRules[];
  /** Mailboxes whose rules were read, and how many rules they had (when `mailboxes` holds only forwarding ones). */
  mailboxesRead?: number;
  rulesRead?: number;
  /** Accounts probed that have no mailbox (404). */
  withoutMailbox: number;
  /** Mailboxes whose rules could not be read (other errors). */
  unreadable: number;
  /** Exchange Online reader: undefined = not configured. */
  exchange?: { mailboxForwarding: MailboxForwarding[] | null; autoForward: AutoForwardPolicy | null };
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface MailForwardingData {
  mailboxesRead: number;
  withoutMailbox: number;
  rulesRead: number;
  /** Rules forwarding only inside the organisation: not findings. */
  internalForwards: number;
  exchangeReader: 'configured' | 'not configured';
  /** "Off", "On", "Automatic" (= off) — from the default outbound spam policy; null = unknown. */
  autoForwardingMode: string | null;
  excluded: Subject[];
  notes: string[];
}

/** The reader's gap when EXCHANGE_READER is off: configuration, not a missing permission of the running app. */
export const EXCHANGE_NOT_CONFIGURED: Gap = {
  what: 'Mailbox-level forwarding and the outbound auto-forward policy',
  reason: `These are not in Microsoft Graph, and the Exchange Online reader is not configured (set EXCHANGE_READER=on; it needs ${EXCHANGE_PERMISSION}).`,
};

export const mailForwarding: Check<MailForwardingReads, MailForwardingData> = {
  id: 'mail.forwarding',
  title: 'Mail forwarded outside',
  why: 'A rule that quietly copies mail to an outside address is the classic sign of a compromised mailbox, and a data leak even when set up in good faith.',
  ask: 'any forwarding rules?',
  questions: [
    /\b(?:forward(?:s|ing|ed|er)?|auto[\s-]?forward\w*|redirect(?:s|ing|ed)?)\b/,
    /\b(?:inbox|mail|mailbox|email|e-mail|outlook)\s+rules?\b/,
  ],
  reads: [
    { request: 'GET /domains', permission: 'Domain.Read.All' },
    { request: "GET /users?$filter=userType eq 'Member'&$select=…,mail", permission: 'User.Read.All' },
    { request: 'GET /users/{id}/mailFolders/inbox/messageRules (in $batch, one per mailbox)', permission: 'MailboxSettings.Read' },
    { request: 'Exchange admin API: Get-Mailbox, Get-HostedOutboundSpamFilterPolicy, Get-RemoteDomain (optional)', permission: 'Exchange.ManageAsApp (Office 365 Exchange Online)' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const gaps: Gap[] = [];
    const domains = await must(graph.all<Domain>('/domains', { query: { $select: 'id,isVerified' } }), "The tenant's verified domains", 'Domain.Read.All');
    const verifiedDomains = domains.filter((d) => d.isVerified).map((d) => d.id!.toLowerCase());
    const members = mustEach(
      readAhead(graph.pages<UserFacts>('/users', { query: { $filter: "userType eq 'Member'", $select: 'id,displayName,userPrincipalName,mail,accountEnabled', $top: 999 } })),
      'Mailbox owners',
      'User.Read.All',
    );
    // Only the requests in flight are remembered; `seq` keeps the kept mailboxes in the members' order.
    const inFlight = new Map<string, { seq: number; user: UserFacts }>();
    let seq = 0;
    async function* rulesRequests(): AsyncGenerator<BatchRequest> {
      for await (const page of members) {
        for (const u of page) {
          // Only accounts with a primary SMTP address can have a mailbox; the rest would only answer 404.
          if (!u.mail) continue;
          const id = String(seq);
          inFlight.set(id, { seq: seq++, user: u });
          yield { id, method: 'GET', url: `/users/${u.id}/mailFolders/inbox/messageRules` };
        }
      }
    }
    const kept: Array<{ seq: number; mailbox: MailboxRules }> = [];
    let mailboxesRead = 0;
    let rulesRead = 0;
    let withoutMailbox = 0;
    let unreadable = 0;
    let denied: GraphRequestError | undefined;
    let other: GraphRequestError | undefined;
    await graph.batchEach<{ value: MessageRule[] }>(rulesRequests(), async (res) => {
      const { seq: at, user } = inFlight.get(res.id)!;
      inFlight.delete(res.id);
      if (res.error) {
        if (res.error.isNotFound || res.error.code === 'MailboxNotEnabledForRESTAPI') withoutMailbox++;
        else {
          unreadable++;
          if (res.error.isMissingPermission || res.error.status === 403) denied ??= res.error;
          else other ??= res.error;
        }
        return;
      }
      let rules: MessageRule[];
      try {
        rules = await allOf<MessageRule>(graph, res);
      } catch (err) {
        unreadable++;
        other ??= err as GraphRequestError;
        return;
      }
      mailboxesRead++;
      rulesRead += rules.length;
      const forwarding = rules.filter(forwards);
      if (forwarding.length) kept.push({ seq: at, mailbox: { user: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, accountEnabled: user.accountEnabled }, rules: forwarding } });
    });
    const mailboxes = kept.sort((a, b) => a.seq - b.seq).map((k) => k.mailbox);
    if (denied) gaps.push({ ...gapFor(denied, `Inbox rules of ${unreadable} mailbox${unreadable === 1 ? '' : 'es'}`, 'MailboxSettings.Read'), permission: 'MailboxSettings.Read' });
    else if (other) gaps.push(gapFor(other, `Inbox rules of ${unreadable} mailbox${unreadable === 1 ? '' : 'es'}`, 'MailboxSettings.Read'));

    let exchange: MailForwardingReads['exchange'];
    const reader = ctx.settings?.exchange;
    if (!reader) gaps.push(EXCHANGE_NOT_CONFIGURED);
    else {
      exchange = { mailboxForwarding: null, autoForward: null };
      const fail = (what: string) => (err: unknown) => {
        gaps.push(exchangeGap(err, what));
        return null;
      };
      exchange.mailboxForwarding = await reader.mailboxForwarding().catch(fail('Mailbox-level forwarding (Exchange Online)'));
      exchange.autoForward = await reader.autoForwardPolicy().catch(fail('Outbound auto-forward policy (Exchange Online)'));
    }
    return { verifiedDomains, mailboxes, mailboxesRead, rulesRead, withoutMailbox, unreadable, exchange, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateMailForwarding,
};

export function exchangeGap(err: unknown, what: string): Gap {
  if (err instanceof ExchangeRequestError && err.isAccessDenied) {
    return { what, reason: `Exchange Online refused the reader (${err.status} ${err.code}). Grant ${EXCHANGE_PERMISSION}.`, permission: 'Exchange.ManageAsApp' };
  }
  return { what, reason: `The Exchange Online reader failed: ${err instanceof Error ? err.message : String(err)}` };
}

/** The domain of an address, lower-case ASCII (IDN domains in punycode); '' for Exchange-internal (X500) addresses. */
export function domainOf(address: string | null | undefined): string {
  const a = (address ?? '').trim().replace(/^smtp:/i, '');
  const at = a.lastIndexOf('@');
  if (at < 0) return '';
  const domain = a.slice(at + 1).replace(/\.$/, '').toLowerCase();
  return domainToASCII(domain) || domain;
}

export function isExternal(address: string | null | undefined, verified: ReadonlySet<string>): boolean {
  const d = domainOf(address);
  return d !== '' && !verified.has(d);
}

const ACTIONS = [
  ['forwardTo', 'forwards'],
  ['redirectTo', 'redirects'],
  ['forwardAsAttachmentTo', 'forwards as attachment'],
] as const;

function recipientsOf(rule: MessageRule, prop: (typeof ACTIONS)[number][0]): Recipient[] {
  return ((rule.actions as Record<string, unknown> | null | undefined)?.[prop] as Recipient[] | null | undefined) ?? [];
}

/** Does the rule forward or redirect anywhere (inside or outside)? */
function forwards(rule: MessageRule): boolean {
  return ACTIONS.some(([prop]) => recipientsOf(rule, prop).length > 0);
}

export function evaluateMailForwarding(reads: MailForwardingReads, now: Date): CheckResult<MailForwardingData> {
  const verified = new Set(reads.verifiedDomains.map((d) => domainToASCII(d.toLowerCase()) || d.toLowerCase()));
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const excludedIds = new Map<string, Subject>();
  const findings: Finding[] = [];
  let rulesRead = 0;
  let internalForwards = 0;
  for (const { user, rules } of reads.mailboxes) {
    const subject: Subject = { id: user.id!, displayName: user.displayName ?? '', userPrincipalName: user.userPrincipalName ?? '' };
    for (const rule of rules) {
      rulesRead++;
      const actions = rule.actions ?? {};
      const sends: string[] = [];
      let external = false;
      let forwards = false;
      for (const [prop, verb] of ACTIONS) {
        const recipients = recipientsOf(rule, prop);
        if (!recipients.length) continue;
        forwards = true;
        const outside = recipients.map((r) => r.emailAddress?.address ?? '').filter((a) => isExternal(a, verified));
        if (outside.length) {
          external = true;
          sends.push(`${verb} to ${outside.join(', ')}`);
        }
      }
      if (!forwards) continue;
      if (!external) {
        internalForwards++;
        continue;
      }
      if (isExcluded(user)) {
        excludedIds.set(subject.id, subject);
        continue;
      }
      const enabled = rule.isEnabled !== false;
      const hides = [actions.delete || actions.permanentDelete ? 'deletes the original' : '', actions.markAsRead ? 'marks it as read' : '', actions.moveToFolder ? 'moves it away' : '']
        .filter(Boolean)
        .join(', ');
      findings.push({
        severity: enabled ? 'high' : 'low',
        subject,
        detail: `Rule “${rule.displayName ?? ''}” ${sends.join('; ')}${hides ? `, and ${hides}` : ''}${enabled ? '' : ' (disabled)'}`,
        remediation: enabled ? 'rule.disable' : 'rule.delete',
        target: { id: rule.id!, displayName: rule.displayName ?? '', detail: subject.userPrincipalName, userId: subject.id },
        facts: { enabled, rule: rule.displayName ?? '', kind: 'inboxRule' },
      });
    }
  }
  let autoForwardingMode: string | null = null;
  const notes: string[] = [];
  if (reads.exchange) {
    for (const m of reads.exchange.mailboxForwarding ?? []) {
      const subject: Subject = { id: m.objectId ?? m.userPrincipalName, displayName: m.displayName, userPrincipalName: m.userPrincipalName };
      if (isExcluded({ id: m.objectId, userPrincipalName: m.userPrincipalName })) {
        excludedIds.set(subject.id, subject);
        continue;
      }
      if (m.forwardingSmtpAddress && isExternal(m.forwardingSmtpAddress, verified)) {
        findings.push({
          severity: 'high',
          subject,
          detail: `Mailbox forwarding to ${m.forwardingSmtpAddress.replace(/^smtp:/i, '')}${m.deliverToMailboxAndForward ? ' (keeps a copy)' : ' (no copy kept)'}`,
          remediation: null,
          key: 'mailbox-forwarding',
          facts: { kind: 'mailboxForwarding' },
        });
      } else if (m.forwardingAddress) {
        findings.push({
          severity: 'medium',
          subject,
          detail: `Mailbox forwarding to the recipient “${m.forwardingAddress}” — check whether it is a contact outside the organisation`,
          remediation: null,
          key: 'mailbox-forwarding-recipient',
          facts: { kind: 'mailboxForwarding' },
        });
      }
    }
    const policy = reads.exchange.autoForward;
    if (policy) {
      const def = policy.outboundSpamPolicies.find((p) => p.isDefault) ?? policy.outboundSpamPolicies[0];
      autoForwardingMode = def?.autoForwardingMode ?? null;
      const on = policy.outboundSpamPolicies.filter((p) => p.autoForwardingMode.toLowerCase() === 'on');
      if (on.length) {
        findings.push({
          severity: 'high',
          subject: { id: 'tenant:auto-forward', displayName: 'Outbound auto-forwarding' },
          detail: `Automatic forwarding to outside addresses is allowed by ${on.map((p) => `“${p.name}”`).join(', ')} (AutoForwardingMode On)`,
          remediation: null,
          facts: { kind: 'autoForwardPolicy' },
        });
      } else notes.push(`Outbound auto-forwarding is blocked by policy (${autoForwardingMode ?? 'Automatic'}): rules above cannot deliver outside unless an exception allows them.`);
      const openDomains = policy.remoteDomains.filter((d) => d.autoForwardEnabled && d.domainName === '*');
      if (openDomains.length && on.length) notes.push('The default remote domain also allows auto-forwarding.');
    }
  }
  findings.sort((a, b) => sev(a) - sev(b) || a.subject.displayName.localeCompare(b.subject.displayName));
  const high = findings.filter((f) => f.severity === 'high').length;
  const mailboxesRead = reads.mailboxesRead ?? reads.mailboxes.length;
  if (reads.rulesRead !== undefined) rulesRead = reads.rulesRead;
  if (internalForwards) notes.push(`${internalForwards} rule${internalForwards === 1 ? '' : 's'} forward${internalForwards === 1 ? 's' : ''} only inside your organisation (not listed).`);
  if (reads.withoutMailbox) notes.push(`${reads.withoutMailbox} account${reads.withoutMailbox === 1 ? '' : 's'} with an address but no mailbox skipped.`);
  const reason = findings.length
    ? `${high ? `${high} forwarding${high === 1 ? '' : 's'} to outside addresses ${high === 1 ? 'is' : 'are'} active` : 'No active forwarding outside'}${findings.length - high ? `; ${findings.length - high} more ${findings.length - high === 1 ? 'is disabled or needs' : 'are disabled or need'} a look` : ''}. (${mailboxesRead} mailbox${mailboxesRead === 1 ? '' : 'es'} checked.)`
    : `No inbox rule forwards outside the organisation (${mailboxesRead} mailbox${mailboxesRead === 1 ? '' : 'es'}, ${rulesRead} rule${rulesRead === 1 ? '' : 's'} checked).`;
  return {
    id: mailForwarding.id,
    title: mailForwarding.title,
    status: high ? 'fail' : findings.length ? 'warn' : mailboxesRead === 0 && reads.unreadable > 0 ? 'unknown' : 'pass',
    reason,
    findings,
    gaps: reads.gaps,
    data: {
      mailboxesRead,
      withoutMailbox: reads.withoutMailbox,
      rulesRead,
      internalForwards,
      exchangeReader: reads.exchange ? 'configured' : 'not configured',
      autoForwardingMode,
      excluded: [...excludedIds.values()],
      notes,
    },
    generatedAt: now.toISOString(),
  };
}

function sev(f: Finding): number {
  return ['high', 'medium', 'low', 'info'].indexOf(f.severity);
}
