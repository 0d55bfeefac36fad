/**
 * Tenant-wide policies: turn on security defaults, or create a Conditional Access policy that
 * requires MFA for administrators (in report-only state). The target is the tenant itself
 * (`id` = tenant id). Security defaults and Conditional Access cannot be used together.
 */
import type { ConditionalAccessPolicy, IdentitySecurityDefaultsEnforcementPolicy, User } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import { GraphRequestError } from '../../graph/errors';
import type { RemediationAction } from '../types';
import { getIfExists, listParam, userPath } from './common';

const SECURITY_DEFAULTS = '/policies/identitySecurityDefaultsEnforcementPolicy';
const CA_POLICIES = '/identity/conditionalAccess/policies';

/** Every Conditional Access policy; none when the tenant has no Entra ID P1 (it then cannot have any). */
async function caPolicies(graph: GraphApi): Promise<ConditionalAccessPolicy[]> {
  try {
    return await graph.all<ConditionalAccessPolicy>(CA_POLICIES);
  } catch (err) {
    if (err instanceof GraphRequestError && err.isMissingLicence) return [];
    throw err;
  }
}

async function securityDefaultsOn(graph: GraphApi): Promise<boolean> {
  return (await graph.get<IdentitySecurityDefaultsEnforcementPolicy>(SECURITY_DEFAULTS)).isEnabled === true;
}

const names = (policies: ConditionalAccessPolicy[]) => policies.map((p) => `"${p.displayName}"`).join(', ');

export const enableSecurityDefaults: RemediationAction = {
  id: 'securityDefaults.enable',
  title: 'Turn on security defaults',
  risk: 'high',
  permission: 'Policy.ReadWrite.SecurityDefaults',
  readPermission: 'Policy.Read.All',
  preview: () =>
    `Turn on security defaults for the whole tenant: PATCH /v1.0/policies/identitySecurityDefaultsEnforcementPolicy {"isEnabled":true}. ` +
    `Everyone must register MFA within 14 days; admins are asked for MFA at every sign-in; legacy authentication (IMAP, POP, SMTP AUTH) stops working.`,

  async prepare(graph, t) {
    const policies = await caPolicies(graph);
    if (policies.length) return { ok: false, reason: refusal(policies) };
    return { ok: true, target: t };
  },

  async precondition(graph) {
    if (await securityDefaultsOn(graph)) return { ok: false, reason: 'Security defaults are already on.' };
    const policies = await caPolicies(graph);
    if (policies.length) return { ok: false, reason: refusal(policies) };
    return { ok: true };
  },

  async execute(graph) {
    await graph.patch(SECURITY_DEFAULTS, { isEnabled: true });
  },

  async verify(graph) {
    return securityDefaultsOn(graph);
  },
};

function refusal(policies: ConditionalAccessPolicy[]): string {
  return (
    `This tenant has Conditional Access policies (${names(policies)}), and security defaults cannot be turned on while any exist: ` +
    `the two are alternatives. Use Conditional Access instead (for example "Require MFA for administrators"), or delete the policies first.`
  );
}

export const CA_POLICY_NAME = 'Require MFA for administrators';

/** Built-in admin roles the policy covers (Microsoft's "Require MFA for admins" template; template ids are the same in every tenant). */
export const ADMIN_ROLES: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': 'Privileged Authentication Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': 'Conditional Access Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  '966707d0-3269-4727-9be2-8c3a10f19b9d': 'Password Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
  'b0f54661-2d74-4c50-afa3-1ec803f12efe': 'Billing Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
};

/** The exact body Vigil POSTs: report-only, every app, admin roles, break-glass accounts excluded. */
export function caPolicyBody(excludeUsers: string[]): ConditionalAccessPolicy {
  return {
    displayName: CA_POLICY_NAME,
    state: 'enabledForReportingButNotEnforced',
    conditions: {
      clientAppTypes: ['all'],
      applications: { includeApplications: ['All'] },
      users: { includeRoles: Object.keys(ADMIN_ROLES), excludeUsers },
    },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  };
}

export const requireMfaForAdminsPolicy: RemediationAction = {
  id: 'ca.requireMfaForAdmins',
  title: 'Create "Require MFA for administrators" policy',
  risk: 'high',
  permission: 'Policy.ReadWrite.ConditionalAccess (with Policy.Read.All)',
  readPermission: 'Policy.Read.All, User.Read.All',
  licence: 'Microsoft Entra ID P1',
  preview: (t) => {
    const excluded = listParam(t, 'excludeNames');
    return (
      `Create the Conditional Access policy "${CA_POLICY_NAME}" in report-only state: POST /v1.0/identity/conditionalAccess/policies ` +
      `${JSON.stringify(caPolicyBody(listParam(t, 'excludeUsers')))}. ` +
      `It covers ${Object.keys(ADMIN_ROLES).length} admin roles (${Object.values(ADMIN_ROLES).join(', ')}), ` +
      `excludes the break-glass account${excluded.length === 1 ? '' : 's'} ${excluded.join(', ')}, and only reports what it would do: ` +
      `nobody is blocked until you switch it on in Entra after checking its report.`
    );
  },

  async prepare(graph, t, ctx) {
    if (!ctx.breakGlassAccounts.length) {
      return {
        ok: false,
        reason:
          'No break-glass (emergency access) accounts are configured, and every Conditional Access policy must exclude at least one so a mistake cannot lock everyone out. ' +
          'Set EXCLUDED_ACCOUNTS to their UPNs or object ids and ask again.',
      };
    }
    const ids: string[] = [];
    const names: string[] = [];
    for (const account of ctx.breakGlassAccounts) {
      const user = await getIfExists<User>(graph, userPath(account), { query: { $select: 'id,userPrincipalName' } });
      if (!user?.id) return { ok: false, reason: `The configured break-glass account ${account} does not exist in this tenant; fix EXCLUDED_ACCOUNTS and ask again.` };
      ids.push(user.id);
      names.push(user.userPrincipalName ?? user.id);
    }
    return { ok: true, target: { ...t, params: { ...t.params, excludeUsers: ids, excludeNames: names } } };
  },

  async precondition(graph, t) {
    const excluded = listParam(t, 'excludeUsers');
    if (!excluded.length) return { ok: false, reason: 'This request excludes no break-glass account; ask again once EXCLUDED_ACCOUNTS is set.' };
    for (const id of excluded) {
      if (!(await getIfExists<User>(graph, userPath(id), { query: { $select: 'id' } }))) {
        return { ok: false, reason: `The break-glass account ${id} no longer exists; the policy would exclude nobody real.` };
      }
    }
    if (await securityDefaultsOn(graph)) {
      return { ok: false, reason: 'Security defaults are on, and Conditional Access policies cannot be created while they are. Turn security defaults off first (they already require MFA for admins).' };
    }
    const existing = (await caPolicies(graph)).find((p) => p.displayName === CA_POLICY_NAME);
    if (existing) return { ok: false, reason: `A Conditional Access policy called "${CA_POLICY_NAME}" already exists (state: ${existing.state}).` };
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.post(CA_POLICIES, caPolicyBody(listParam(t, 'excludeUsers')));
  },

  async verify(graph, t) {
    const p = (await caPolicies(graph)).find((x) => x.displayName === CA_POLICY_NAME);
    const excluded = new Set((p?.conditions?.users?.excludeUsers ?? []).map((id) => id.toLowerCase()));
    return p?.state === 'enabledForReportingButNotEnforced' && listParam(t, 'excludeUsers').every((id) => excluded.has(id.toLowerCase()));
  },
};
