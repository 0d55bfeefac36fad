/**
 * Every check Vigil runs, by id. Adding a check: one file here, one card, one test.
 *
 * The order is the order of intent matching (and of the help card): a question goes to the first
 * check whose phrases match, so more specific checks come first ("do admins have MFA?" must
 * reach admins.mfa, "is MFA enforced?" mfa.enforcement, "SMS-only MFA" auth.methods — all
 * before mfa.registration).
 */
import { adminsCount } from './adminsCount';
import { adminsDedicated } from './adminsDedicated';
import { adminsMfa } from './adminsMfa';
import { auditLog } from './auditLog';
import { authMethods } from './authMethods';
import { baselinePolicies } from './baselinePolicies';
import { mailForwarding } from './mailForwarding';
import { mfaEnforcement } from './mfaEnforcement';
import { mfaRegistration } from './mfaRegistration';
import { riskyUsers } from './riskyUsers';
import { secureScore } from './secureScore';
import { signinsCountries } from './signinsCountries';
import { signinsLegacy } from './signinsLegacy';
import type { Check } from './types';

export const CHECKS: Check[] = [
  adminsMfa,
  mfaEnforcement,
  authMethods,
  mfaRegistration,
  adminsDedicated,
  adminsCount,
  mailForwarding,
  signinsLegacy,
  signinsCountries,
  riskyUsers,
  auditLog,
  secureScore,
  baselinePolicies,
] as Check[];

/** The checks a quick scan runs between full scans: each says so itself (`frequent`). */
export const QUICK_CHECKS: Check[] = CHECKS.filter((c) => c.frequent);

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}

export { CheckRunner } from './runner';
export { checkSettingsFor, DEFAULT_CHECK_SETTINGS, type CheckSettings } from './settings';
export type * from './types';
