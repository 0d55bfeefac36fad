/**
 * Is MFA actually *required* for a person? Pure judgement over security defaults, Conditional
 * Access policies and per-user MFA state, shared by mfa.enforcement, admins.mfa and
 * baseline.policies.
 *
 * A Conditional Access policy counts as requiring MFA for someone only when all of this holds:
 *  - it is enabled (report-only and disabled policies enforce nothing);
 *  - its grant demands MFA: built-in control `mfa` or an authentication strength, and MFA cannot
 *    be skipped by satisfying another control instead (operator OR with e.g. compliantDevice);
 *  - it applies to every sign-in of that person: all cloud apps (not a few apps, not only user
 *    actions or authentication contexts), modern clients (not legacy clients only), no sign-in,
 *    user, insider or service-principal risk condition (a risk-only policy asks for MFA only when
 *    Identity Protection flags a sign-in), no platform or device-filter narrowing, and no location
 *    narrowing beyond "all locations except trusted ones" (which counts, with a note);
 *  - it covers the person: included by All users, by id, by a group (transitively), by a role,
 *    or as a guest/external user — and not excluded by any of those.
 * The best-known tools count a risk-only policy as "MFA for everyone"; this does not.
 */
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import type { PerUserMfaState } from './graphReads';

export interface PolicyVerdict {
  id: string;
  displayName: string;
  state: string;
  /** The grant asks for MFA (whatever else limits the policy). */
  asksForMfa: boolean;
  /** Enforced, MFA-demanding and applying to every sign-in of the people it covers. */
  counts: boolean;
  /** Why it does not count, in plain words ('' when it counts). */
  why: string;
  /** The same in two or three words, for per-person lines ("report-only", "risky sign-ins only"). */
  short: string;
  /** Caveats of a policy that counts ("except from trusted locations"). */
  note: string;
}

const GUEST_TYPES = ['internalGuest', 'b2bCollaborationGuest', 'b2bCollaborationMember', 'b2bDirectConnectUser', 'otherExternalUser', 'serviceProvider'];

/** The grant of a policy: does it make MFA unavoidable? */
export function grantDemandsMfa(p: ConditionalAccessPolicy): { asks: boolean; unavoidable: boolean; alternatives: string[] } {
  const g = p.grantControls;
  const controls = (g?.builtInControls ?? []) as string[];
  const strength = Boolean(g?.authenticationStrength);
  const asks = controls.includes('mfa') || strength;
  if (!asks || controls.includes('block')) return { asks: asks && !controls.includes('block'), unavoidable: false, alternatives: [] };
  const others = [
    ...controls.filter((c) => c !== 'mfa'),
    ...(g?.customAuthenticationFactors ?? []).map(() => 'a custom control'),
    ...(g?.termsOfUse ?? []).map(() => 'terms of use'),
  ].filter((c) => c !== 'passwordChange');
  const or = (g?.operator ?? 'OR').toUpperCase() === 'OR';
  return { asks, unavoidable: !or || others.length === 0, alternatives: or ? others : [] };
}

const PLAIN: Record<string, string> = {
  compliantDevice: 'a compliant device',
  domainJoinedDevice: 'a hybrid-joined device',
  approvedApplication: 'an approved app',
  compliantApplication: 'an app protection policy',
};

