/** /roleManagement/directory: definitions, assignments, PIM eligibility. */
import { GraphError, notFound } from '../errors';
import { matches, parseFilter, parseSelect } from '../odata';
import { collection, noContent, odataContext, ok, type RouteContext, type RouteDef } from './common';

const ROLE_READ = ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'Directory.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.ReadWrite.All'];
const ROLE_WRITE = ['RoleManagement.ReadWrite.Directory'];
const ELIGIBILITY_READ = ['RoleEligibilitySchedule.Read.Directory', 'RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleEligibilitySchedule.ReadWrite.Directory', 'RoleManagement.ReadWrite.Directory'];

function expandList(ctx: RouteContext): Set<string> {
  return new Set((ctx.query.$expand ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/** $expand=principal / roleDefinition, as Graph embeds them. */
function expandAssignment<T extends { principalId: string; roleDefinitionId: string }>(ctx: RouteContext, a: T, expand: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  if (expand.has('principal')) {
    const u = ctx.tenant.findUser(a.principalId);
    const g = u ? undefined : ctx.tenant.findGroup(a.principalId);
    out.principal = u
      ? { '@odata.type': '#microsoft.graph.user', ...u.user }
      : g
        ? { '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName }
        : null;
  }
  if (expand.has('roledefinition')) {
    out.roleDefinition = ctx.tenant.roleDefinitions.find((d) => d.id === a.roleDefinitionId) ?? null;
  }
  return out;
}

function checkExpand(expand: Set<string>): void {
  for (const e of expand) {
    if (e !== 'principal' && e !== 'roledefinition') {
      throw new GraphError(400, 'BadRequest', `Could not find a property named '${e}' on type 'microsoft.graph.unifiedRoleAssignment'.`);
    }
  }
}

function listDefinitions(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, { displayName: ['eq'], templateId: ['eq'], isBuiltIn: ['eq'], id: ['eq'] });
  return collection(ctx, 'roleManagement/directory/roleDefinitions', ctx.tenant.roleDefinitions.filter((d) => matches(d, clauses)), parseSelect(ctx.query.$select));
}

function getDefinition(ctx: RouteContext) {
  const d = ctx.tenant.roleDefinitions.find((x) => x.id === ctx.params.id);
  if (!d) throw notFound(ctx.params.id);
  return ok({ '@odata.context': odataContext(ctx, 'roleManagement/directory/roleDefinitions/$entity'), ...d });
}

function listAssignments(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, { roleDefinitionId: ['eq', 'in'], principalId: ['eq', 'in'], directoryScopeId: ['eq'] });
  const expand = expandList(ctx);
  checkExpand(expand);
  const rows = [...ctx.tenant.roleAssignments.values()].filter((a) => matches(a, clauses)).map((a) => expandAssignment(ctx, a, expand));
  return collection(ctx, 'roleManagement/directory/roleAssignments', rows, parseSelect(ctx.query.$select));
}

function deleteAssignment(ctx: RouteContext) {
  if (!ctx.tenant.roleAssignments.delete(ctx.params.id)) throw notFound(ctx.params.id);
  return noContent();
}

function listEligibility(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, { roleDefinitionId: ['eq'], principalId: ['eq'] });
  const expand = expandList(ctx);
  checkExpand(expand);
  const rows = ctx.tenant.roleEligibilities.filter((a) => matches(a, clauses)).map((a) => expandAssignment(ctx, a, expand));
  return collection(ctx, 'roleManagement/directory/roleEligibilityScheduleInstances', rows, parseSelect(ctx.query.$select));
}

export const roleRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/roleManagement/directory/roleDefinitions', permissions: ROLE_READ, handler: listDefinitions },
  { method: 'GET', pattern: '/roleManagement/directory/roleDefinitions/{id}', permissions: ROLE_READ, handler: getDefinition },
  { method: 'GET', pattern: '/roleManagement/directory/roleAssignments', permissions: ROLE_READ, handler: listAssignments },
  { method: 'DELETE', pattern: '/roleManagement/directory/roleAssignments/{id}', permissions: ROLE_WRITE, handler: deleteAssignment },
  { method: 'GET', pattern: '/roleManagement/directory/roleEligibilityScheduleInstances', permissions: ELIGIBILITY_READ, licence: 'entraP2',
    // PIM answers 400, not 403, when the tenant lacks P2.
    licenceError: { status: 400, code: 'AadPremiumLicenseRequired', message: 'The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.' },
    handler: listEligibility },
];
