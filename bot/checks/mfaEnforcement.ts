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
 *
 * The users are judged as their pages arrive (each page's per-user MFA reads go out while the next
 * page is read): people whom MFA is required for, and guests, are only counted; the read keeps
 * just the people the check may report (and the excluded ones), so a 100k-user tenant is not held.
 */
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import { readAhead, type GraphApi } from '../graph/api';
import { gapFor } from './mfaRegistration';
import { must, mustEach, readPerUserMfaEach, readPolicies, readRoleHolders, PRIVILEGED_ROLES, type PerUserMfaState, type UserFacts } from './graphReads';
import { coverageOf, judgePolicy, type Coverage, type CoverageInputs, type PolicyVerdict } from './mfaCoverage';
import { MFA } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

/** People already judged and only counted (see MfaEnforcementReads.counted). */
export interface EnforcementCounts {
  members: number;
  membersRequired: number;
  /** Members whose status could not be told (something that might require MFA was unreadable). */
  membersUnknown: number;
  guests: number;
  guestsRequired: number;
  /** Members for whom MFA is required, per mechanism (in the order the mechanisms were first met). */
  by: Record<string, number>;
}

export interface MfaEnforcementReads {
  /**
   * Enabled users, members and guests, judged one by one. When `counted` is there, only the people
   * left to judge: the excluded ones and the members nothing was found to require MFA for.
   */
  users: Array<Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName' | 'userType'>>;
  /** The other enabled users, judged while they were read and only counted. */
  counted?: EnforcementCounts;
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

/** The counts (membersUnknown: members whose status could not be told), the verdict and why. */
export interface MfaEnforcementData extends EnforcementCounts {
  verdict: 'everyone' | 'some' | 'nobody' | 'unknown';
  securityDefaults: boolean | null;
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
    const roleIds = new Set(Object.keys(PRIVILEGED_ROLES));
    for (const p of policyReads.policies ?? []) for (const r of [...(p.conditions?.users?.includeRoles ?? []), ...(p.conditions?.users?.excludeRoles ?? [])]) roleIds.add(r);
    const rolesByUser: Record<string, string[]> = {};
    const holders = await must(readRoleHolders(graph, [...roleIds], { eligible: false }), 'Role holders', 'RoleManagement.Read.Directory');
    gaps.push(...holders.gaps);
    for (const h of holders.holders) (rolesByUser[h.principalId.toLowerCase()] ??= []).push(h.roleId);
    const reads: MfaEnforcementReads = {
      users: [],
      securityDefaults: policyReads.securityDefaults,
      policies: policyReads.policies,
      groupMembers: policyReads.groupMembers,
      rolesByUser,
      perUser: {},
      perUserComplete: true,
      excludedAccounts: ctx.settings?.excludedAccounts ?? [],
      gaps,
    };
    const pages = mustEach(
      readAhead(graph.pages<UserFacts>('/users', { query: { $filter: 'accountEnabled eq true', $select: 'id,displayName,userPrincipalName,userType', $top: 999 } })),
      'Enabled users',
      'User.Read.All',
    );
    await judgeWhileReading(graph, reads, pages);
    return reads;
  },
  evaluate: evaluateMfaEnforcement,
};

type EnabledUser = MfaEnforcementReads['users'][number];

/**
 * Judge users page by page. Guests and the members whom security defaults or Conditional Access
 * require MFA for are counted at once; the other members' per-user MFA state is read (in $batch,
 * while the next page is read), and those it requires MFA for are counted too. Left in `reads`:
 * the excluded people and the members nothing requires MFA for, with their per-user state. As
 * when everything was held, a per-user $batch that fails leaves no per-user state for anyone.
 */
