/**
 * Remove one Global Administrator assignment. The target is the assignment: `id` = the
 * unifiedRoleAssignment id, `userId` = its principal. Refused when it would leave fewer than two
 * Global Administrators (Microsoft's guidance: at least two, so one lost account cannot lock the
 * tenant out), and never for an approver's own assignment.
 */
import type { UnifiedRoleAssignment } from '@microsoft/microsoft-graph-types';
import type { GraphApi } from '../../graph/api';
import type { RemediationAction } from '../types';
import { GLOBAL_ADMINISTRATOR_ROLE, who } from './common';

const MIN_GLOBAL_ADMINS = 2;

function globalAdminAssignments(graph: GraphApi): Promise<UnifiedRoleAssignment[]> {
  return graph.all<UnifiedRoleAssignment>('/roleManagement/directory/roleAssignments', {
    query: { $filter: `roleDefinitionId eq '${GLOBAL_ADMINISTRATOR_ROLE}'` },
  });
}

const same = (a?: string | null, b?: string | null) => Boolean(a && b && a.toLowerCase() === b.toLowerCase());

export const removeGlobalAdmin: RemediationAction = {
  id: 'role.removeGlobalAdmin',
  title: 'Remove Global Admin role',
  risk: 'high',
  permission: 'RoleManagement.ReadWrite.Directory',
  readPermission: 'RoleManagement.Read.Directory',
  protectsApprover: true,
  preview: (t) =>
    `Remove the Global Administrator role from ${who(t)}: DELETE /v1.0/roleManagement/directory/roleAssignments/${t.id}. ` +
    `The account stays; it just stops being a Global Administrator. Vigil refuses if fewer than ${MIN_GLOBAL_ADMINS} Global Administrators would remain.`,

  async precondition(graph, t, ctx) {
    if (ctx.approverIds.some((id) => same(id, t.userId))) {
      return { ok: false, reason: `${t.displayName} approved this request; nobody removes their own Global Administrator role through Vigil.` };
    }
    const all = await globalAdminAssignments(graph);
    const mine = all.find((a) => a.id === t.id);
    if (!mine) return { ok: false, reason: `${t.displayName} no longer holds this Global Administrator assignment.` };
    const others = new Set(all.filter((a) => a.id !== t.id && !same(a.principalId, mine.principalId)).map((a) => a.principalId?.toLowerCase()));
    if (others.size < MIN_GLOBAL_ADMINS) {
      return {
        ok: false,
        reason: `Removing it would leave ${others.size} Global Administrator${others.size === 1 ? '' : 's'}; keep at least ${MIN_GLOBAL_ADMINS} (one of them a break-glass account) so a lost account cannot lock you out.`,
      };
    }
    return { ok: true };
  },

  async execute(graph, t) {
    await graph.delete(`/roleManagement/directory/roleAssignments/${encodeURIComponent(t.id)}`);
  },

  async verify(graph, t) {
    return !(await globalAdminAssignments(graph)).some((a) => a.id === t.id);
  },
};
