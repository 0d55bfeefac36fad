/** Sign-in logs, policies (security defaults, Conditional Access), Secure Score, risky users. */
import type * as MG from '@microsoft/microsoft-graph-types';
import { GraphError, badRequest, notFound } from '../errors';
import { guidFrom } from '../ids';
import { matches, parseFilter, parseSelect, parseTop } from '../odata';
import { collection, entity, noContent, ok, odataContext, page, requireBody, type RouteContext, type RouteDef } from './common';

// --- /auditLogs/signIns ------------------------------------------------------------

function signIns(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, {
    createdDateTime: ['ge', 'gt', 'le', 'lt'],
    'status/errorCode': ['eq', 'ne'],
    clientAppUsed: ['eq'],
    userId: ['eq'],
    userPrincipalName: ['eq'],
    appDisplayName: ['eq'],
    'location/countryOrRegion': ['eq'],
    isInteractive: ['eq'],
  });
  const top = parseTop(ctx.query.$top, 1000, (v) => badRequest(`Invalid page size specified: '${v}'. Must be between 1 and 1000 inclusive.`, 'BadRequest'));
  const rows = ctx.tenant.signIns.filter((s) => matches(s, clauses));
  return page(ctx, rows, { context: 'auditLogs/signIns', defaultTop: 1000, top, select: parseSelect(ctx.query.$select) });
}

// --- Security defaults -------------------------------------------------------------

const SECURITY_DEFAULTS_ID = '00000000-0000-0000-0000-000000000005';

function securityDefaultsBody(ctx: RouteContext) {
  return {
    '@odata.context': odataContext(ctx, 'policies/identitySecurityDefaultsEnforcementPolicy/$entity'),
    id: SECURITY_DEFAULTS_ID,
    displayName: 'Security Defaults',
    description: 'Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.',
    isEnabled: ctx.tenant.securityDefaultsEnabled,
  };
}

function patchSecurityDefaults(ctx: RouteContext) {
  const body = requireBody(ctx);
  if (typeof body.isEnabled !== 'boolean') throw badRequest("Invalid value for property 'isEnabled'.", 'BadRequest');
  ctx.tenant.securityDefaultsEnabled = body.isEnabled;
  return noContent();
}

// --- Conditional Access --------------------------------------------------------------

const CA_STATES = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'];

function listPolicies(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, { state: ['eq'], displayName: ['eq'] });
  const rows = [...ctx.tenant.conditionalAccessPolicies.values()].filter((p) => matches(p, clauses));
  return collection(ctx, 'identity/conditionalAccess/policies', rows, parseSelect(ctx.query.$select));
}

function getPolicy(ctx: RouteContext) {
  const p = ctx.tenant.conditionalAccessPolicies.get(ctx.params.id);
  if (!p) throw new GraphError(404, 'ResourceNotFound', `Could not find a policy with id '${ctx.params.id}'.`);
  return entity(ctx, 'identity/conditionalAccess/policies/$entity', p, parseSelect(ctx.query.$select));
}

function createPolicy(ctx: RouteContext) {
  const body = requireBody(ctx) as MG.ConditionalAccessPolicy;
  if (!body.displayName) throw badRequest('1006: displayName is required.', 'BadRequest');
  if (!body.state || !CA_STATES.includes(body.state)) throw badRequest(`1006: state must be one of ${CA_STATES.join(', ')}.`, 'BadRequest');
  if (!body.conditions?.users || !body.conditions?.applications) throw badRequest('1006: conditions.users and conditions.applications are required.', 'BadRequest');
  if (!body.grantControls && !body.sessionControls) throw badRequest('1006: grantControls or sessionControls is required.', 'BadRequest');
  const created = ctx.now.toISOString();
  const id = guidFrom(`ca/${body.displayName}/${created}/${ctx.tenant.conditionalAccessPolicies.size}`);
  const policy = {
    id,
    templateId: null,
    description: null,
    sessionControls: null,
    ...body,
    createdDateTime: created,
    modifiedDateTime: null,
    conditions: {
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      platforms: null,
      locations: null,
      ...body.conditions,
    },
  } as MG.ConditionalAccessPolicy & { id: string };
  ctx.tenant.conditionalAccessPolicies.set(id, policy);
  return ok({ '@odata.context': odataContext(ctx, 'identity/conditionalAccess/policies/$entity'), ...policy }, 201);
}

