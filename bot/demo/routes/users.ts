/** /users, /groups: directory objects, licences, sessions, membership checks. */
import type * as MG from '@microsoft/microsoft-graph-types';
import { GraphError, badRequest, notFound } from '../errors';
import { DIRECTORY_FILTER_ERRORS, matches, parseFilter, parseSelect, parseTop, type FilterClause } from '../odata';
import type { DemoUserRecord } from '../state';
import { guidFrom } from '../ids';
import { entity, ok, noContent, page, requireBody, topError, type RouteContext, type RouteDef } from './common';

export const USER_READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const USER_WRITE = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const GROUP_MEMBER_READ = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];

/** What v1.0 returns for a user when there is no $select (beta returns everything). */
export const USER_DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'];

/** Properties of microsoft.graph.user (v1.0 CSDL) — $select of anything else is a 400 as in Graph. */
const USER_PROPERTIES = new Set(
  ['id', 'deletedDateTime', 'aboutMe', 'accountEnabled', 'ageGroup', 'assignedLicenses', 'assignedPlans', 'authorizationInfo', 'birthday', 'businessPhones', 'city', 'companyName', 'consentProvidedForMinor', 'country', 'createdDateTime', 'creationType', 'customSecurityAttributes', 'department', 'deviceEnrollmentLimit', 'displayName', 'employeeHireDate', 'employeeId', 'employeeLeaveDateTime', 'employeeOrgData', 'employeeType', 'externalUserState', 'externalUserStateChangeDateTime', 'faxNumber', 'givenName', 'hireDate', 'identities', 'imAddresses', 'interests', 'isManagementRestricted', 'isResourceAccount', 'jobTitle', 'lastPasswordChangeDateTime', 'legalAgeGroupClassification', 'licenseAssignmentStates', 'mail', 'mailboxSettings', 'mailNickname', 'mobilePhone', 'mySite', 'officeLocation', 'onPremisesDistinguishedName', 'onPremisesDomainName', 'onPremisesExtensionAttributes', 'onPremisesImmutableId', 'onPremisesLastSyncDateTime', 'onPremisesProvisioningErrors', 'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'onPremisesSyncEnabled', 'onPremisesUserPrincipalName', 'otherMails', 'passwordPolicies', 'passwordProfile', 'pastProjects', 'postalCode', 'preferredDataLocation', 'preferredLanguage', 'preferredName', 'print', 'provisionedPlans', 'proxyAddresses', 'responsibilities', 'schools', 'securityIdentifier', 'serviceProvisioningErrors', 'showInAddressList', 'signInActivity', 'signInSessionsValidFromDateTime', 'skills', 'state', 'streetAddress', 'surname', 'usageLocation', 'userPrincipalName', 'userType'].map((p) => p.toLowerCase()),
);

const READ_ONLY_USER_PROPS = new Set(['id', 'createdDateTime', 'creationType', 'deletedDateTime', 'assignedLicenses', 'assignedPlans', 'provisionedPlans', 'securityIdentifier', 'signInSessionsValidFromDateTime']);

/** Graph's directory `in` operator: up to 15 values. */
const MAX_IN_VALUES = 15;

export function selectUserProps(ctx: RouteContext): string[] | undefined {
  const select = parseSelect(ctx.query.$select);
  for (const p of select ?? []) {
    if (!USER_PROPERTIES.has(p.toLowerCase())) {
      throw badRequest(`Could not find a property named '${p}' on type 'Microsoft.DirectoryServices.User'.`);
    }
  }
  return select;
}

export function userDefaultSelect(ctx: RouteContext): string[] | undefined {
  return ctx.version === 'v1.0' ? USER_DEFAULT_SELECT : undefined;
}

export function requireUser(ctx: RouteContext, key = 'userId'): DemoUserRecord {
  const rec = ctx.tenant.findUser(ctx.params[key]);
  if (!rec) throw notFound(ctx.params[key]);
  return rec;
}

/** ConsistencyLevel: eventual is what unlocks $count on directory objects. */
function requireEventual(ctx: RouteContext): void {
  if ((ctx.headers['consistencylevel'] ?? '').toLowerCase() !== 'eventual') {
    throw badRequest('$count is not currently supported.');
  }
}

function userFilter(ctx: RouteContext): FilterClause[] {
  const clauses = parseFilter(
    ctx.query.$filter,
    { id: ['eq', 'in'], accountEnabled: ['eq', 'ne'], userType: ['eq', 'ne', 'in'], userPrincipalName: ['eq', 'in'], mail: ['eq'], displayName: ['eq'], department: ['eq'], createdDateTime: ['ge', 'gt', 'le', 'lt'] },
    DIRECTORY_FILTER_ERRORS,
  );
  for (const c of clauses) {
    if (c.op === 'in' && Array.isArray(c.value) && c.value.length > MAX_IN_VALUES) {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Too many child clauses specified in search filter expression containing 'OR' operators: ${c.value.length}. Max allowed: ${MAX_IN_VALUES}.`);
    }
  }
  return clauses;
}

function filteredUsers(ctx: RouteContext): MG.User[] {
  const clauses = userFilter(ctx);
  const out: MG.User[] = [];
  for (const r of ctx.tenant.userRecords.values()) if (matches(r.user, clauses)) out.push(r.user);
  return out;
}

function listUsers(ctx: RouteContext) {
  const select = selectUserProps(ctx);
  const top = parseTop(ctx.query.$top, 999, topError(999));
  const wantCount = ctx.query.$count?.toLowerCase() === 'true';
  if (wantCount) requireEventual(ctx);
  return page(ctx, filteredUsers(ctx), { context: 'users', defaultTop: 100, top, select, defaultSelect: userDefaultSelect(ctx), count: wantCount });
}

function countUsers(ctx: RouteContext) {
  requireEventual(ctx);
  return { status: 200, text: String(filteredUsers(ctx).length) };
}

function getUser(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const select = selectUserProps(ctx) ?? userDefaultSelect(ctx);
  return entity(ctx, 'users/$entity', rec.user, select);
}

function patchUser(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const body = requireBody(ctx);
  const keys = Object.keys(body).filter((k) => !k.startsWith('@odata.'));
  // User.EnableDisableAccount.All only covers accountEnabled.
  const onlyEnable = keys.length > 0 && keys.every((k) => k === 'accountEnabled');
  if (!onlyEnable && !USER_WRITE.some((p) => ctx.roles.has(p))) {
    throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
  for (const k of keys) {
    if (!USER_PROPERTIES.has(k.toLowerCase())) throw badRequest(`Property '${k}' does not exist as a declared property or extension property.`);
    if (READ_ONLY_USER_PROPS.has(k)) throw badRequest(`Property '${k}' is read-only and cannot be set.`);
  }
  if ('accountEnabled' in body && typeof body.accountEnabled !== 'boolean') {
    throw badRequest("Invalid value specified for property 'accountEnabled' of resource 'User'.");
  }
  Object.assign(rec.user, Object.fromEntries(keys.map((k) => [k, body[k]])));
  if (typeof body.userPrincipalName === 'string') ctx.tenant.addUser(rec); // re-index the UPN
  return noContent();
}

function revokeSessions(ctx: RouteContext) {
  const rec = requireUser(ctx);
  rec.user.signInSessionsValidFromDateTime = ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return ok({ '@odata.context': `${ctx.baseUrl}/${ctx.version}/$metadata#Edm.Boolean`, value: true });
}

function checkMemberGroups(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const body = requireBody(ctx);
  const ids = body.groupIds;
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) throw badRequest("Invalid value specified for property 'groupIds'.");
  if (ids.length > 20) throw badRequest('The number of groupIds exceeds the limit of 20.');
  const mine = ctx.tenant.transitiveGroupsOf(rec.user.id);
  return ok({ '@odata.context': `${ctx.baseUrl}/${ctx.version}/$metadata#Collection(Edm.String)`, value: (ids as string[]).filter((g) => mine.has(g.toLowerCase())) });
}

function licenseDetails(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const value = (rec.user.assignedLicenses ?? []).flatMap((l) => {
    const sku = ctx.tenant.skus.find((s) => s.skuId === l.skuId);
    if (!sku) return [];
    return [{ id: guidFrom(`licenseDetails/${rec.user.id}/${sku.skuId}`), skuId: sku.skuId, skuPartNumber: sku.skuPartNumber, servicePlans: (sku.servicePlans ?? []).filter((p) => !(l.disabledPlans ?? []).includes(p.servicePlanId!)) }];
  });
  return ok({ '@odata.context': `${ctx.baseUrl}/${ctx.version}/$metadata#users('${rec.user.id}')/licenseDetails`, value });
}

function assignLicense(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const body = requireBody(ctx);
  const add = body.addLicenses;
  const remove = body.removeLicenses;
  if (!Array.isArray(add) || !Array.isArray(remove)) throw badRequest("Invalid value specified for property 'addLicenses' / 'removeLicenses' of resource 'User'.");
  const known = new Set(ctx.tenant.skus.map((s) => s.skuId));
  for (const l of add as MG.AssignedLicense[]) {
    if (!l?.skuId || !known.has(l.skuId)) throw badRequest(`License ${l?.skuId ?? ''} does not correspond to a valid company License.`);
  }
  if (add.length > 0 && !rec.user.usageLocation) throw badRequest('License assignment cannot be done for user with invalid usage location.');
  for (const l of add as MG.AssignedLicense[]) {
    const sku = ctx.tenant.skus.find((s) => s.skuId === l.skuId)!;
    const alreadyHas = rec.user.assignedLicenses?.some((x) => x.skuId === l.skuId);
    if (!alreadyHas && ctx.tenant.consumedUnits(sku.skuId) >= (sku.prepaidUnits?.enabled ?? 0)) {
      throw badRequest(`Subscription ${sku.skuPartNumber} does not have any available licenses.`);
    }
  }
  const removeSet = new Set((remove as string[]).map((s) => s.toLowerCase()));
  const next = (rec.user.assignedLicenses ?? []).filter((l) => !removeSet.has(l.skuId!.toLowerCase()));
  for (const l of add as MG.AssignedLicense[]) {
    const i = next.findIndex((x) => x.skuId === l.skuId);
    const entry = { skuId: l.skuId!, disabledPlans: l.disabledPlans ?? [] };
    if (i >= 0) next[i] = entry;
    else next.push(entry);
  }
  rec.user.assignedLicenses = next;
  // Exchange provisioning is near-immediate in the demo: the mailbox follows the licence.
  rec.hasMailbox = next.some((l) => ctx.tenant.skus.find((s) => s.skuId === l.skuId)?.servicePlans?.some((p) => p.servicePlanName?.startsWith('EXCHANGE_')));
  return entity(ctx, 'users/$entity', rec.user, userDefaultSelect(ctx));
}

function transitiveMembers(ctx: RouteContext, onlyUsers: boolean) {
  const group = ctx.tenant.findGroup(ctx.params.groupId);
  if (!group) throw notFound(ctx.params.groupId);
  const select = parseSelect(ctx.query.$select);
  const top = parseTop(ctx.query.$top, 999, topError(999));
  const members: object[] = [];
  for (const id of ctx.tenant.transitiveMembers(group.id)) {
    const u = ctx.tenant.findUser(id);
    if (u) members.push({ '@odata.type': '#microsoft.graph.user', ...u.user });
    else if (!onlyUsers) {
      const g = ctx.tenant.findGroup(id)!;
      members.push({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName, description: g.description ?? null, mailEnabled: g.mailEnabled, securityEnabled: g.securityEnabled });
    }
  }
  return page(ctx, members, {
    context: onlyUsers ? 'users' : 'directoryObjects',
    defaultTop: 100,
    top,
    select,
    defaultSelect: ctx.version === 'v1.0' ? ['@odata.type', ...USER_DEFAULT_SELECT, 'description', 'mailEnabled', 'securityEnabled'] : undefined,
  });
}

export const userRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/users/$count', permissions: USER_READ, handler: countUsers },
  { method: 'GET', pattern: '/users', permissions: USER_READ, handler: listUsers },
  { method: 'GET', pattern: '/users/{userId}', permissions: USER_READ, handler: getUser },
  { method: 'PATCH', pattern: '/users/{userId}', permissions: [...USER_WRITE, 'User.EnableDisableAccount.All'], handler: patchUser },
  { method: 'POST', pattern: '/users/{userId}/revokeSignInSessions', permissions: ['User.RevokeSessions.All', ...USER_WRITE], handler: revokeSessions },
  { method: 'POST', pattern: '/users/{userId}/checkMemberGroups', permissions: GROUP_MEMBER_READ, handler: checkMemberGroups },
  { method: 'GET', pattern: '/users/{userId}/licenseDetails', permissions: ['LicenseAssignment.Read.All', 'LicenseAssignment.ReadWrite.All', ...USER_READ], handler: licenseDetails },
  { method: 'POST', pattern: '/users/{userId}/assignLicense', permissions: ['LicenseAssignment.ReadWrite.All', ...USER_WRITE], handler: assignLicense },
  { method: 'GET', pattern: '/groups/{groupId}/transitiveMembers', permissions: GROUP_MEMBER_READ, handler: (ctx) => transitiveMembers(ctx, false) },
  { method: 'GET', pattern: '/groups/{groupId}/transitiveMembers/microsoft.graph.user', permissions: GROUP_MEMBER_READ, handler: (ctx) => transitiveMembers(ctx, true) },
];