export function judgePolicy(p: ConditionalAccessPolicy): PolicyVerdict {
  const base = { id: p.id ?? '', displayName: p.displayName ?? '(unnamed policy)', state: String(p.state ?? '') };
  const grant = grantDemandsMfa(p);
  const c = p.conditions ?? {};
  const notes: string[] = [];
  const why = ((): string => {
    if (!grant.asks) return (p.grantControls?.builtInControls ?? []).includes('block') ? 'it blocks access rather than asking for MFA' : 'it does not ask for MFA';
    if (p.state === 'enabledForReportingButNotEnforced') return 'it is in report-only mode, so nothing is enforced';
    if (p.state !== 'enabled') return 'it is turned off';
    if (!grant.unavoidable) return `MFA can be skipped by using ${grant.alternatives.map((a) => PLAIN[a] ?? a).join(' or ')} instead`;
    const risks = [
      ['sign-in risk', c.signInRiskLevels],
      ['user risk', c.userRiskLevels],
      ['service principal risk', c.servicePrincipalRiskLevels],
    ] as const;
    for (const [name, levels] of risks) if (levels && levels.length) return `it only applies to sign-ins with ${name} ${levels.join('/')}`;
    if (c.insiderRiskLevels) return 'it only applies to people with insider risk';
    const apps = c.applications ?? {};
    const include = apps.includeApplications ?? [];
    if (!include.some((a) => a.toLowerCase() === 'all')) {
      if ((apps.includeUserActions ?? []).length) return 'it only applies to user actions (such as registering security info)';
      if ((apps.includeAuthenticationContextClassReferences ?? []).length) return 'it only applies to an authentication context';
      if (include.some((a) => a.toLowerCase() === 'none') || include.length === 0) return 'it applies to no apps';
      return `it only applies to ${include.length === 1 ? (include[0] === 'Office365' ? 'Office 365 apps' : 'one app') : `${include.length} apps`}`;
    }
    if (apps.applicationFilter) return 'an app filter narrows it to some apps';
    const clients = ((c.clientAppTypes ?? []) as string[]).map((t) => t.toLowerCase());
    const modern = clients.length === 0 || clients.includes('all') || (clients.includes('browser') && clients.includes('mobileappsanddesktopclients'));
    if (!modern) {
      const legacyOnly = clients.every((t) => t === 'exchangeactivesync' || t === 'other' || t === 'eassupported');
      return legacyOnly ? 'it only applies to legacy clients' : `it only applies to ${clients.includes('browser') ? 'browsers' : 'desktop and mobile apps'}`;
    }
    const platforms = c.platforms;
    if (platforms && (!(platforms.includePlatforms ?? ['all']).includes('all') || (platforms.excludePlatforms ?? []).length)) return 'it only applies on some device platforms';
    if (c.devices?.deviceFilter) return 'a device filter narrows it to some devices';
    const locations = c.locations;
    if (locations) {
      const inc = (locations.includeLocations ?? ['All']).map((l) => l.toLowerCase());
      const exc = (locations.excludeLocations ?? []).map((l) => l.toLowerCase());
      if (!inc.includes('all')) return 'it only applies from some locations';
      if (exc.length) {
        if (exc.every((l) => l === 'alltrusted')) notes.push('except from trusted locations');
        else return 'it excludes some named locations';
      }
    }
    if ((apps.excludeApplications ?? []).length) notes.push(`except ${apps.excludeApplications!.length} excluded app${apps.excludeApplications!.length === 1 ? '' : 's'}`);
    return '';
  })();
  return { ...base, asksForMfa: grant.asks, counts: why === '', why, short: shortWhy(why), note: notes.join('; ') };
}

function shortWhy(why: string): string {
  if (!why) return '';
  if (why.includes('report-only')) return 'report-only';
  if (why.includes('turned off')) return 'turned off';
  if (why.includes('risk')) return 'risky sign-ins only';
  if (why.includes('legacy clients')) return 'legacy clients only';
  if (why.includes('skipped')) return 'MFA can be skipped';
  if (why.includes('blocks access')) return 'blocks instead';
  if (why.includes('does not ask')) return 'no MFA';
  if (/apps?\b|user actions|authentication context/.test(why)) return 'some apps only';
  if (/platforms|device/.test(why)) return 'some devices only';
  if (/location/.test(why)) return 'some locations only';
  if (/browsers|desktop/.test(why)) return 'some clients only';
  return 'does not count';
}

