/**
 * Require MFA for one user: per-user MFA "enforced" through the beta authentication
 * requirements API. The user must then register a method at next sign-in.
 */
import type { User, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import type { RemediationAction } from '../types';

interface Requirements {
  perUserMfaState?: 'disabled' | 'enabled' | 'enforced';
}

const requirementsPath = (userId: string) => `/users/${encodeURIComponent(userId)}/authentication/requirements`;

export const requireMfa: RemediationAction = {
  id: 'mfa.require',
  title: 'Require MFA',
  risk: 'medium',
  permission: 'Policy.ReadWrite.AuthenticationMethod',
  preview: (t) =>
    `Set per-user MFA to "enforced" for ${t.displayName}${t.detail ? ` (${t.detail})` : ''}: ` +
    `PATCH /beta/users/${t.id}/authentication/requirements {"perUserMfaState":"enforced"}. ` +
    `They will have to register a second factor at their next sign-in.`,

  async precondition(graph, target) {
    const user = await graph.get<User>(`/users/${encodeURIComponent(target.id)}`, { query: { $select: 'id,accountEnabled' } });
    if (user.accountEnabled === false) return { ok: false, reason: `${target.displayName}'s account is disabled now, so there is nothing to protect.` };
    const current = await graph.get<Requirements>(requirementsPath(target.id), { version: 'beta' });
    if (current.perUserMfaState === 'enforced') return { ok: false, reason: `MFA is already enforced for ${target.displayName}.` };
    const reg = await graph
      .get<UserRegistrationDetails>(`/reports/authenticationMethods/userRegistrationDetails/${encodeURIComponent(target.id)}`)
      .catch(() => undefined); // the report needs P1; without it the enforcement is still the right fix
    if (reg?.isMfaRegistered) return { ok: false, reason: `${target.displayName} has registered MFA since the request was made.` };
    return { ok: true };
  },

  async execute(graph, target) {
    await graph.patch(requirementsPath(target.id), { perUserMfaState: 'enforced' }, { version: 'beta' });
  },

  async verify(graph, target) {
    const after = await graph.get<Requirements>(requirementsPath(target.id), { version: 'beta' });
    return after.perUserMfaState === 'enforced';
  },
};
