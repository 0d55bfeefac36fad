/**
 * baseline.policies — the three protections every tenant should have: security defaults on, or
 * Conditional Access policies equivalent to "MFA for admins", "MFA for all users" and "block
 * legacy authentication".
 *
 * A CA policy is equivalent only if it counts under the rules in mfaCoverage.ts (enforced, MFA
 * unavoidable, every app and modern client, no risk condition…) and its user scope is the
 * baseline's: all ten privileged roles (or all users) for admins; all users for everyone. Its
 * exclusions may only be break-glass accounts (EXCLUDED_ACCOUNTS, directly or through a group
 * holding only them). A report-only "Require MFA for admins" is shown as the near-miss it is.
 */
import type { ConditionalAccessPolicy, Organization } from '@microsoft/microsoft-graph-types';
import { PRIVILEGED_ROLES, readPolicies, withExcludedIds } from './graphReads';
import { judgePolicy, type PolicyVerdict } from './mfaCoverage';
import { excludedMatcher } from './settings';
import { legacyBlock } from './signinsLegacy';
import type { Check, CheckResult, Finding, Gap } from './types';

export interface BaselinePoliciesReads {
  /** What tenant-wide fixes act on (the tenant itself). */
  tenant: { id: string; displayName: string };
  securityDefaults: boolean | null;
  policies: ConditionalAccessPolicy[] | null;
  groupMembers: Record<string, string[]>;
  excludedAccounts: string[];
  gaps: Gap[];
}

export type BaselineId = 'mfa-admins' | 'mfa-all' | 'block-legacy';

export interface BaselineState {
  id: BaselineId;
  name: string;
  met: boolean;
  by: string;
  /** Why nothing meets it: near-misses. */
  why: string;
}

export interface BaselinePoliciesData {
  securityDefaults: boolean | null;
  baselines: BaselineState[];
  notes: string[];
}

const NAMES: Record<BaselineId, string> = {
  'mfa-admins': 'MFA for admins',
  'mfa-all': 'MFA for all users',
  'block-legacy': 'Block legacy authentication',
};

export const baselinePolicies: Check<BaselinePoliciesReads, BaselinePoliciesData> = {
  id: 'baseline.policies',
  title: 'Baseline protections',
  why: 'Security defaults, or Conditional Access doing the same job (MFA for admins, MFA for everyone, no legacy authentication), stop most account takeovers.',
  ask: 'are security defaults on?',
  questions: [
    /\bsecurity\s+defaults?\b/,
    /\bbaselines?\b/,
    /\bconditional\s+access\b/,
    /\bca\s+polic(?:y|ies)\b/,
  ],
  // A few requests at any size: checked between full scans too.
  frequent: true,
  reads: [
    { request: 'GET /policies/identitySecurityDefaultsEnforcementPolicy', permission: 'Policy.Read.All' },
    { request: 'GET /identity/conditionalAccess/policies', permission: 'Policy.Read.All', licence: 'Microsoft Entra ID P1' },
    { request: 'GET /groups/{id}/transitiveMembers (in $batch, excluded groups)', permission: 'GroupMember.Read.All' },
    { request: 'GET /organization?$select=displayName', permission: 'Organization.Read.All' },
  ],
  read: async (ctx) => {
    const p = await readPolicies(ctx.graph);
    const excludedAccounts = await withExcludedIds(ctx.graph, ctx.settings?.excludedAccounts ?? []);
    const name = await ctx.graph
      .get<{ value: Organization[] }>('/organization', { query: { $select: 'id,displayName' } })
      .then((r) => r.value?.[0]?.displayName ?? '')
      .catch(() => '');
    return { tenant: { id: ctx.tenantId, displayName: name || 'this tenant' }, securityDefaults: p.securityDefaults, policies: p.policies, groupMembers: p.groupMembers, excludedAccounts, gaps: p.gaps };
  },
  evaluate: evaluateBaselinePolicies,
};