async function judgeWhileReading(graph: GraphApi, reads: MfaEnforcementReads, pages: AsyncIterable<EnabledUser[]>): Promise<void> {
  const inputs = coverageInputs(reads);
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const counts: EnforcementCounts = { members: 0, membersRequired: 0, membersUnknown: 0, guests: 0, guestsRequired: 0, by: {} };
  /** Where each mechanism was first met in the users' order, so `by` lists them as judging them all in order would. */
  const firstSeen = new Map<string, number>();
  const kept: Array<{ seq: number; user: EnabledUser; excluded: boolean; state?: PerUserMfaState }> = [];
  /** Members required by their per-user state: counted only once every per-user read is in. */
  let perUserRequired = 0;
  /** Members nothing tenant-wide covers (their per-user state decides). */
  let candidates = 0;
  let batchFailure: { err: unknown } | undefined;
  let readFailure: Awaited<ReturnType<typeof readPerUserMfaEach>>;
  let seq = 0;
  for await (const page of pages) {
    const toRead = new Map<string, { seq: number; user: EnabledUser; excluded: boolean }>();
    for (const user of page) {
      const at = seq++;
      const excluded = isExcluded(user);
      const guest = user.userType === 'Guest';
      const cov = coverageOf(person(user, reads), inputs);
      if (excluded) kept.push({ seq: at, user, excluded });
      else if (guest) {
        counts.guests++;
        if (cov.required) counts.guestsRequired++;
      } else if (cov.required) countRequired(counts, mechanism(cov), firstSeen, at);
      else candidates++;
      // Per-user state for enabled members that nothing tenant-wide covers (excluded ones too, as ever).
      if (!reads.securityDefaults && !guest && !cov.required && !batchFailure) toRead.set(user.id!, { seq: at, user, excluded });
    }
    if (!toRead.size) continue;
    const answered = new Set<string>();
    try {
      const failed = await readPerUserMfaEach(graph, toRead.keys(), (id, state) => {
        answered.add(id);
        const c = toRead.get(id)!;
        // (A $batch still in flight when another failed: no per-user state is used.)
        if (c.excluded || batchFailure) return;
        if (state === 'enabled' || state === 'enforced') {
          perUserRequired++;
          firstSeen.set(PER_USER, Math.min(firstSeen.get(PER_USER) ?? Infinity, c.seq));
        } else kept.push({ seq: c.seq, user: c.user, excluded: false, state });
      });
      readFailure ??= failed;
    } catch (err) {
      batchFailure = { err };
    }
    // A person whose read failed is judged without a per-user state.
    for (const [id, c] of toRead) if (!c.excluded && !answered.has(id)) kept.push({ seq: c.seq, user: c.user, excluded: false });
  }
  if (batchFailure) {
    // No per-user state for anyone: every member nothing tenant-wide covers is "unknown".
    reads.gaps.push(gapFor(batchFailure.err, 'Per-user MFA state', 'Policy.Read.All'));
    reads.perUserComplete = false;
    counts.members += candidates;
    counts.membersUnknown += candidates;
    firstSeen.delete(PER_USER);
    reads.users = kept.filter((k) => k.excluded).sort((a, b) => a.seq - b.seq).map((k) => k.user);
  } else {
    if (readFailure) {
      reads.gaps.push(gapFor(readFailure, 'Per-user MFA state', 'Policy.Read.All'));
      reads.perUserComplete = false;
    }
    if (perUserRequired) {
      counts.members += perUserRequired;
      counts.membersRequired += perUserRequired;
      counts.by[PER_USER] = perUserRequired;
    }
    kept.sort((a, b) => a.seq - b.seq);
    for (const k of kept) if (k.state) reads.perUser[k.user.id!.toLowerCase()] = k.state;
    reads.users = kept.map((k) => k.user);
  }
  counts.by = Object.fromEntries([...firstSeen].sort((a, b) => a[1] - b[1]).map(([kind]) => [kind, counts.by[kind]]));
  reads.counted = counts;
}

const PER_USER = 'per-user MFA';

/** What requires MFA, as the card groups it: "security defaults", "Conditional Access", "per-user MFA". */
function mechanism(cov: Coverage): string {
  return cov.by.startsWith('Conditional Access') ? 'Conditional Access' : cov.by.startsWith('per-user') ? PER_USER : cov.by;
}

function countRequired(counts: EnforcementCounts, kind: string, firstSeen: Map<string, number>, at: number): void {
  counts.members++;
  counts.membersRequired++;
  counts.by[kind] = (counts.by[kind] ?? 0) + 1;
  if (!firstSeen.has(kind)) firstSeen.set(kind, at);
}

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
  const counted = reads.counted;
  const by: Record<string, number> = { ...counted?.by };
  let members = counted?.members ?? 0;
  let membersRequired = counted?.membersRequired ?? 0;
  let membersUnknown = counted?.membersUnknown ?? 0;
  let guests = counted?.guests ?? 0;
  let guestsRequired = counted?.guestsRequired ?? 0;
  const privileged = new Set(Object.keys(PRIVILEGED_ROLES));
  // Most people share one of a few details (the same policies leave them out): one string each, not
  // one per person (tens of MB of findings in a 100k-user tenant).
  const details = new Map<string, string>();
  const shared = (detail: string): string => {
    const hit = details.get(detail);
    if (hit !== undefined) return hit;
    details.set(detail, detail);
    return detail;
  };
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
      const kind = mechanism(cov);
      by[kind] = (by[kind] ?? 0) + 1;
      continue;
    }
    const roles = (reads.rolesByUser[u.id!.toLowerCase()] ?? []).filter((r) => privileged.has(r)).map((r) => PRIVILEGED_ROLES[r]);
    const isAdmin = roles.length > 0;
    const why = cov.notCounted.length ? `Only policies that do not count cover them: ${cov.notCounted.join(', ')}.` : 'No policy covers them and per-user MFA is off.';
    findings.push({
      severity: isAdmin ? 'high' : 'medium',
      subject,
      detail: shared(`${isAdmin ? `${[...new Set(roles)].join(', ')} · ` : ''}MFA is not required. ${why}`),
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
