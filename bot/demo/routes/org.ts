/** Tenant-wide directory data: /domains, /organization, /subscribedSkus. */
import { notFound } from '../errors';
import { parseSelect } from '../odata';
import { collection, entity, type RouteContext, type RouteDef } from './common';

function listDomains(ctx: RouteContext) {
  return collection(ctx, 'domains', ctx.tenant.domains, parseSelect(ctx.query.$select));
}

function getDomain(ctx: RouteContext) {
  const d = ctx.tenant.domains.find((x) => x.id.toLowerCase() === ctx.params.id.toLowerCase());
  if (!d) throw notFound(ctx.params.id);
  return entity(ctx, 'domains/$entity', d, parseSelect(ctx.query.$select));
}

function organization(ctx: RouteContext) {
  return collection(ctx, 'organization', [ctx.tenant.organization], parseSelect(ctx.query.$select));
}

/** consumedUnits is live: it follows assignLicense. */
function subscribedSkus(ctx: RouteContext) {
  const skus = ctx.tenant.skus.map((s) => ({ ...s, consumedUnits: ctx.tenant.consumedUnits(s.skuId) }));
  return collection(ctx, 'subscribedSkus', skus, parseSelect(ctx.query.$select));
}

export const orgRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/domains', permissions: ['Domain.Read.All', 'Directory.Read.All', 'Domain.ReadWrite.All', 'Directory.ReadWrite.All'], handler: listDomains },
  { method: 'GET', pattern: '/domains/{id}', permissions: ['Domain.Read.All', 'Directory.Read.All', 'Domain.ReadWrite.All', 'Directory.ReadWrite.All'], handler: getDomain },
  { method: 'GET', pattern: '/organization', permissions: ['Organization.Read.All', 'Directory.Read.All', 'Organization.ReadWrite.All', 'Directory.ReadWrite.All'], handler: organization },
  { method: 'GET', pattern: '/subscribedSkus', permissions: ['LicenseAssignment.Read.All', 'Organization.Read.All', 'Directory.Read.All', 'Organization.ReadWrite.All', 'Directory.ReadWrite.All'], handler: subscribedSkus },
];
