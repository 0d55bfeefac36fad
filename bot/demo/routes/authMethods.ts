/** Authentication methods, per-user MFA state and the registration-details report. */
import { GraphError, badRequest } from '../errors';
import { matches, parseFilter, parseSelect, parseTop } from '../odata';
import type { DemoAuthMethod, PerUserMfaState } from '../state';
import { collection, entity, noContent, page, requireBody, type GraphResult, type RouteContext, type RouteDef } from './common';
import { requireUser } from './users';

const METHODS_READ = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const METHODS_WRITE = ['UserAuthenticationMethod.ReadWrite.All'];

/** Navigation segment → concrete method type, as in /users/{id}/authentication/{segment}/{methodId}. */
const METHOD_SEGMENTS: Record<string, string> = {
  microsoftAuthenticatorMethods: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  phoneMethods: '#microsoft.graph.phoneAuthenticationMethod',
  softwareOathMethods: '#microsoft.graph.softwareOathAuthenticationMethod',
  fido2Methods: '#microsoft.graph.fido2AuthenticationMethod',
  emailMethods: '#microsoft.graph.emailAuthenticationMethod',
  passwordMethods: '#microsoft.graph.passwordAuthenticationMethod',
};

function registrationList(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, {
    isMfaRegistered: ['eq'],
    isMfaCapable: ['eq'],
    isAdmin: ['eq'],
    isSsprRegistered: ['eq'],
    isPasswordlessCapable: ['eq'],
    userType: ['eq'],
    userPrincipalName: ['eq'],
  });
  const select = parseSelect(ctx.query.$select);
  const top = parseTop(ctx.query.$top, 999, (v) => badRequest(`Invalid $top value '${v}'.`, 'BadRequest'));
  const rows = [];
  const admins = ctx.tenant.adminIds();
  for (const rec of ctx.tenant.userRecords.values()) {
    const row = ctx.tenant.registrationDetails(rec, ctx.now, admins);
    if (matches(row, clauses)) rows.push(row);
  }
  return page(ctx, rows, { context: 'reports/authenticationMethods/userRegistrationDetails', defaultTop: 100, top, select });
}

function registrationOne(ctx: RouteContext) {
  const rec = requireUser(ctx);
  return entity(ctx, 'reports/authenticationMethods/userRegistrationDetails/$entity', ctx.tenant.registrationDetails(rec, ctx.now), parseSelect(ctx.query.$select));
}

function getRequirements(ctx: RouteContext) {
  const rec = requireUser(ctx);
  return entity(ctx, `users('${rec.user.id}')/authentication/requirements`, { perUserMfaState: rec.perUserMfaState });
}

const MFA_STATES: PerUserMfaState[] = ['disabled', 'enabled', 'enforced'];

function patchRequirements(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const body = requireBody(ctx);
  const state = body.perUserMfaState;
  if (typeof state !== 'string' || !MFA_STATES.includes(state as PerUserMfaState)) {
    throw badRequest(`Invalid value '${String(state)}' for property 'perUserMfaState'. Possible values are: disabled, enabled, enforced.`, 'BadRequest');
  }
  // Documented behaviour: 'enabled' becomes 'enforced' when the user already has an MFA method.
  const hasMfa = ctx.tenant.registrationDetails(rec, ctx.now).isMfaRegistered;
  rec.perUserMfaState = state === 'enabled' && hasMfa ? 'enforced' : (state as PerUserMfaState);
  return noContent();
}

function listMethods(ctx: RouteContext) {
  const rec = requireUser(ctx);
  return collection(ctx, `users('${rec.user.id}')/authentication/methods`, rec.methods, parseSelect(ctx.query.$select));
}

function methodsOfType(ctx: RouteContext): DemoAuthMethod[] {
  const rec = requireUser(ctx);
  const type = METHOD_SEGMENTS[ctx.params.segment];
  return rec.methods.filter((m) => m['@odata.type'] === type);
}

function findMethod(ctx: RouteContext): DemoAuthMethod {
  const m = methodsOfType(ctx).find((x) => x.id.toLowerCase() === ctx.params.methodId.toLowerCase());
  if (!m) throw new GraphError(404, 'itemNotFound', 'The requested resource was not found.');
  return m;
}

function deleteMethod(ctx: RouteContext) {
  const rec = requireUser(ctx);
  const m = findMethod(ctx);
  if (m['@odata.type'] === '#microsoft.graph.passwordAuthenticationMethod') {
    throw new GraphError(400, 'badRequest', 'The password method cannot be deleted.');
  }
  rec.methods = rec.methods.filter((x) => x !== m);
  return noContent();
}

/** One GET/list/DELETE triple per typed method collection. */
function typedMethodRoutes(segment: string): RouteDef[] {
  const withSegment = (fn: (ctx: RouteContext) => GraphResult) => (ctx: RouteContext) => fn({ ...ctx, params: { ...ctx.params, segment } });
  return [
    {
      method: 'GET', pattern: `/users/{userId}/authentication/${segment}`, permissions: METHODS_READ,
      handler: withSegment((ctx) => collection(ctx, `users('${ctx.params.userId}')/authentication/${segment}`, methodsOfType(ctx), parseSelect(ctx.query.$select))),
    },
    {
      method: 'GET', pattern: `/users/{userId}/authentication/${segment}/{methodId}`, permissions: METHODS_READ,
      handler: withSegment((ctx) => entity(ctx, `users('${ctx.params.userId}')/authentication/${segment}/$entity`, findMethod(ctx), parseSelect(ctx.query.$select))),
    },
    { method: 'DELETE', pattern: `/users/{userId}/authentication/${segment}/{methodId}`, permissions: METHODS_WRITE, handler: withSegment(deleteMethod) },
  ];
}

export const authMethodRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/reports/authenticationMethods/userRegistrationDetails', permissions: ['AuditLog.Read.All', 'UserAuthenticationMethod.Read.All'], licence: 'entraP1', handler: registrationList },
  { method: 'GET', pattern: '/reports/authenticationMethods/userRegistrationDetails/{userId}', permissions: ['AuditLog.Read.All', 'UserAuthenticationMethod.Read.All'], licence: 'entraP1', handler: registrationOne },
  { method: 'GET', pattern: '/users/{userId}/authentication/requirements', permissions: ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'], versions: ['beta'], handler: getRequirements },
  { method: 'PATCH', pattern: '/users/{userId}/authentication/requirements', permissions: ['Policy.ReadWrite.AuthenticationMethod'], versions: ['beta'], handler: patchRequirements },
  { method: 'GET', pattern: '/users/{userId}/authentication/methods', permissions: METHODS_READ, handler: listMethods },
  ...Object.keys(METHOD_SEGMENTS).flatMap(typedMethodRoutes),
];

