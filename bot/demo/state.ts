/**
 * The mutable data of one demo tenant, plus the few derived views Graph computes
 * on the fly (registration details, transitive membership, licence usage).
 *
 * Seeds are plain declarative data (see seed.ts / generate.ts); a DemoTenantState is
 * built from a deep copy so that reset() can always go back to the seed.
 */
import type * as MG from '@microsoft/microsoft-graph-types';

export type PerUserMfaState = 'disabled' | 'enabled' | 'enforced';

/** Any authentication method, always with its concrete `@odata.type`. */
export type DemoAuthMethod = MG.AuthenticationMethod & { id: string; '@odata.type': string; [k: string]: unknown };

/** A user as Graph stores it; id, UPN and displayName are always present here. */
export type DemoUser = MG.User & { id: string; userPrincipalName: string; displayName: string };

/** A user plus the data Graph keeps in other workloads (Exchange, MFA service). */
export interface DemoUserRecord {
  user: DemoUser;
  /** Exchange Online mailbox provisioned (messageRules answer MailboxNotEnabledForRESTAPI otherwise). */
  hasMailbox: boolean;
  perUserMfaState: PerUserMfaState;
  methods: DemoAuthMethod[];
  inboxRules: (MG.MessageRule & { id: string })[];
  /** userRegistrationDetails.userPreferredMethodForSecondaryAuthentication */
  preferredSecondaryMethod?: string;
}

export interface DemoGroup {
  id: string;
  displayName: string;
  description?: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  /** Direct members: user ids or group ids (nested groups are resolved transitively). */
  members: string[];
}

export type DemoRoleAssignment = Omit<MG.UnifiedRoleAssignment, 'principal' | 'roleDefinition'> & {
  id: string;
  principalId: string;
  roleDefinitionId: string;
};

export type DemoRoleEligibility = Omit<MG.UnifiedRoleEligibilityScheduleInstance, 'principal' | 'roleDefinition'> & {
  id: string;
  principalId: string;
  roleDefinitionId: string;
};

export interface DemoLicences {
  entraP1: boolean;
  entraP2: boolean;
}

/** Declarative description of a tenant. Everything is JSON-like so it can be cloned. */
export interface DemoTenantSeed {
  tenantId: string;
  organization: MG.Organization & { id: string; displayName: string };
  domains: (MG.Domain & { id: string })[];
  skus: (MG.SubscribedSku & { id: string; skuId: string; skuPartNumber: string })[];
  users: DemoUserRecord[];
  groups: DemoGroup[];
  roleDefinitions: (MG.UnifiedRoleDefinition & { id: string; displayName: string })[];
  roleAssignments: DemoRoleAssignment[];
  roleEligibilities: DemoRoleEligibility[];
  /** Any order; the state keeps them newest first like the signIns API. */
  signIns: (MG.SignIn & { id: string; createdDateTime: string })[];
  securityDefaultsEnabled: boolean;
  conditionalAccessPolicies: (MG.ConditionalAccessPolicy & { id: string })[];
  /** Any order; the state keeps them newest first. */
  secureScores: (MG.SecureScore & { id: string; createdDateTime: string })[];
  secureScoreControlProfiles: (MG.SecureScoreControlProfile & { id: string })[];
  riskyUsers: (MG.RiskyUser & { id: string })[];
  /** Per-tenant licence override; when absent the server-wide knobs decide. */
  licences?: DemoLicences;
}

/** Authentication method types that count as a second factor for isMfaRegistered. */
const MFA_METHOD_TYPES: Record<string, string> = {
  '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod': 'microsoftAuthenticatorPush',
  '#microsoft.graph.phoneAuthenticationMethod': 'mobilePhone',
  '#microsoft.graph.softwareOathAuthenticationMethod': 'softwareOneTimePasscode',
  '#microsoft.graph.fido2AuthenticationMethod': 'passKeyDeviceBound',
  '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod': 'windowsHelloForBusiness',
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': 'temporaryAccessPass',
};
const OTHER_METHOD_TYPES: Record<string, string> = {
  '#microsoft.graph.emailAuthenticationMethod': 'email',
};

export class DemoTenantState {
  readonly id: string;
  organization: DemoTenantSeed['organization'];
  domains: DemoTenantSeed['domains'];
  skus: DemoTenantSeed['skus'];
  /** User records by lower-cased id; insertion order is the listing order. */
  readonly userRecords = new Map<string, DemoUserRecord>();
  readonly groups = new Map<string, DemoGroup>();
  roleDefinitions: DemoTenantSeed['roleDefinitions'];
  readonly roleAssignments = new Map<string, DemoRoleAssignment>();
  roleEligibilities: DemoRoleEligibility[];
  signIns: DemoTenantSeed['signIns'];
  securityDefaultsEnabled: boolean;
  readonly conditionalAccessPolicies = new Map<string, DemoTenantSeed['conditionalAccessPolicies'][number]>();
  secureScores: DemoTenantSeed['secureScores'];
  secureScoreControlProfiles: DemoTenantSeed['secureScoreControlProfiles'];
  riskyUsers: DemoTenantSeed['riskyUsers'];
  licences?: DemoLicences;
  private readonly upnIndex = new Map<string, string>();

