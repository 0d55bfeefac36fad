/**
 * Control knobs that change a demo tenant the way real life does — someone joins without MFA,
 * an attacker adds a forwarding rule, a seventh Global Admin appears — so scheduled scans and
 * alerts can be shown and tested. Also reachable over HTTP: POST /_demo/changes.
 */
import { guidFrom, outlookId } from './ids';
import { PASSWORD_METHOD_ID, ROLE_TEMPLATE_IDS, roleAssignmentId } from './seed';
import type { DemoTenantState } from './state';
export { synchronizationReset } from './routes/usersDelta';

export interface NewJoiner {
  id?: string;
  displayName: string;
  userPrincipalName: string;
  createdDaysAgo?: number;
}

/** A new enabled member with only a password: the seeds' new joiner who slipped through. */
export function addJoinerWithoutMfa(state: DemoTenantState, now: Date, j: NewJoiner): string {
  const id = j.id ?? guidFrom(`joiner/${state.id}/${j.userPrincipalName}`);
  const created = new Date(now.getTime() - (j.createdDaysAgo ?? 1) * 86_400_000).toISOString();
  const [given, ...rest] = j.displayName.split(' ');
  state.addUser({
    user: {
      id,
      displayName: j.displayName,
      givenName: given,
      surname: rest.join(' '),
      userPrincipalName: j.userPrincipalName,
      mail: j.userPrincipalName,
      accountEnabled: true,
      userType: 'Member',
      createdDateTime: created,
      assignedLicenses: [],
    },
    hasMailbox: true,
    perUserMfaState: 'disabled',
    methods: [{ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: created }],
    inboxRules: [],
  });
  return id;
}

/** Someone deleted a user (a leaver): gone from /users; /users/delta reports it removed. */
export function removeUser(state: DemoTenantState, userId: string): void {
  if (!state.removeUser(userId)) throw new Error(`demo tenant ${state.id} has no user ${userId}`);
}

/** Give a user an Authenticator registration (they fixed it). */
export function registerAuthenticator(state: DemoTenantState, userId: string, now: Date): void {
  const rec = mustFind(state, userId);
  rec.methods.push({
    '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
    id: guidFrom(`${userId}/authenticator/added/${rec.methods.length}`),
    displayName: 'iPhone 15',
    deviceTag: 'SoftwareTokenActivated',
    phoneAppVersion: '6.2401.0119',
    createdDateTime: now.toISOString(),
  });
}

/** Remove every second factor again (a reset gone wrong; the finding comes back). */
export function removeSecondFactors(state: DemoTenantState, userId: string): void {
  const rec = mustFind(state, userId);
  rec.methods = rec.methods.filter((m) => m['@odata.type'] === '#microsoft.graph.passwordAuthenticationMethod');
}

/** An inbox rule forwarding matching mail outside the organisation (the attack story). */
export function addForwardingRule(state: DemoTenantState, userId: string, rule: { displayName: string; address: string; subjectContains?: string[] }): string {
  const rec = mustFind(state, userId);
  const id = outlookId(`rule/${userId}/${rule.displayName}/${rec.inboxRules.length}`);
  rec.inboxRules.push({
    id,
    displayName: rule.displayName,
    sequence: rec.inboxRules.length + 1,
    isEnabled: true,
    hasError: false,
    isReadOnly: false,
    conditions: rule.subjectContains ? { subjectContains: rule.subjectContains } : {},
    actions: { forwardTo: [{ emailAddress: { name: rule.address, address: rule.address } }], stopProcessingRules: false },
  });
  return id;
}

/** Assign the Global Administrator role. */
export function addGlobalAdmin(state: DemoTenantState, userId: string): string {
  mustFind(state, userId);
  const roleDefinitionId = ROLE_TEMPLATE_IDS.globalAdministrator;
  const id = roleAssignmentId(roleDefinitionId, userId);
  state.roleAssignments.set(id, { id, principalId: userId, roleDefinitionId, directoryScopeId: '/' });
  return id;
}

function mustFind(state: DemoTenantState, userId: string) {
  const rec = state.findUser(userId);
  if (!rec) throw new Error(`demo tenant ${state.id} has no user ${userId}`);
  return rec;
}
