/**
 * signins.legacy — sign-ins with legacy clients (IMAP, POP, SMTP AUTH, ActiveSync, other clients
 * and the other basic-auth protocols) in the last N days, and whether anything blocks legacy
 * authentication: security defaults, or an enforced Conditional Access policy that blocks the
 * legacy client types (exchangeActiveSync and other) for all users and apps. Legacy protocols
 * cannot do MFA, so they are how password-spraying gets past it.
 *
 * Reads: the sign-in log filtered server-side per legacy client (clientAppUsed eq '…', the only
 * operator Graph supports on it), all in one $batch; security defaults and CA policies.
 */
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import { allOf, quote, readPolicies } from './graphReads';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import { ago, type SignInRow } from './signinsCountries';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

/** clientAppUsed values of legacy (basic) authentication in the sign-in log. */
export const LEGACY_CLIENTS = [
  'Exchange ActiveSync',
  'IMAP4',
  'POP3',
  'Authenticated SMTP',
  'Other clients',
  'Exchange Web Services',
  'MAPI Over HTTP',
  'Offline Address Book',
  'Outlook Anywhere (RPC over HTTP)',
  'AutoDiscover',
  'Exchange Online PowerShell',
  'Reporting Web Services',
  'Universal Outlook',
];

export interface SigninsLegacyReads {
  days: number;
  /** null = could not be read */
  signIns: SignInRow[] | null;
  securityDefaults: boolean | null;
  policies: ConditionalAccessPolicy[] | null;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface LegacyBlock {
  blocked: boolean;
  by: string;
  /** Policies that block legacy clients but not for everyone, with why. */
  partial: string[];
}

export interface SigninsLegacyData {
  days: number;
  block: LegacyBlock;
  clients: Record<string, number>;
  excluded: Subject[];
  notes: string[];
}

const SELECT = 'id,createdDateTime,userId,userDisplayName,userPrincipalName,appDisplayName,ipAddress,location,clientAppUsed,status';

export const signinsLegacy: Check<SigninsLegacyReads, SigninsLegacyData> = {
  id: 'signins.legacy',
  title: 'Legacy authentication',
  why: 'Old protocols (IMAP, POP, SMTP AUTH, ActiveSync) cannot do MFA, so a guessed password walks straight past it.',
  ask: 'legacy auth?',
  questions: [
    /\b(?:legacy|basic|old)\s*auth\w*\b/,
    /\blegacy\s+(?:protocols?|clients?|sign[\s-]?ins?|log[\s-]?ins?|apps?|mail clients?)\b/,
    /\b(?:imap|pop3?|smtp auth|activesync)\b/,
  ],
  reads: [
    { request: "GET /auditLogs/signIns?$filter=createdDateTime ge … and clientAppUsed eq '…' (one per legacy client, in $batch)", permission: 'AuditLog.Read.All', licence: 'Microsoft Entra ID P1' },
    { request: 'GET /identity/conditionalAccess/policies, /policies/identitySecurityDefaultsEnforcementPolicy', permission: 'Policy.Read.All' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const gaps: Gap[] = [];
    const days = ctx.settings?.signInLookbackDays ?? 30;
    const since = new Date(ctx.now.getTime() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let signIns: SignInRow[] | null = [];
    try {
      const responses = await graph.batch<{ value: SignInRow[] }>(
        LEGACY_CLIENTS.map((c, i) => ({
          id: String(i),
          method: 'GET',
          url: `/auditLogs/signIns?$filter=${encodeURIComponent(`createdDateTime ge ${since} and clientAppUsed eq ${quote(c)}`)}&$select=${SELECT}&$top=1000`,
        })),
      );
      for (const res of responses) signIns.push(...(await allOf<SignInRow>(graph, res)));
    } catch (err) {
      gaps.push(gapFor(err, 'Sign-in logs', 'AuditLog.Read.All', 'Microsoft Entra ID P1'));
      signIns = null;
    }
    const policies = await readPolicies(graph);
    gaps.push(...policies.gaps);
    return { days, signIns, securityDefaults: policies.securityDefaults, policies: policies.policies, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateSigninsLegacy,
};

/** Does something block legacy authentication for everyone? */
export function legacyBlock(securityDefaults: boolean | null, policies: ConditionalAccessPolicy[]): LegacyBlock {
  if (securityDefaults) return { blocked: true, by: 'security defaults', partial: [] };
  const partial: string[] = [];
  for (const p of policies) {
    const controls = (p.grantControls?.builtInControls ?? []) as string[];
    const clients = ((p.conditions?.clientAppTypes ?? []) as string[]).map((c) => c.toLowerCase());
    if (!controls.includes('block') || !(clients.includes('exchangeactivesync') || clients.includes('eassupported')) || !clients.includes('other')) continue;
    const name = `“${p.displayName ?? ''}”`;
    if (p.state !== 'enabled') {
      partial.push(`${name}: ${p.state === 'enabledForReportingButNotEnforced' ? 'report-only' : 'turned off'}`);
      continue;
    }
    const users = p.conditions?.users;
    const apps = p.conditions?.applications?.includeApplications ?? [];
    if (!(users?.includeUsers ?? []).some((u) => u.toLowerCase() === 'all')) {
      partial.push(`${name}: not for all users`);
      continue;
    }
    if (!apps.some((a) => a.toLowerCase() === 'all')) {
      partial.push(`${name}: not for all apps`);
      continue;
    }
    const exclusions = (users?.excludeUsers?.length ?? 0) + (users?.excludeGroups?.length ?? 0) + (users?.excludeRoles?.length ?? 0);
    return { blocked: true, by: `Conditional Access ${name}${exclusions ? ` (with ${exclusions} exclusion${exclusions === 1 ? '' : 's'})` : ''}`, partial };
  }
  return { blocked: false, by: '', partial };
}

export function evaluateSigninsLegacy(reads: SigninsLegacyReads, now: Date): CheckResult<SigninsLegacyData> {
  const block = legacyBlock(reads.securityDefaults, reads.policies ?? []);
  // "Nothing blocks it" needs evidence: security defaults read as off and the policies read.
  const policyUnknown = !block.blocked && !(reads.securityDefaults === false && reads.policies !== null);
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const excluded = new Map<string, Subject>();
  const clients: Record<string, number> = {};
  const byUser = new Map<string, { subject: Subject; ok: number; failed: number; clients: Set<string>; last: string }>();
  const seen = new Set<string>();
  for (const s of reads.signIns ?? []) {
    if (s.id && seen.has(s.id)) continue;
    if (s.id) seen.add(s.id);
    const client = s.clientAppUsed ?? 'Other clients';
    const subject: Subject = { id: s.userId ?? s.userPrincipalName ?? '', displayName: s.userDisplayName ?? '', userPrincipalName: s.userPrincipalName ?? '' };
    if (!subject.id) continue;
    if (isExcluded({ id: s.userId, userPrincipalName: s.userPrincipalName })) {
      excluded.set(subject.id.toLowerCase(), subject);
      continue;
    }
    clients[client] = (clients[client] ?? 0) + 1;
    const e = byUser.get(subject.id.toLowerCase()) ?? { subject, ok: 0, failed: 0, clients: new Set<string>(), last: '' };
    if ((s.status?.errorCode ?? 0) === 0) e.ok++;
    else e.failed++;
    e.clients.add(client);
    if ((s.createdDateTime ?? '') > e.last) e.last = s.createdDateTime ?? '';
    byUser.set(subject.id.toLowerCase(), e);
  }
  const findings: Finding[] = [];
  for (const e of byUser.values()) {
    const list = [...e.clients].sort();
    findings.push({
      severity: e.ok ? (block.blocked ? 'medium' : 'high') : 'low',
      subject: e.subject,
      detail: `${list.join(', ')} · ${e.ok ? `${e.ok} successful` : ''}${e.ok && e.failed ? ', ' : ''}${e.failed ? `${e.failed} failed` : ''} sign-in${e.ok + e.failed === 1 ? '' : 's'} · last ${ago(e.last, now)}${e.ok ? '' : ' (someone trying passwords?)'}`,
      remediation: null,
      key: list.join(','),
      facts: { successful: e.ok, failed: e.failed, clients: list.join(', ') },
    });
  }
  findings.sort((a, b) => Number(b.facts?.successful) - Number(a.facts?.successful) || a.subject.displayName.localeCompare(b.subject.displayName));
  const used = findings.filter((f) => Number(f.facts?.successful) > 0).length;
  if (!block.blocked && !policyUnknown) {
    findings.unshift({
      severity: used ? 'high' : 'medium',
      subject: { id: 'tenant:block-legacy-auth', displayName: 'Nothing blocks legacy authentication' },
      detail: `No enforced Conditional Access policy blocks legacy clients for everyone, and security defaults are off.${block.partial.length ? ` Not enough: ${block.partial.join('; ')}.` : ''}`,
      remediation: null,
    });
  }
  const notes: string[] = [];
  if (block.blocked) notes.push(`Legacy authentication is blocked by ${block.by}.`);
  if (Object.keys(clients).length) notes.push(`Clients seen: ${Object.entries(clients).map(([c, n]) => `${c} ×${n}`).join(', ')}.`);
  const status = reads.signIns === null && policyUnknown ? 'unknown' : used && !block.blocked ? 'fail' : !block.blocked || used || findings.length ? 'warn' : 'pass';
  const reason =
    reads.signIns === null
      ? `I could not read the sign-in logs. ${block.blocked ? `Legacy authentication is blocked by ${block.by}.` : policyUnknown ? '' : 'Nothing blocks legacy authentication.'}`.trim()
      : used
        ? `${used} ${used === 1 ? 'person' : 'people'} signed in with legacy protocols in the last ${reads.days} days, ${block.blocked ? `although ${block.by} now blocks them` : 'and nothing blocks legacy authentication'}.`
        : block.blocked
          ? `Legacy authentication is blocked by ${block.by}${byUser.size ? '; only failed attempts were seen' : ' and nobody used it'} in the last ${reads.days} days.`
          : `Nobody signed in with legacy protocols in the last ${reads.days} days, but nothing blocks them either.`;
  return {
    id: signinsLegacy.id,
    title: signinsLegacy.title,
    status,
    reason,
    findings,
    gaps: reads.gaps,
    data: { days: reads.days, block, clients, excluded: [...excluded.values()], notes },
    generatedAt: now.toISOString(),
  };
}