  constructor(seed: DemoTenantSeed) {
    // structuredClone: the seed stays pristine for reset().
    const s = structuredClone(seed);
    this.id = s.tenantId;
    this.organization = s.organization;
    this.domains = s.domains;
    this.skus = s.skus;
    for (const u of s.users) this.addUser(u);
    for (const g of s.groups) this.groups.set(g.id.toLowerCase(), g);
    this.roleDefinitions = s.roleDefinitions;
    for (const a of s.roleAssignments) this.roleAssignments.set(a.id, a);
    this.roleEligibilities = s.roleEligibilities;
    this.signIns = s.signIns.sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime));
    this.securityDefaultsEnabled = s.securityDefaultsEnabled;
    for (const p of s.conditionalAccessPolicies) this.conditionalAccessPolicies.set(p.id, p);
    this.secureScores = s.secureScores.sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime));
    this.secureScoreControlProfiles = s.secureScoreControlProfiles;
    this.riskyUsers = s.riskyUsers;
    this.licences = s.licences;
  }

  /** The Graph user objects (live: mutating one changes what Graph returns). */
  get users(): DemoUser[] {
    return [...this.userRecords.values()].map((r) => r.user);
  }

  addUser(rec: DemoUserRecord): void {
    this.userRecords.set(rec.user.id.toLowerCase(), rec);
    this.upnIndex.set(rec.user.userPrincipalName.toLowerCase(), rec.user.id.toLowerCase());
  }

  /** Delete a user (gone from every listing; their role assignments and memberships stay as dangling ids). */
  removeUser(id: string): boolean {
    const rec = this.userRecords.get(id.toLowerCase());
    if (!rec) return false;
    this.userRecords.delete(id.toLowerCase());
    this.upnIndex.delete(rec.user.userPrincipalName.toLowerCase());
    return true;
  }

  /** Graph accepts either the object id or the UPN in /users/{id | userPrincipalName}. */
  findUser(idOrUpn: string): DemoUserRecord | undefined {
    const key = idOrUpn.toLowerCase();
    return this.userRecords.get(key) ?? this.userRecords.get(this.upnIndex.get(key) ?? '');
  }

  findGroup(id: string): DemoGroup | undefined {
    return this.groups.get(id.toLowerCase());
  }

  /** All users and groups reachable from a group through nested membership. */
  transitiveMembers(groupId: string): string[] {
    const seen = new Set<string>();
    const walk = (gid: string): void => {
      const g = this.findGroup(gid);
      if (!g) return;
      for (const m of g.members) {
        const key = m.toLowerCase();
        if (seen.has(key)) continue; // guards against membership cycles
        seen.add(key);
        if (this.groups.has(key)) walk(key);
      }
    };
    walk(groupId);
    return [...seen];
  }

  /** Groups a user belongs to, directly or through nesting. */
  transitiveGroupsOf(userId: string): Set<string> {
    const result = new Set<string>();
    for (const g of this.groups.values()) {
      if (this.transitiveMembers(g.id).includes(userId.toLowerCase())) result.add(g.id.toLowerCase());
    }
    return result;
  }

  isAdmin(userId: string): boolean {
    const id = userId.toLowerCase();
    for (const a of this.roleAssignments.values()) if (a.principalId.toLowerCase() === id) return true;
    return false;
  }

  /** Units in use per SKU, derived from the users so assignLicense stays consistent. */
  consumedUnits(skuId: string): number {
    let n = 0;
    for (const r of this.userRecords.values()) {
      if (r.user.assignedLicenses?.some((l) => l.skuId === skuId)) n++;
    }
    return n;
  }

  /**
   * userRegistrationDetails is a report in Graph; here it is derived from the live
   * methods and role assignments so that writes (DELETE a method, remove a role)
   * are reflected the same way the real report eventually reflects them.
   */
  /** Principals holding any directory role (computed once per report request on big tenants). */
  adminIds(): Set<string> {
    const ids = new Set<string>();
    for (const a of this.roleAssignments.values()) ids.add(a.principalId.toLowerCase());
    return ids;
  }

  registrationDetails(rec: DemoUserRecord, now: Date, admins?: Set<string>): MG.UserRegistrationDetails & { id: string } {
    const methodsRegistered: string[] = [];
    let mfa = false;
    let passwordless = false;
    for (const m of rec.methods) {
      const t = m['@odata.type'];
      const mfaName = MFA_METHOD_TYPES[t];
      if (mfaName) {
        mfa = true;
        if (t.endsWith('fido2AuthenticationMethod') || t.endsWith('windowsHelloForBusinessAuthenticationMethod')) passwordless = true;
        if (!methodsRegistered.includes(mfaName)) methodsRegistered.push(mfaName);
      } else if (OTHER_METHOD_TYPES[t] && !methodsRegistered.includes(OTHER_METHOD_TYPES[t])) {
        methodsRegistered.push(OTHER_METHOD_TYPES[t]);
      }
    }
    const sspr = methodsRegistered.length > 0;
    const preferred = mfa ? rec.preferredSecondaryMethod ?? defaultPreferred(methodsRegistered) : 'none';
    return {
      id: rec.user.id,
      userPrincipalName: rec.user.userPrincipalName,
      userDisplayName: rec.user.displayName,
      userType: rec.user.userType === 'Guest' ? 'guest' : 'member',
      isAdmin: admins ? admins.has(rec.user.id.toLowerCase()) : this.isAdmin(rec.user.id),
      isSsprRegistered: sspr,
      isSsprEnabled: true,
      isSsprCapable: sspr,
      isMfaRegistered: mfa,
      isMfaCapable: mfa,
      isPasswordlessCapable: passwordless,
      methodsRegistered,
      isSystemPreferredAuthenticationMethodEnabled: false,
      systemPreferredAuthenticationMethods: [],
      userPreferredMethodForSecondaryAuthentication: preferred as MG.UserDefaultAuthenticationMethod,
      lastUpdatedDateTime: new Date(now.getTime() - 6 * 3600_000).toISOString(),
    };
  }
}

function defaultPreferred(methods: string[]): string {
  if (methods.includes('microsoftAuthenticatorPush')) return 'push';
  if (methods.includes('softwareOneTimePasscode')) return 'oath';
  if (methods.includes('mobilePhone')) return 'sms';
  return 'none';
}
