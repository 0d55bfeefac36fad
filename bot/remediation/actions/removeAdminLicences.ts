/**
 * Remove the licences of an admin account. A dedicated admin account should hold no licence
 * (no mailbox, no Teams: nothing to phish, nothing to browse with). The licences to remove are
 * read when the request is made and written into it, so the approvers see the exact call.
 * Licences a group assigns cannot be removed per user and are left out.
 */
import type { LicenseAssignmentState, SubscribedSku, UnifiedRoleAssignment, User } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import type { ActionTarget } from '../../store/approvals';
import type { RemediationAction } from '../types';
import { getIfExists, listParam, odataString, userPath, who } from './common';

async function directSkus(graph: GraphApi, userId: string): Promise<string[] | undefined> {
  const user = await getIfExists<User>(graph, userPath(userId), { query: { $select: 'id,assignedLicenses,licenseAssignmentStates' } });
  if (!user) return undefined;
  const byGroup = new Set(
    (user.licenseAssignmentStates ?? []).filter((s: LicenseAssignmentState) => s.assignedByGroup).map((s) => s.skuId?.toLowerCase()),
  );
  return (user.assignedLicenses ?? []).map((l) => l.skuId!).filter((id) => id && !byGroup.has(id.toLowerCase()));
}

async function isAdmin(graph: GraphApi, userId: string): Promise<boolean> {
  const roles = await graph.all<UnifiedRoleAssignment>('/roleManagement/directory/roleAssignments', { query: { $filter: `principalId eq ${odataString(userId)}` } });
  return roles.length > 0;
}

const skus = (t: ActionTarget) => listParam(t, 'skuIds');

export const removeAdminLicences: RemediationAction = {
  id: 'licences.removeFromAdmin',
  title: 'Remove licences',
  risk: 'medium',
  permission: 'LicenseAssignment.ReadWrite.All',
  readPermission: 'User.Read.All, RoleManagement.Read.Directory, Organization.Read.All',
  preview: (t) => {
    const names = listParam(t, 'skuNames');
    return (
      `Remove ${names.length ? names.join(', ') : 'the licences'} from the admin account ${who(t)}: ` +
      `POST /v1.0/users/${t.id}/assignLicense {"addLicenses":[],"removeLicenses":${JSON.stringify(skus(t))}}. ` +
      `The account keeps its admin role but loses its mailbox, OneDrive and Teams; the licences become free for someone else.`
    );
  },

  async prepare(graph, t) {
    const direct = await directSkus(graph, t.id);
    if (!direct) return { ok: false, reason: `${t.displayName} no longer exists in the directory.` };
    if (!direct.length) return { ok: false, reason: `${t.displayName} holds no directly assigned licence.` };
    const known = await graph.all<SubscribedSku>('/subscribedSkus', { query: { $select: 'skuId,skuPartNumber' } }).catch(() => []);
    const name = (id: string) => known.find((s) => s.skuId?.toLowerCase() === id.toLowerCase())?.skuPartNumber ?? id;
    return { ok: true, target: { ...t, params: { ...t.params, skuIds: direct, skuNames: direct.map(name) } } };
  },

  async precondition(graph, t) {
    if (!skus(t).length) return { ok: false, reason: 'This request names no licence to remove.' };
    const direct = await directSkus(graph, t.id);
    if (!direct) return { ok: false, reason: `${t.displayName} no longer exists in the directory.` };
    if (!(await isAdmin(graph, t.id))) {
      return { ok: false, reason: `${t.displayName} holds no admin role any more, so their licences are for their everyday work; nothing was removed.` };
    }
    const held = new Set(direct.map((s) => s.toLowerCase()));
    if (!skus(t).some((s) => held.has(s.toLowerCase()))) return { ok: false, reason: `${t.displayName} no longer holds those licences.` };
    return { ok: true };
  },

  async execute(graph, t) {
    const held = new Set(((await directSkus(graph, t.id)) ?? []).map((s) => s.toLowerCase()));
    // Only what the approvers saw, and only what is still there (Graph refuses to remove a licence the user lacks).
    await graph.post(`${userPath(t.id)}/assignLicense`, { addLicenses: [], removeLicenses: skus(t).filter((s) => held.has(s.toLowerCase())) });
  },

  async verify(graph, t) {
    const left = new Set(((await directSkus(graph, t.id)) ?? []).map((s) => s.toLowerCase()));
    return skus(t).every((s) => !left.has(s.toLowerCase()));
  },
};