export function evaluateBaselinePolicies(reads: BaselinePoliciesReads, now: Date): CheckResult<BaselinePoliciesData> {
  const policies = reads.policies ?? [];
  const verdicts = policies.map(judgePolicy);
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  // Exclusions a baseline tolerates: break-glass accounts, or groups that hold only them.
  const onlyBreakGlass = (p: ConditionalAccessPolicy): boolean => {
    const u = p.conditions?.users;
    const users = (u?.excludeUsers ?? []).every((id) => isExcluded({ id }));
    const groups = (u?.excludeGroups ?? []).every((g) => {
      const members = reads.groupMembers[g.toLowerCase()];
      return members !== undefined && members.every((id) => isExcluded({ id }));
    });
    return users && groups && !(u?.excludeRoles ?? []).length && !u?.excludeGuestsOrExternalUsers;
  };
  const allUsers = (p: ConditionalAccessPolicy) => (p.conditions?.users?.includeUsers ?? []).some((x) => x.toLowerCase() === 'all');
  const privileged = Object.keys(PRIVILEGED_ROLES);
  const rolesCovered = (p: ConditionalAccessPolicy) => {
    const inc = new Set((p.conditions?.users?.includeRoles ?? []).map((r) => r.toLowerCase()));
    return privileged.filter((r) => inc.has(r)).length;
  };

  const mfa = (id: 'mfa-admins' | 'mfa-all'): BaselineState => {
    const name = NAMES[id];
    if (reads.securityDefaults) return { id, name, met: true, by: 'security defaults', why: '' };
    const near: string[] = [];
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i];
      const v: PolicyVerdict = verdicts[i];
      if (!v.asksForMfa || p.state === 'disabled') continue;
      const scope = id === 'mfa-all' ? allUsers(p) : allUsers(p) || rolesCovered(p) === privileged.length;
      const partialScope = id === 'mfa-admins' && !scope && rolesCovered(p) > 0 ? `covers ${rolesCovered(p)} of the ${privileged.length} admin roles` : '';
      if (!v.counts) {
        if (scope || partialScope) near.push(`“${v.displayName}”: ${v.why}`);
        continue;
      }
      if (!scope) {
        if (partialScope) near.push(`“${v.displayName}”: ${partialScope}`);
        continue;
      }
      if (!onlyBreakGlass(p)) {
        near.push(`“${v.displayName}”: excludes people who are not break-glass accounts`);
        continue;
      }
      return { id, name, met: true, by: `Conditional Access “${v.displayName}”${v.note ? ` (${v.note})` : ''}`, why: '' };
    }
    return { id, name, met: false, by: '', why: near.length ? `Close, but not enough: ${near.join('; ')}.` : 'No policy does this.' };
  };
  const legacy = ((): BaselineState => {
    const b = legacyBlock(reads.securityDefaults, policies);
    return { id: 'block-legacy', name: NAMES['block-legacy'], met: b.blocked, by: b.by, why: b.blocked ? '' : b.partial.length ? `Close, but not enough: ${b.partial.join('; ')}.` : 'No policy does this.' };
  })();
  const unknown = !(reads.securityDefaults === true || (reads.securityDefaults === false && reads.policies !== null));
  const baselines = unknown ? [] : [mfa('mfa-admins'), mfa('mfa-all'), legacy];
  const findings: Finding[] = baselines
    .filter((b) => !b.met)
    .map((b) => ({
      severity: 'high' as const,
      subject: { id: `baseline:${b.id}`, displayName: b.name },
      detail: `Missing. ${b.why}`,
      remediation:
        b.id === 'mfa-admins' && !policies.some((p) => p.state === 'enabledForReportingButNotEnforced' && judgePolicy(p).asksForMfa && rolesCovered(p) > 0)
          ? 'ca.requireMfaForAdmins'
          : b.id === 'mfa-all' && policies.length === 0 && reads.policies !== null
            ? 'securityDefaults.enable'
            : null,
      target: { id: reads.tenant.id, displayName: reads.tenant.displayName },
    }));
  const met = baselines.filter((b) => b.met);
  const notes = [
    reads.securityDefaults === null ? '' : `Security defaults are ${reads.securityDefaults ? 'on' : 'off'}.`,
    ...met.map((b) => `✓ ${b.name}: ${b.by}.`),
    reads.securityDefaults === false && policies.length > 0 && findings.length ? 'Security defaults cannot be switched on while Conditional Access policies exist: finish the policies instead.' : '',
  ].filter(Boolean);
  return {
    id: baselinePolicies.id,
    title: baselinePolicies.title,
    status: unknown ? 'unknown' : findings.length === 0 ? 'pass' : met.length ? 'warn' : 'fail',
    reason: unknown
      ? 'I could not read security defaults and Conditional Access.'
      : findings.length === 0
        ? `All three baseline protections are in place${reads.securityDefaults ? ' (security defaults)' : ''}.`
        : `${met.length} of 3 baseline protections in place; missing: ${findings.map((f) => f.subject.displayName).join(', ')}.`,
    findings,
    gaps: reads.gaps,
    data: { securityDefaults: reads.securityDefaults, baselines, notes },
    generatedAt: now.toISOString(),
  };
}
