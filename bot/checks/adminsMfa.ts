/**
 * admins.mfa — people holding a privileged role (Global, Privileged Role, Security, Exchange,
 * SharePoint, User, Helpdesk, Billing, Conditional Access, Authentication administrators) who
 * have no MFA method registered, or for whom nothing *requires* MFA.
 *
 * Role holders come from roleManagement/directory/roleAssignments ($expand=principal), not only
 * from activated directoryRoles, plus PIM-eligible holders (roleEligibilityScheduleInstances)
 * where the tenant has Entra ID P2 — the card says so when it has not. Role-assignable groups
 * are expanded to their members. An eligible holder is judged as if the role were active: a
 * Conditional Access policy that targets the role applies once they activate it.
 *
 * Reads: one $batch per role source (one filter per role); account facts and registered methods
 * of the (few) admins in $batch; policies as in mfa.enforcement; per-user MFA state in $batch for
 * admins nothing else covers.
 */
import type { AuthenticationMethod, ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import { must, readPerUserMfa, readPolicies, readRoleHolders, usersByIds, type PerUserMfaState, type RoleHolder, type UserFacts } from './graphReads';
import { coverageOf, judgePolicy } from './mfaCoverage';
import { gapFor, MFA } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface AdminsMfaReads {
  holders: RoleHolder[];
  /** false = no P2 (PIM), null = not read */
  eligibilityRead: boolean | null;
  accounts: Record<string, Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName' | 'accountEnabled' | 'userType'>>;
  /** Has at least one second factor registered, per admin id (lower-cased); absent = unknown. */
  mfaRegistered: Record<string, boolean>;
  securityDefaults: boolean | null;
  policies: ConditionalAccessPolicy[] | null;
  groupMembers: Record<string, string[]>;
  perUser: Record<string, PerUserMfaState>;
  /** false when the per-user MFA state of some uncovered admins could not be read. */
  perUserComplete: boolean;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface AdminRow {
  id: string;
  displayName: string;
  userPrincipalName: string;
  roles: string[];
  registered: boolean | null;
  /** null = could not be told (something that might require MFA was unreadable) */
  required: boolean | null;
  requiredBy: string;
}

export interface AdminsMfaData {
  admins: AdminRow[];
  eligibilityRead: boolean | null;
  /** Apps (service principals) holding privileged roles: no MFA applies to them. */
  apps: string[];
  excluded: Subject[];
  notes: string[];
}

/** Ways people write "admin(s)". */
export const ADMINS = String.raw`(?:admins?|administrators?|admin accounts?|privileged (?:accounts?|users?|roles?))`;
/** Method types that are not a second factor. */
const NOT_MFA = new Set(['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.emailAuthenticationMethod']);

export const adminsMfa: Check<AdminsMfaReads, AdminsMfaData> = {
  id: 'admins.mfa',
  title: 'Admins without MFA',
  why: 'An admin account that can sign in with a password alone hands an attacker the whole tenant.',
  ask: 'do our admins have MFA?',
  questions: [
    new RegExp(String.raw`\b${ADMINS}\b.*\b${MFA}\b`),
    new RegExp(String.raw`\b${MFA}\b.*\b${ADMINS}\b`),
    new RegExp(String.raw`\b(?:are|is)\s+(?:our|the|my)?\s*${ADMINS}\s+(?:protected|secure|safe)\b`),
  ],
  reads: [
    { request: 'GET /roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq …&$expand=principal (in $batch)', permission: 'RoleManagement.Read.Directory' },
    { request: 'GET /roleManagement/directory/roleEligibilityScheduleInstances?$filter=roleDefinitionId eq …&$expand=principal (in $batch)', permission: 'RoleEligibilitySchedule.Read.Directory', licence: 'Microsoft Entra ID P2 (PIM)' },
    { request: 'GET /users/{id}/authentication/methods (in $batch, admins only)', permission: 'UserAuthenticationMethod.Read.All' },
    { request: 'GET /users?$filter=id in (…) (in $batch)', permission: 'User.Read.All' },
    { request: 'GET /identity/conditionalAccess/policies, /policies/identitySecurityDefaultsEnforcementPolicy', permission: 'Policy.Read.All', licence: 'Microsoft Entra ID P1 (for Conditional Access)' },
    { request: 'GET /beta/users/{id}/authentication/requirements (in $batch, uncovered admins only)', permission: 'Policy.Read.All' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const roles = await must(readRoleHolders(graph), 'Role holders', 'RoleManagement.Read.Directory');
    const gaps = [...roles.gaps];
    const userIds = [...new Set(roles.holders.filter((h) => h.principalType === 'user').map((h) => h.principalId))];
    const accounts = await must(usersByIds(graph, userIds), 'Admin accounts', 'User.Read.All');
    const mfaRegistered: Record<string, boolean> = {};
    try {
      const responses = await graph.batch<{ value: AuthenticationMethod[] }>(userIds.map((id, i) => ({ id: String(i), method: 'GET', url: `/users/${id}/authentication/methods` })));
      let failed: unknown;
      responses.forEach((res, i) => {
        if (res.error) {
          if (!res.error.isNotFound) failed ??= res.error;
          return;
        }
        mfaRegistered[userIds[i].toLowerCase()] = (res.body?.value ?? []).some((m) => !NOT_MFA.has(String((m as Record<string, unknown>)['@odata.type'])));
      });
      if (failed) gaps.push(gapFor(failed, 'Which admins have MFA registered', 'UserAuthenticationMethod.Read.All'));
    } catch (err) {
      gaps.push(gapFor(err, 'Which admins have MFA registered', 'UserAuthenticationMethod.Read.All'));
    }
    const policyReads = await readPolicies(graph);
    gaps.push(...policyReads.gaps);
    const reads: AdminsMfaReads = {
      holders: roles.holders,
      eligibilityRead: roles.eligibilityRead,
      accounts,
      mfaRegistered,
      securityDefaults: policyReads.securityDefaults,
      policies: policyReads.policies,
      groupMembers: policyReads.groupMembers,
      perUser: {},
      perUserComplete: true,
      excludedAccounts: ctx.settings?.excludedAccounts ?? [],
      gaps,
    };
    if (!reads.securityDefaults) {
      const uncovered = adminPeople(reads).filter((p) => !coverageOf(p, inputsOf(reads)).required).map((p) => p.id);
      const perUser = await readPerUserMfa(graph, uncovered);
      reads.perUser = perUser.states;
      reads.perUserComplete = perUser.complete;
      gaps.push(...perUser.gaps);
    }
    return reads;
  },
  evaluate: evaluateAdminsMfa,
};

function inputsOf(reads: AdminsMfaReads) {
  const policies = reads.policies ?? [];
  const policiesKnown = reads.securityDefaults === true || (reads.securityDefaults === false && reads.policies !== null);
  return { securityDefaults: reads.securityDefaults, policies, verdicts: policies.map(judgePolicy), groupMembers: reads.groupMembers, perUser: reads.perUser, perUserComplete: reads.perUserComplete, policiesKnown };
}

/** Enabled user accounts holding a privileged role, with every role they hold (active or eligible). */
function adminPeople(reads: AdminsMfaReads) {
  const byId = new Map<string, { id: string; userPrincipalName: string; userType: string | null; displayName: string; roles: Set<string>; labels: Set<string> }>();
  for (const h of reads.holders) {
    if (h.principalType !== 'user') continue;
    const account = reads.accounts[h.principalId] ?? Object.values(reads.accounts).find((a) => a.id?.toLowerCase() === h.principalId.toLowerCase());
    if (account && account.accountEnabled === false) continue; // a disabled account cannot sign in
    const key = h.principalId.toLowerCase();
    let p = byId.get(key);
    if (!p) {
      p = {
        id: h.principalId,
        userPrincipalName: account?.userPrincipalName ?? h.principalUpn ?? '',
        userType: account?.userType ?? null,
        displayName: account?.displayName ?? h.principalName,
        roles: new Set(),
        labels: new Set(),
      };
      byId.set(key, p);
    }
    p.roles.add(h.roleId);
    const scope = h.directoryScopeId && h.directoryScopeId !== '/' ? ', scoped' : '';
    const via = h.viaGroup ? ` via group ${h.viaGroup.displayName}` : '';
    p.labels.add(`${h.roleName}${h.kind === 'eligible' ? ' (eligible' + scope + ')' : scope ? ' (scoped)' : ''}${via}`);
  }
  return [...byId.values()];
}

export function evaluateAdminsMfa(reads: AdminsMfaReads, now: Date): CheckResult<AdminsMfaData> {
  const inputs = inputsOf(reads);
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const admins: AdminRow[] = [];
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  for (const p of adminPeople(reads)) {
    const subject: Subject = { id: p.id, displayName: p.displayName, userPrincipalName: p.userPrincipalName };
    if (isExcluded(p)) {
      excluded.push(subject);
      continue;
    }
    const cov = coverageOf(p, inputs);
    const registered = reads.mfaRegistered[p.id.toLowerCase()] ?? null;
    const roles = [...p.labels].sort();
    admins.push({ ...subject, userPrincipalName: p.userPrincipalName, roles, registered, required: cov.unknown ? null : cov.required, requiredBy: cov.by });
    // A finding only on evidence: no method registered, or enforcement read and found missing.
    if (registered !== false && (cov.required || cov.unknown)) continue;
    const problems: string[] = [];
    if (registered === false) problems.push('no MFA method registered');
    if (!cov.required && !cov.unknown) problems.push(cov.notCounted.length ? `MFA not required: only ${cov.notCounted.join(', ')} cover${cov.notCounted.length === 1 ? 's' : ''} them` : 'MFA not required by any policy, security defaults or per-user MFA');
    findings.push({
      severity: 'high',
      subject,
      detail: `${roles.join(', ')} · ${problems.join(' · ')}`,
      remediation: 'mfa.require',
      facts: { registered, required: cov.unknown ? null : cov.required, roles: roles.join(', ') },
    });
  }
  findings.sort((a, b) => Number(a.facts?.registered !== false) - Number(b.facts?.registered !== false) || a.subject.displayName.localeCompare(b.subject.displayName));
  const apps = [...new Set(reads.holders.filter((h) => h.principalType === 'servicePrincipal').map((h) => `${h.principalName} (${h.roleName})`))];
  const notes: string[] = [];
  if (reads.eligibilityRead === true) notes.push('PIM-eligible role holders are included.');
  if (apps.length) notes.push(`Apps holding privileged roles (MFA does not apply to them): ${apps.join(', ')}.`);
  const bad = findings.length;
  const undetermined = admins.filter((a) => a.registered === null || a.required === null).length;
  if (undetermined) notes.push(`${undetermined} admin${undetermined === 1 ? '' : 's'} could not be fully checked (see below).`);
  return {
    id: adminsMfa.id,
    title: adminsMfa.title,
    status: bad ? 'fail' : undetermined ? 'unknown' : admins.length ? 'pass' : 'warn',
    reason: bad
      ? `${bad} of ${admins.length} admin${admins.length === 1 ? '' : 's'} can sign in without MFA${findings.some((f) => f.facts?.registered === false) ? `; ${findings.filter((f) => f.facts?.registered === false).length} ha${findings.filter((f) => f.facts?.registered === false).length === 1 ? 's' : 've'} no MFA method at all` : ''}.`
      : undetermined
        ? `No admin is known to lack MFA, but ${undetermined} of ${admins.length} could not be fully checked.`
        : admins.length
        ? `All ${admins.length} admins have MFA registered and required.`
        : 'I found no enabled people holding a privileged role.',
    findings,
    gaps: reads.gaps,
    data: { admins, eligibilityRead: reads.eligibilityRead, apps, excluded, notes },
    generatedAt: now.toISOString(),
  };
}
