/**
 * Remove one extra authentication method from an account (several authenticator apps or old
 * phones on one account are several ways in). The target is the method: `id` = method id,
 * `userId` = the account, `params.methodType` = softwareOath | phone | microsoftAuthenticator.
 * Never the account's last second factor.
 */
import type { AuthenticationMethod } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import type { ActionTarget } from '../../store/approvals';
import type { Prepared, RemediationAction } from '../types';
import { getIfExists, textParam, userPath } from './common';

/** Method type → the typed navigation property of /users/{id}/authentication (v1.0). */
export const METHOD_SEGMENTS = {
  microsoftAuthenticator: 'microsoftAuthenticatorMethods',
  softwareOath: 'softwareOathMethods',
  phone: 'phoneMethods',
} as const;

export type RemovableMethodType = keyof typeof METHOD_SEGMENTS;

/** Method @odata.types that are a second factor. */
const SECOND_FACTORS = new Set(
  ['microsoftAuthenticator', 'phone', 'softwareOath', 'fido2', 'windowsHelloForBusiness', 'temporaryAccessPass', 'platformCredential'].map(
    (t) => `#microsoft.graph.${t}AuthenticationMethod`.toLowerCase(),
  ),
);

function segment(t: ActionTarget): string | undefined {
  const type = textParam(t, 'methodType');
  return type && Object.hasOwn(METHOD_SEGMENTS, type) ? METHOD_SEGMENTS[type as RemovableMethodType] : undefined;
}

const methodPath = (t: ActionTarget) => `${userPath(t.userId ?? '')}/authentication/${segment(t)}/${encodeURIComponent(t.id)}`;

function check(t: ActionTarget): Prepared {
  if (!segment(t)) return { ok: false, reason: `Vigil removes only authenticator app, software OATH token and phone methods (${Object.keys(METHOD_SEGMENTS).join(', ')}).` };
  if (!t.userId) return { ok: false, reason: 'This request names no account for the method.' };
  return { ok: true, target: t };
}

async function readMethod(graph: GraphApi, t: ActionTarget): Promise<AuthenticationMethod | undefined> {
  return getIfExists<AuthenticationMethod>(graph, methodPath(t));
}

export const removeAuthMethod: RemediationAction = {
  id: 'authMethod.remove',
  title: 'Remove this method',
  risk: 'medium',
  permission: 'UserAuthenticationMethod.ReadWrite.All',
  readPermission: 'UserAuthenticationMethod.Read.All',
  protectsApprover: true,
  preview: (t) =>
    `Remove the ${textParam(t, 'methodType') ?? '?'} method "${t.displayName}"${t.detail ? ` from ${t.detail}` : ''}: ` +
    `DELETE /v1.0/users/${t.userId ?? '?'}/authentication/${segment(t) ?? '?'}/${t.id}. ` +
    `That device or number can no longer be used to sign in; the account keeps its other methods (Vigil never removes the last second factor).`,

  async prepare(_graph, t) {
    return check(t);
  },

  async precondition(graph, t) {
    const valid = check(t);
    if (!valid.ok) return valid;
    if (!(await readMethod(graph, t))) return { ok: false, reason: `The method "${t.displayName}" is no longer registered.` };
    const all = await graph.all<AuthenticationMethod & { '@odata.type'?: string }>(`${userPath(t.userId!)}/authentication/methods`);
    const otherFactors = all.filter((m) => m.id !== t.id && SECOND_FACTORS.has((m['@odata.type'] ?? '').toLowerCase()));
    if (!otherFactors.length) return { ok: false, reason: `"${t.displayName}" is the account's only second factor; removing it would leave the account without MFA.` };
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.delete(methodPath(t));
  },

  async verify(graph, t) {
    return (await readMethod(graph, t)) === undefined;
  },
};
