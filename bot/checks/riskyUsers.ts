/**
 * risky.users — people Microsoft Entra ID Protection rates at medium or high risk and who are
 * still at risk (not remediated, dismissed or confirmed safe). Needs Entra ID P2; without it the
 * card says so instead of claiming nobody is at risk.
 *
 * Reads: /identityProtection/riskyUsers filtered server-side by risk level (high, medium), both
 * in one $batch.
 */
import type { RiskyUser } from '@microsoft/microsoft-graph-types';
import { GraphRequestError } from '../graph/errors';
import { allOf, quote } from './graphReads';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface RiskyUsersReads {
  /** null = could not be read (no P2, or no permission: see gaps) */
  users: Array<Pick<RiskyUser, 'id' | 'userDisplayName' | 'userPrincipalName' | 'riskLevel' | 'riskState' | 'riskDetail' | 'riskLastUpdatedDateTime' | 'isDeleted'>> | null;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface RiskyUsersData {
  high: number;
  medium: number;
  excluded: Subject[];
  notes: string[];
}

const AT_RISK = new Set(['atRisk', 'confirmedCompromised']);

export const riskyUsers: Check<RiskyUsersReads, RiskyUsersData> = {
  id: 'risky.users',
  title: 'Risky users',
  why: 'Microsoft flags accounts whose sign-ins or leaked credentials suggest someone else has the password.',
  ask: 'any risky users?',
  questions: [
    /\brisky\s+(?:users?|people|accounts?)\b/,
    /\b(?:users?|people|accounts?)\s+at\s+risk\b/,
    /\bat[\s-]risk\s+(?:users?|people|accounts?)\b/,
    /\b(?:compromised|hacked|breached)\s+(?:users?|people|accounts?)\b/,
    /\b(?:any(?:one)?|who(?:'s| is)?)\b.*\b(?:compromised|hacked)\b/,
    /\bidentity\s+protection\b/,
  ],
  reads: [{ request: "GET /identityProtection/riskyUsers?$filter=riskLevel eq 'high' / 'medium' (in $batch)", permission: 'IdentityRiskyUser.Read.All', licence: 'Microsoft Entra ID P2' }],
  read: async (ctx) => {
    const gaps: Gap[] = [];
    let users: RiskyUsersReads['users'] = [];
    try {
      const responses = await ctx.graph.batch<{ value: NonNullable<RiskyUsersReads['users']> }>(
        ['high', 'medium'].map((level, i) => ({ id: String(i), method: 'GET', url: `/identityProtection/riskyUsers?$filter=${encodeURIComponent(`riskLevel eq ${quote(level)}`)}` })),
      );
      for (const res of responses) users.push(...(await allOf<NonNullable<RiskyUsersReads['users']>[number]>(ctx.graph, res)));
    } catch (err) {
      users = null;
      // Identity Protection answers 403 "not licensed" without P2, which looks like a missing permission.
      if (err instanceof GraphRequestError && (err.isMissingLicence || /not licen[cs]ed|licen[cs]e/i.test(err.message))) {
        gaps.push({ what: 'Risky users (Identity Protection)', reason: 'The tenant has no Microsoft Entra ID P2, so Microsoft does not rate user risk for it.', licence: 'Microsoft Entra ID P2' });
      } else gaps.push(gapFor(err, 'Risky users (Identity Protection)', 'IdentityRiskyUser.Read.All', 'Microsoft Entra ID P2'));
    }
    return { users, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateRiskyUsers,
};

export function evaluateRiskyUsers(reads: RiskyUsersReads, now: Date): CheckResult<RiskyUsersData> {
  const base = { id: riskyUsers.id, title: riskyUsers.title, gaps: reads.gaps, generatedAt: now.toISOString() };
  if (reads.users === null) {
    return { ...base, status: 'unknown', reason: 'I could not read user risk from Identity Protection.', findings: [], data: { high: 0, medium: 0, excluded: [], notes: [] } };
  }
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const u of reads.users) {
    if (!u.id || seen.has(u.id) || u.isDeleted || !AT_RISK.has(String(u.riskState)) || !['high', 'medium'].includes(String(u.riskLevel))) continue;
    seen.add(u.id);
    const subject: Subject = { id: u.id, displayName: u.userDisplayName ?? '', userPrincipalName: u.userPrincipalName ?? '' };
    if (isExcluded(subject)) {
      excluded.push(subject);
      continue;
    }
    const compromised = u.riskState === 'confirmedCompromised';
    findings.push({
      severity: u.riskLevel === 'high' ? 'high' : 'medium',
      subject,
      detail: `${u.riskLevel === 'high' ? 'High' : 'Medium'} risk · ${compromised ? 'confirmed compromised' : 'at risk'}${u.riskLastUpdatedDateTime ? ` since ${u.riskLastUpdatedDateTime.slice(0, 10)}` : ''}${u.riskDetail && u.riskDetail !== 'none' ? ` · ${u.riskDetail}` : ''} — reset their password and revoke their sessions`,
      remediation: compromised ? 'user.block' : 'user.revokeSessions',
      key: String(u.riskLevel),
      facts: { riskLevel: String(u.riskLevel), riskState: String(u.riskState) },
    });
  }
  findings.sort((a, b) => Number(b.severity === 'high') - Number(a.severity === 'high') || a.subject.displayName.localeCompare(b.subject.displayName));
  const high = findings.filter((f) => f.severity === 'high').length;
  const medium = findings.length - high;
  return {
    ...base,
    status: high ? 'fail' : medium ? 'warn' : 'pass',
    reason: findings.length ? `${[high ? `${high} at high risk` : '', medium ? `${medium} at medium risk` : ''].filter(Boolean).join(' and ')} according to Identity Protection.` : 'Nobody is at medium or high risk according to Identity Protection.',
    findings,
    data: { high, medium, excluded, notes: [] },
  };
}
