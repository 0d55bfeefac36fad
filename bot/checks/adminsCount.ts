/**
 * admins.count — how many Global Administrators, and who they are: warn above 4, fail above 5
 * or below 2 (one Global Admin is a single point of failure; many are many ways in).
 *
 * Counts distinct enabled people holding Global Administrator actively or PIM-eligibly
 * (role-assignable groups expanded). Break-glass accounts count — they are Global Admins — but
 * are shown as excluded rather than offered for removal. "Who are the admins?" lands here, so
 * the card also lists the holders of the other privileged roles.
 */
import { GLOBAL_ADMIN_ROLE, must, readRoleHolders, usersByIds, type RoleHolder, type UserFacts } from './graphReads';
import { ADMINS } from './adminsMfa';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface AdminsCountReads {
  holders: RoleHolder[];
  eligibilityRead: boolean | null;
  accounts: Record<string, Pick<UserFacts, 'id' | 'accountEnabled' | 'displayName' | 'userPrincipalName'>>;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface AdminsCountData {
  globalAdmins: number;
  /** Holders of the other privileged roles, "Role: A, B". */
  otherRoles: string[];
  excluded: Subject[];
  notes: string[];
}

export const adminsCount: Check<AdminsCountReads, AdminsCountData> = {
  id: 'admins.count',
  title: 'Global Administrators',
  why: 'Between two and four Global Admins: fewer is a single point of failure, more is more ways to take over the tenant.',
  ask: 'who are the admins?',
  questions: [
    new RegExp(String.raw`\b(?:who|which|list|show|how many|count)\b.*\b(?:global\s+)?${ADMINS}\b`),
    new RegExp(String.raw`^(?:our\s+|the\s+)?(?:global\s+)?${ADMINS}$`),
    new RegExp(String.raw`\bglobal\s+${ADMINS}\b`),
    new RegExp(String.raw`\bwho\s+(?:has|have)\s+admin(?:istrator)?\s+(?:rights|access|roles?)\b`),
  ],
  // A few requests at any size: checked between full scans too.
  frequent: true,
  reads: [
    { request: 'GET /roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq …&$expand=principal (in $batch)', permission: 'RoleManagement.Read.Directory' },
    { request: 'GET /roleManagement/directory/roleEligibilityScheduleInstances?$filter=… (in $batch)', permission: 'RoleEligibilitySchedule.Read.Directory', licence: 'Microsoft Entra ID P2 (PIM)' },
    { request: 'GET /users?$filter=id in (…) (in $batch)', permission: 'User.Read.All' },
  ],
  read: async (ctx) => {
    const roles = await must(readRoleHolders(ctx.graph), 'Role holders', 'RoleManagement.Read.Directory');
    const ids = roles.holders.filter((h) => h.principalType === 'user').map((h) => h.principalId);
    const accounts = await must(usersByIds(ctx.graph, ids, 'id,accountEnabled,displayName,userPrincipalName'), 'Admin accounts', 'User.Read.All');
    return { holders: roles.holders, eligibilityRead: roles.eligibilityRead, accounts, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps: roles.gaps };
  },
  evaluate: evaluateAdminsCount,
};

export function evaluateAdminsCount(reads: AdminsCountReads, now: Date): CheckResult<AdminsCountData> {
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const enabled = (h: RoleHolder) => {
    const a = reads.accounts[h.principalId] ?? Object.values(reads.accounts).find((x) => x.id?.toLowerCase() === h.principalId.toLowerCase());
    return a?.accountEnabled !== false;
  };
  const gaRows = reads.holders.filter((h) => h.roleId === GLOBAL_ADMIN_ROLE && h.principalType === 'user' && enabled(h));
  const people = new Map<string, RoleHolder[]>();
  for (const h of gaRows) {
    const k = h.principalId.toLowerCase();
    people.set(k, [...(people.get(k) ?? []), h]);
  }
  const count = people.size;
  const status = count > 5 || count < 2 ? 'fail' : count > 4 ? 'warn' : 'pass';
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  for (const rows of people.values()) {
    const h = rows.find((r) => r.kind === 'active' && !r.viaGroup) ?? rows[0];
    const account = reads.accounts[h.principalId];
    const subject: Subject = { id: h.principalId, displayName: account?.displayName ?? h.principalName, userPrincipalName: account?.userPrincipalName ?? h.principalUpn ?? '' };
    if (isExcluded(subject)) {
      excluded.push(subject);
      continue;
    }
    const how = rows.map((r) => (r.viaGroup ? `through group ${r.viaGroup.displayName}` : r.kind === 'eligible' ? 'eligible (PIM)' : 'active')).join(', ');
    const removable = status !== 'pass' && count > 2 && h.kind === 'active' && !h.viaGroup;
    findings.push({
      severity: status === 'fail' && count > 5 ? 'medium' : status === 'warn' ? 'low' : 'info',
      subject,
      detail: `Global Administrator · ${how}${h.directoryScopeId !== '/' ? ' · scoped' : ''}`,
      remediation: removable ? 'role.removeGlobalAdmin' : null,
      target: removable ? { id: h.assignmentId, displayName: subject.displayName, detail: `Global Administrator · ${subject.userPrincipalName}`, userId: h.principalId } : undefined,
      facts: { kind: h.kind },
    });
  }
  findings.sort((a, b) => a.subject.displayName.localeCompare(b.subject.displayName));
  const others = new Map<string, Set<string>>();
  for (const h of reads.holders) {
    if (h.roleId === GLOBAL_ADMIN_ROLE || (h.principalType === 'user' && !enabled(h))) continue;
    const names = others.get(h.roleName) ?? new Set<string>();
    names.add(`${h.principalName}${h.kind === 'eligible' ? ' (eligible)' : ''}${h.principalType === 'servicePrincipal' ? ' (app)' : ''}`);
    others.set(h.roleName, names);
  }
  const otherRoles = [...others.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([role, names]) => `${role}: ${[...names].sort().join(', ')}`);
  const apps = reads.holders.filter((h) => h.roleId === GLOBAL_ADMIN_ROLE && h.principalType === 'servicePrincipal').map((h) => h.principalName);
  const notes = [
    ...(excluded.length ? [`Break-glass accounts count towards the ${count}.`] : []),
    ...(apps.length ? [`Apps with Global Administrator (not counted): ${apps.join(', ')}.`] : []),
    ...(otherRoles.length ? [`Other privileged roles — ${otherRoles.join(' · ')}`] : []),
  ];
  const reason =
    count < 2
      ? `Only ${count} Global Administrator${count === 1 ? '' : 's'}: add a second (a break-glass account) so one lost phone cannot lock you out.`
      : count > 5
        ? `${count} Global Administrators: more than 5 is too many. Keep 2 to 4 and give others narrower roles.`
        : count > 4
          ? `${count} Global Administrators: Microsoft recommends fewer than 5.`
          : `${count} Global Administrators: within the recommended 2 to 4.`;
  return {
    id: adminsCount.id,
    title: adminsCount.title,
    status,
    reason,
    findings,
    gaps: reads.gaps,
    data: { globalAdmins: count, otherRoles, excluded, notes },
    generatedAt: now.toISOString(),
  };
}
