/**
 * Fixes on a user account itself: sign them out everywhere, block sign-in, unblock.
 */
import type { User } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import type { ActionTarget } from '../../store/approvals';
import type { ActionContext, Precondition, RemediationAction } from '../types';
import { getIfExists, userPath, who } from './common';

/** Graph's clock and ours may differ a little; a revocation stamped this close to our start counts. */
const CLOCK_SKEW_MS = 5 * 60_000;

async function readUser(graph: GraphApi, t: ActionTarget, select: string): Promise<User | undefined> {
  return getIfExists<User>(graph, userPath(t.id), { query: { $select: select } });
}

const gone = (t: ActionTarget): Precondition => ({ ok: false, reason: `${t.displayName} no longer exists in the directory.` });

export const revokeSessions: RemediationAction = {
  id: 'user.revokeSessions',
  title: 'Sign out everywhere',
  risk: 'medium',
  permission: 'User.RevokeSessions.All',
  readPermission: 'User.Read.All',
  preview: (t) =>
    `Revoke every sign-in session of ${who(t)}: POST /v1.0/users/${t.id}/revokeSignInSessions. ` +
    `Their refresh tokens and browser sessions stop working, so every app asks them to sign in again. ` +
    `It takes effect within a few minutes, not instantly, and does nothing for guests (they sign in at their home organisation).`,

  async precondition(graph, t) {
    const user = await readUser(graph, t, 'id,userType');
    if (!user) return gone(t);
    if (user.userType === 'Guest') {
      return { ok: false, reason: `${t.displayName} is a guest: revoking sessions does not apply to guests, who sign in at their home organisation. Block the guest or remove them instead.` };
    }
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.post(`${userPath(t.id)}/revokeSignInSessions`, undefined);
  },

  async verify(graph, t, ctx: ActionContext) {
    const user = await readUser(graph, t, 'id,signInSessionsValidFromDateTime');
    const since = user?.signInSessionsValidFromDateTime ? Date.parse(user.signInSessionsValidFromDateTime) : NaN;
    return Number.isFinite(since) && since >= ctx.startedAt.getTime() - CLOCK_SKEW_MS;
  },
};

function accountEnabledAction(enable: boolean): RemediationAction {
  return {
    id: enable ? 'user.unblock' : 'user.block',
    title: enable ? 'Unblock sign-in' : 'Block sign-in',
    risk: 'medium',
    permission: 'User.EnableDisableAccount.All',
    readPermission: 'User.Read.All',
    protectsApprover: !enable,
    preview: (t) =>
      enable
        ? `Allow ${who(t)} to sign in again: PATCH /v1.0/users/${t.id} {"accountEnabled":true}.`
        : `Block ${who(t)} from signing in: PATCH /v1.0/users/${t.id} {"accountEnabled":false}. ` +
          `New sign-ins are refused at once; sessions already open last until their tokens expire (revoke them too if the account is compromised). Undo with "Unblock sign-in".`,

    async precondition(graph, t, ctx) {
      const user = await readUser(graph, t, 'id,accountEnabled,userPrincipalName');
      if (!user) return gone(t);
      const names = [user.id, user.userPrincipalName].filter(Boolean).map((v) => v!.toLowerCase());
      if (!enable && ctx.breakGlassAccounts.some((a) => names.includes(a.toLowerCase()))) {
        return { ok: false, reason: `${t.displayName} is a configured break-glass (emergency access) account; Vigil never blocks those.` };
      }
      if (Boolean(user.accountEnabled) === enable) return { ok: false, reason: `${t.displayName} is already ${enable ? 'allowed to sign in' : 'blocked from signing in'}.` };
      return { ok: true };
    },

    async execute(graph, t) {
      await graph.patch(userPath(t.id), { accountEnabled: enable });
    },

    async verify(graph, t) {
      const user = await readUser(graph, t, 'id,accountEnabled');
      return user?.accountEnabled === enable;
    },
  };
}

export const blockSignIn = accountEnabledAction(false);
export const unblockSignIn = accountEnabledAction(true);
