/** Every fix Vigil knows, by id. The ids are an interface: checks name them in their findings. */
import { disableRule, deleteRule } from './actions/inboxRules';
import { removeAdminLicences } from './actions/removeAdminLicences';
import { removeAuthMethod } from './actions/removeAuthMethod';
import { removeGlobalAdmin } from './actions/removeGlobalAdmin';
import { requireMfa } from './actions/requireMfa';
import { enableSecurityDefaults, requireMfaForAdminsPolicy } from './actions/tenantPolicies';
import { blockSignIn, revokeSessions, unblockSignIn } from './actions/userAccount';
import type { RemediationAction } from './types';

const ACTIONS: RemediationAction[] = [
  requireMfa,
  revokeSessions,
  blockSignIn,
  unblockSignIn,
  disableRule,
  deleteRule,
  removeGlobalAdmin,
  removeAdminLicences,
  enableSecurityDefaults,
  requireMfaForAdminsPolicy,
  removeAuthMethod,
];

const BY_ID = new Map(ACTIONS.map((a) => [a.id, a]));

export function findAction(id: string): RemediationAction | undefined {
  return BY_ID.get(id);
}

export function allActions(): readonly RemediationAction[] {
  return ACTIONS;
}
