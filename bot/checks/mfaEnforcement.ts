/**
 * mfa.enforcement — is MFA actually *required* for each enabled person, and for everyone?
 *
 * "Registered" is not "required": a person with the Authenticator app can still sign in with a
 * password alone unless something demands MFA. Three things can: security defaults, an enforced
 * Conditional Access policy that covers the person and every sign-in (see mfaCoverage.ts for
 * exactly what counts — risk-only, report-only, legacy-only and few-app policies do not), or
 * per-user MFA (enabled/enforced).
 *
 * Reads: security defaults; CA policies; members of the groups they name ($batch); holders of the
 * roles they name and of the privileged roles (one $batch, one filter per role); enabled users
 * (one paged, filtered list); per-user MFA state ($batch of 20, beta) only for the people nothing
 * else covers.
 */
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import { must, readPerUserMfa, readPolicies, readRoleHolders, PRIVILEGED_ROLES, type PerUserMfaState, type UserFacts } from './graphReads';
import { coverageOf, judgePolicy, type CoverageInputs, type PolicyVerdict } from './mfaCoverage';
import { MFA } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface MfaEnforcementReads {
  /** Enabled users, members and guests. */
  users: Array<Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName' | 'userType'>>;
  securityDefaults: boolean | null;
  /** null = could not be read */
  policies: ConditionalAccessPolicy[] | null;
  groupMembers: Record<string, string[]>;
  /** Role template ids held (actively) per user id, lower-cased. */
  rolesByUser: Record<string, string[]>;
  perUser: Record<string, PerUserMfaState>;
  /** false when the per-user MFA state of some uncovered people could not be read. */
  perUserComplete: boolean;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface MfaEnforcementData {
  verdict: 'everyone' | 'some' | 'nobody' | 'unknown';
  securityDefaults: boolean | null;
  members: number;
  membersRequired: number;
  /** Members whose status could not be told (something that might require MFA was unreadable). */
  membersUnknown: number;
  guests: number;
  guestsRequired: number;
  /** How many are covered by each mechanism. */
  by: Record<string, number>;
  /** Policies that ask for MFA, and whether they count. */
  policies: PolicyVerdict[];
  excluded: Subject[];
  notes: string[];
}

export const mfaEnforcement: Check<MfaEnforcementReads, MfaEnforcementData> = {
  id: 'mfa.enforcement',
  title: 'Is MFA enforced?',
  why: 'Registering MFA is not enough: unless security defaults, an enforced Conditional Access policy or per-user MFA demands it, a stolen password still signs in.',
  ask: 'is MFA enforced?',
  questions: [
    new RegExp(String.raw`\b${MFA}\b.*\b(?:enforced|enforcement|enforcing|required|requirement|mandatory|compulsory|turned on|switched on|on for (?:every|all)\w*|enabled for (?:every|all)\w*)\b`),
    new RegExp(String.raw`\b(?:enforce[sd]?|enforcing|requires?|required|mandatory|force[sd]?)\b.*\b${MFA}\b`),
    new RegExp(String.raw`^(?:is|are)\s+${MFA}\s+(?:on|enabled|switched on|turned on)\b`),
    new RegExp(String.raw`\b(?:does|do|must|has|have)\s+(?:every(?:one|body)|all (?:users|staff|people))\s+(?:have\s+to\s+|need\s+to\s+|got\s+to\s+)?use\s+${MFA}\b`),
  ],
  reads: [
    { request: 'GET /identity/conditionalAccess/policies', permission: 'Policy.Read.All', licence: 'Microsoft Entra ID P1 (without it: security defaults and per-user MFA only)' },
    { request: 'GET /policies/identitySecurityDefaultsEnforcementPolicy', permission: 'Policy.Read.All' },
    { request: 'GET /users?$filter=accountEnabled eq true', permission: 'User.Read.All' },
    { request: 'GET /groups/{id}/transitiveMembers (in $batch, groups named by policies)', permission: 'GroupMember.Read.All' },
    { request: 'GET /roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq … (in $batch)', permission: 'RoleManagement.Read.Directory' },
    { request: 'GET /beta/users/{id}/authentication/requirements (in $batch, uncovered people only)', permission: 'Policy.Read.All' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const policyReads = await readPolicies(graph);
    const gaps = [...policyReads.gaps];
    const users = await must(
      graph.all<UserFacts>('/users', { query: { $filter: 'accountEnabled eq true', $select: 'id,displayName,userPrincipalName,userType', $top: 999 } }),
      'Enabled users',
      'User.Read.All',
    );
    const roleIds = new Set(Object.keys(PRIVILEGED_ROLES));
    for (const p of policyReads.policies ?? []) for (const r of [...(p.conditions?.users?.includeRoles ?? []), ...(p.conditions?.users?.excludeRoles ?? [])]) roleIds.add(r);
    const rolesByUser: Record<string, string[]> = {};
    const holders = await must(readRoleHolders(graph, [...roleIds], { eligible: false }), 'Role holders', 'RoleManagement.Read.Directory');
    gaps.push(...holders.gaps);
    for (const h of holders.holders) (rolesByUser[h.principalId.toLowerCase()] ??= []).push(h.roleId);
    const reads: MfaEnforcementReads = {
      users,
      securityDefaults: policyReads.securityDefaults,
      policies: policyReads.policies,
      groupMembers: policyReads.groupMembers,
      rolesByUser,
      perUser: {},
      perUserComplete: true,
      excludedAccounts: ctx.settings?.excludedAccounts ?? [],
      gaps,
    };
    // Per-user state only for enabled members that nothing tenant-wide already covers.
    if (!reads.securityDefaults) {
      const inputs = coverageInputs(reads);
      const uncovered = users.filter((u) => u.userType !== 'Guest' && !coverageOf(person(u, reads), inputs).required).map((u) => u.id!);
      const perUser = await readPerUserMfa(graph, uncovered);
      reads.perUser = perUser.states;
      reads.perUserComplete = perUser.complete;
      gaps.push(...perUser.gaps);
    }
    return reads;
  },
  evaluate: evaluateMfaEnforcement,
};

function person(u: MfaEnforcementReads['users'][number], reads: Pick<MfaEnforcementReads, 'rolesByUser'>) {
  return { id: u.id!, userPrincipalName: u.userPrincipalName, userType: u.userType, roles: new Set(reads.rolesByUser[u.id!.toLowerCase()] ?? []) };
}

/** Security defaults on, or off with the Conditional Access policies read: enough to judge people. */
function policiesKnown(reads: Pick<MfaEnforcementReads, 'securityDefaults' | 'policies'>): boolean {
  return reads.securityDefaults === true || (reads.securityDefaults === false && reads.policies !== null);
}

function coverageInputs(reads: MfaEnforcementReads): CoverageInputs {
  const policies = reads.policies ?? [];
  return {
    securityDefaults: reads.securityDefaults,
    policies,
    verdicts: policies.map(judgePolicy),
    groupMembers: reads.groupMembers,
    perUser: reads.perUser,
    perUserComplete: reads.perUserComplete,
    policiesKnown: policiesKnown(reads),
  };
}

export function evaluateMfaEnforcement(reads: MfaEnforcementReads, now: Date): CheckResult<MfaEnforcementData> {
  const inputs = coverageInputs(reads);
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  const by: Record<string, number> = {};
  let members = 0;
  let membersRequired = 0;
  let membersUnknown = 0;
  let guests = 0;
  let guestsRequired = 0;
  const privileged = new Set(Object.keys(PRIVILEGED_ROLES));
  for (const u of reads.users) {
    const subject: Subject = { id: u.id!, displayName: u.displayName ?? '', userPrincipalName: u.userPrincipalName ?? '' };
    if (isExcluded(u)) {
      excluded.push(subject);
      continue;
    }
    const cov = coverageOf(person(u, reads), inputs);
    const guest = u.userType === 'Guest';
    if (guest) {
      guests++;
      if (cov.required) guestsRequired++;
      continue;
    }
    members++;
    if (cov.unknown) {
      // Never a finding without the evidence: whatever could not be read might require MFA.
      membersUnknown++;
      continue;
    }
    if (cov.required) {
      membersRequired++;
      const kind = cov.by.startsWith('Conditional Access') ? 'Conditional Access' : cov.by.startsWith('per-user') ? 'per-user MFA' : cov.by;
      by[kind] = (by[kind] ?? 0) + 1;
      continue;
    }
    const roles = (reads.rolesByUser[u.id!.toLowerCase()] ?? []).filter((r) => privileged.has(r)).map((r) => PRIVILEGED_ROLES[r]);
    const isAdmin = roles.length > 0;
    const why = cov.notCounted.length ? `Only policies that do not count cover them: ${cov.notCounted.join(', ')}.` : 'No policy covers them and per-user MFA is off.';
    findings.push({
      severity: isAdmin ? 'high' : 'medium',
      subject,
      detail: `${isAdmin ? `${[...new Set(roles)].join(', ')} · ` : ''}MFA is not required. ${why}`,
      remediation: 'mfa.require',
      facts: { isAdmin, perUserMfaState: reads.perUser[u.id!.toLowerCase()] ?? null },
    });
  }
  findings.sort((a, b) => Number(b.facts?.isAdmin) - Number(a.facts?.isAdmin) || a.subject.displayName.localeCompare(b.subject.displayName));
  const mfaPolicies = (reads.policies ?? []).map(judgePolicy).filter((v) => v.asksForMfa && v.state !== 'disabled');
  const unknown = !policiesKnown(reads);
  const verdict: MfaEnforcementData['verdict'] = unknown ? 'unknown' : members === 0 || membersRequired === members ? 'everyone' : membersRequired === 0 && !membersUnknown ? 'nobody' : 'some';
  const notes = mfaPolicies.filter((v) => !v.counts).map((v) => `Not counted: “${v.displayName}” — ${v.why}.`);
  if (reads.securityDefaults) notes.unshift('Security defaults are on: everyone must register MFA; admins use it at every sign-in, others whenever Microsoft judges a sign-in risky.');
  const couldNot = membersUnknown ? ` For ${membersUnknown} I could not tell (see below).` : '';
  const reason = unknown
    ? 'I could not read security defaults and Conditional Access, so I cannot tell whether MFA is required.'
    : verdict === 'everyone'
      ? `MFA is required for every enabled member${reads.securityDefaults ? ' (security defaults)' : ''}.`
      : verdict === 'nobody'
        ? `Nothing requires MFA: none of the ${members} enabled members must use it to sign in.`
        : `MFA is required for only ${membersRequired} of ${members} enabled members; ${findings.length} can sign in with a password alone.${couldNot}`;
  return {
    id: mfaEnforcement.id,
    title: mfaEnforcement.title,
    status: unknown ? 'unknown' : verdict === 'everyone' ? (guests > guestsRequired ? 'warn' : 'pass') : findings.length ? 'fail' : 'unknown',
    reason: verdict === 'everyone' && guests > guestsRequired ? `${reason} ${guests - guestsRequired} of ${guests} guests are not required to use it.` : reason,
    findings,
    gaps: reads.gaps,
    data: { verdict, securityDefaults: reads.securityDefaults, members, membersRequired, membersUnknown, guests, guestsRequired, by, policies: mfaPolicies, excluded, notes },
    generatedAt: now.toISOString(),
  };
}