// --- Secure Score -----------------------------------------------------------------------

function secureScores(ctx: RouteContext) {
  const top = parseTop(ctx.query.$top, 1000, (v) => badRequest(`Invalid $top value '${v}'.`, 'BadRequest'));
  return page(ctx, ctx.tenant.secureScores, { context: 'security/secureScores', defaultTop: 100, top, select: parseSelect(ctx.query.$select) });
}

function controlProfiles(ctx: RouteContext) {
  const top = parseTop(ctx.query.$top, 1000, (v) => badRequest(`Invalid $top value '${v}'.`, 'BadRequest'));
  return page(ctx, ctx.tenant.secureScoreControlProfiles, { context: 'security/secureScoreControlProfiles', defaultTop: 100, top, select: parseSelect(ctx.query.$select) });
}

// --- Identity Protection ---------------------------------------------------------------------

function riskyUsers(ctx: RouteContext) {
  const clauses = parseFilter(ctx.query.$filter, { riskLevel: ['eq'], riskState: ['eq'], userPrincipalName: ['eq'] });
  const top = parseTop(ctx.query.$top, 500, (v) => badRequest(`Invalid $top value '${v}'.`, 'BadRequest'));
  const rows = ctx.tenant.riskyUsers.filter((r) => matches(r, clauses));
  return page(ctx, rows, { context: 'identityProtection/riskyUsers', defaultTop: 20, top, select: parseSelect(ctx.query.$select) });
}

function riskyUser(ctx: RouteContext) {
  const r = ctx.tenant.riskyUsers.find((x) => x.id.toLowerCase() === ctx.params.id.toLowerCase());
  if (!r) throw notFound(ctx.params.id);
  return entity(ctx, 'identityProtection/riskyUsers/$entity', r, parseSelect(ctx.query.$select));
}

const CA_READ = ['Policy.Read.All', 'Policy.Read.ConditionalAccess', 'Policy.ReadWrite.ConditionalAccess'];
const SECURE_SCORE_READ = ['SecurityEvents.Read.All', 'SecurityEvents.ReadWrite.All'];
const RISKY_READ = ['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All'];
const RISKY_LICENCE = { status: 403, code: 'Forbidden', message: 'Your tenant is not licensed for this feature.' };

export const securityRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/auditLogs/signIns', permissions: ['AuditLog.Read.All', 'Directory.Read.All'], licence: 'entraP1', handler: signIns },
  { method: 'GET', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', permissions: ['Policy.Read.All', 'Policy.ReadWrite.SecurityDefaults'], handler: (ctx) => ok(securityDefaultsBody(ctx)) },
  { method: 'PATCH', pattern: '/policies/identitySecurityDefaultsEnforcementPolicy', permissions: ['Policy.ReadWrite.SecurityDefaults'], handler: patchSecurityDefaults },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies', permissions: CA_READ, licence: 'entraP1', handler: listPolicies },
  { method: 'GET', pattern: '/identity/conditionalAccess/policies/{id}', permissions: CA_READ, licence: 'entraP1', handler: getPolicy },
  { method: 'POST', pattern: '/identity/conditionalAccess/policies', permissions: ['Policy.ReadWrite.ConditionalAccess'], licence: 'entraP1', handler: createPolicy },
  { method: 'GET', pattern: '/security/secureScores', permissions: SECURE_SCORE_READ, handler: secureScores },
  { method: 'GET', pattern: '/security/secureScoreControlProfiles', permissions: SECURE_SCORE_READ, handler: controlProfiles },
  { method: 'GET', pattern: '/identityProtection/riskyUsers', permissions: RISKY_READ, licence: 'entraP2', licenceError: RISKY_LICENCE, handler: riskyUsers },
  { method: 'GET', pattern: '/identityProtection/riskyUsers/{id}', permissions: RISKY_READ, licence: 'entraP2', licenceError: RISKY_LICENCE, handler: riskyUser },
];