export interface Person {
  id: string;
  userPrincipalName?: string | null;
  userType?: string | null;
  /** Role template ids the person holds (active; eligible holders are judged as if active). */
  roles: ReadonlySet<string>;
}

/** Does the policy's user scope include this person (after its exclusions)? */
export function policyCovers(p: ConditionalAccessPolicy, person: Person, groupMembers: Record<string, string[]>): boolean {
  const u = p.conditions?.users;
  if (!u) return false;
  const id = person.id.toLowerCase();
  const guest = (person.userType ?? '').toLowerCase() === 'guest';
  const lc = (xs: string[] | null | undefined) => (xs ?? []).map((x) => x.toLowerCase());
  const inGroup = (groups: string[] | null | undefined) => lc(groups).some((g) => (groupMembers[g] ?? []).includes(id));
  const hasRole = (roles: string[] | null | undefined) => lc(roles).some((r) => [...person.roles].some((pr) => pr.toLowerCase() === r));
  const guestTypes = (x: { guestOrExternalUserTypes?: string | null } | null | undefined) =>
    guest && !!x?.guestOrExternalUserTypes && x.guestOrExternalUserTypes.split(',').map((t) => t.trim()).some((t) => GUEST_TYPES.includes(t));
  const includeUsers = lc(u.includeUsers);
  const included =
    includeUsers.includes('all') ||
    includeUsers.includes(id) ||
    (guest && includeUsers.includes('guestsorexternalusers')) ||
    inGroup(u.includeGroups) ||
    hasRole(u.includeRoles) ||
    guestTypes(u.includeGuestsOrExternalUsers);
  if (!included) return false;
  const excludeUsers = lc(u.excludeUsers);
  const excluded =
    excludeUsers.includes(id) ||
    (guest && excludeUsers.includes('guestsorexternalusers')) ||
    inGroup(u.excludeGroups) ||
    hasRole(u.excludeRoles) ||
    guestTypes(u.excludeGuestsOrExternalUsers);
  return !excluded;
}

export interface Coverage {
  required: boolean;
  /** Nothing read so far requires MFA, but something that might (per-user state, policies) could not be read. */
  unknown: boolean;
  /** What requires it: "security defaults", "Conditional Access: <name>", "per-user MFA (enforced)". */
  by: string;
  /** Policies that ask for MFA and cover this person but do not count, with why. */
  notCounted: string[];
}

export interface CoverageInputs {
  securityDefaults: boolean | null;
  policies: ConditionalAccessPolicy[];
  verdicts: PolicyVerdict[];
  groupMembers: Record<string, string[]>;
  perUser: Record<string, PerUserMfaState>;
  /** false when the per-user MFA state of some people could not be read. */
  perUserComplete?: boolean;
  /** false when security defaults or Conditional Access could not be read. */
  policiesKnown?: boolean;
}

export function coverageOf(person: Person, inputs: CoverageInputs): Coverage {
  const notCounted: string[] = [];
  if (inputs.securityDefaults) return { required: true, unknown: false, by: 'security defaults', notCounted };
  for (let i = 0; i < inputs.policies.length; i++) {
    const p = inputs.policies[i];
    const v = inputs.verdicts[i];
    if (!v.asksForMfa || p.state === 'disabled') continue;
    if (!policyCovers(p, person, inputs.groupMembers)) continue;
    if (v.counts) return { required: true, unknown: false, by: `Conditional Access “${v.displayName}”${v.note ? ` (${v.note})` : ''}`, notCounted };
    notCounted.push(`“${v.displayName}” (${v.short})`);
  }
  const state = inputs.perUser[person.id.toLowerCase()];
  if (state === 'enforced' || state === 'enabled') return { required: true, unknown: false, by: `per-user MFA (${state})`, notCounted };
  const unknown = inputs.policiesKnown === false || (state === undefined && inputs.perUserComplete === false);
  return { required: false, unknown, by: '', notCounted };
}
