/**
 * Graph-shaped JSON for the check tests, as the Graph docs show it (v1.0): Conditional Access
 * policies, role holders, users. Builders take overrides so each table row states only what it
 * is about.
 */
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import type { RoleHolder } from '../../bot/checks/graphReads';

export const NOW = new Date('2026-11-22T12:00:00Z');
export const daysAgo = (n: number): string => new Date(NOW.getTime() - n * 86_400_000).toISOString();

export const ROLE = {
  global: '62e90394-69f5-4237-9190-012177145e10',
  security: '194ae4cb-b126-40b2-bd5b-6091b380977d',
  exchange: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  helpdesk: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  billing: 'b0f54661-2d74-4c50-afa3-1ec803f12efe',
  /** Not privileged: Message Center Reader */
  reader: '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
};
export const ALL_PRIVILEGED = [
  '62e90394-69f5-4237-9190-012177145e10',
  'e8611ab8-c189-46e8-94e1-60213ab1f814',
  '194ae4cb-b126-40b2-bd5b-6091b380977d',
  '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  'fe930be7-5e62-47db-91af-98c3a49a38b1',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'b0f54661-2d74-4c50-afa3-1ec803f12efe',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f',
];

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null | undefined ? DeepPartial<NonNullable<T[K]>> | null : T[K] };

/** "Require MFA for all users": enabled, All users, All apps, all clients, grant mfa — a policy that counts. */
export function caPolicy(over: DeepPartial<ConditionalAccessPolicy> & { users?: Record<string, unknown>; apps?: Record<string, unknown> } = {}): ConditionalAccessPolicy {
  const { users, apps, conditions, grantControls, ...rest } = over;
  return {
    id: rest.id ?? `policy-${Math.random().toString(36).slice(2, 8)}`,
    displayName: 'Require MFA for all users',
    state: 'enabled',
    createdDateTime: daysAgo(100),
    modifiedDateTime: null,
    templateId: null,
    sessionControls: null,
    ...rest,
    conditions: {
      signInRiskLevels: [],
      userRiskLevels: [],
      clientAppTypes: ['all'],
      platforms: null,
      locations: null,
      ...(conditions as object),
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [], ...(apps ?? {}) },
      users: {
        includeUsers: ['All'],
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
        includeGuestsOrExternalUsers: null,
        excludeGuestsOrExternalUsers: null,
        ...(users ?? {}),
      },
    } as ConditionalAccessPolicy['conditions'],
    grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null, ...(grantControls as object) } as ConditionalAccessPolicy['grantControls'],
  } as ConditionalAccessPolicy;
}

export function holder(over: Partial<RoleHolder> & { principalId: string }): RoleHolder {
  return {
    assignmentId: `assign-${over.principalId}-${over.roleId ?? ROLE.global}`,
    roleId: ROLE.global,
    roleName: 'Global Administrator',
    kind: 'active',
    directoryScopeId: '/',
    principalType: 'user',
    principalName: over.principalId,
    principalUpn: `${over.principalId}@contoso.com`,
    ...over,
  };
}

/** Names that must come out of a card exactly as written. */
export const TRICKY_NAMES = ['${user.password}', '**Bold** _it_ [link](http://x)', 'Zoë Ångström-Łukasiewicz 山田', '<at>Boss</at>', '# heading'];
