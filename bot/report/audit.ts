/**
 * The audit engine: runs every registered check (or a chosen few) for one tenant through the
 * same CheckRunner the chat uses, and rates the results. New checks in `bot/checks` appear here,
 * in the PDF, the CSV and the JSON without any change to this module.
 */
import type { Organization } from '@microsoft/microsoft-graph-types';
import { CHECKS } from '../checks';
import type { CheckRunner } from '../checks/runner';
import type { Check, Gap } from '../checks/types';
import type { GraphApi } from '../graph/api';
import { GraphRequestError } from '../graph/errors';
import { gradeOf, rate } from './rating';
import type { Audit, AuditedCheck, TenantInfo } from './types';

export interface AuditOptions {
  /** Check ids to run; default: every registered check, in registry order. */
  checkIds?: string[];
  /** The registry to draw from (tests pass their own). */
  registry?: Check[];
  /** Called after each check finishes (for a progress bar). */
  onProgress?: (done: number, total: number, checkId: string) => void;
  /** Checks running at once: Graph throttles per tenant, so a few, not all. */
  concurrency?: number;
  /** Read results again instead of using the runner's short cache. */
  fresh?: boolean;
  now?: Date;
}

/** Raised for --checks / chat input naming checks that do not exist. */
export class UnknownCheckError extends Error {
  constructor(public readonly ids: string[], public readonly known: string[]) {
    super(`Unknown check${ids.length === 1 ? '' : 's'}: ${ids.join(', ')}. Known checks: ${known.join(', ')}`);
    this.name = 'UnknownCheckError';
  }
}

export function selectChecks(checkIds: string[] | undefined, registry: Check[] = CHECKS): Check[] {
  if (!checkIds?.length) return [...registry];
  const wanted = checkIds.map((id) => id.trim()).filter(Boolean);
  const unknown = wanted.filter((id) => !registry.some((c) => c.id === id));
  if (unknown.length) throw new UnknownCheckError(unknown, registry.map((c) => c.id));
  // Registry order, each once.
  return registry.filter((c) => wanted.includes(c.id));
}

/**
 * The tenant's name and domains from /organization. A missing permission is a gap (the report then
 * names the tenant by id); a failure to reach Graph at all is thrown, because nothing else will work.
 */
export async function readTenantInfo(graph: GraphApi, tenantId: string = graph.tenantId): Promise<TenantInfo> {
  try {
    const res = await graph.get<{ value?: Organization[] }>('/organization', { query: { $select: 'id,displayName,verifiedDomains' } });
    const org = res.value?.[0];
    const domains = (org?.verifiedDomains ?? []).map((d) => d.name ?? '').filter(Boolean);
    const domain = org?.verifiedDomains?.find((d) => d.isDefault)?.name ?? domains[0];
    return { tenantId: org?.id ?? tenantId, name: org?.displayName?.trim() || domain || tenantId, domain: domain ?? undefined, domains };
  } catch (err) {
    if (!(err instanceof GraphRequestError)) throw err;
    const gap: Gap = err.isMissingPermission
      ? { what: 'Tenant name', reason: "Vigil's app lacks the Graph permission Organization.Read.All, so the report names the tenant by its id.", permission: 'Organization.Read.All' }
      : { what: 'Tenant name', reason: `Graph answered ${err.status} ${err.code} for /organization.` };
    return { tenantId, name: tenantId, domains: [], gap };
  }
}

/** Run the checks for a tenant and rate them. Never throws for a failing check: it becomes "unknown". */
export async function runAudit(runner: CheckRunner, tenant: TenantInfo, opts: AuditOptions = {}): Promise<Audit> {
  const checks = selectChecks(opts.checkIds, opts.registry);
  const generatedAt = opts.now ?? new Date();
  const results: AuditedCheck[] = new Array(checks.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < checks.length) {
      const i = next++;
      const check = checks[i];
      const result = await runner.run(check, tenant.tenantId, { fresh: opts.fresh });
      results[i] = { check: { id: check.id, title: check.title, why: check.why }, result, rating: rate(result) };
      opts.onProgress?.(++done, checks.length, check.id);
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? 4, checks.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { tenant, generatedAt, checks: results, grade: gradeOf(results) };
}

/** Does a name (typed in chat, or given to --tenant) mean this tenant (its name, a verified domain, its id)? */
export function tenantMatches(info: TenantInfo, name: string): boolean {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^\p{L}\p{N}.-]+/gu, ' ')
      .replace(/\b(?:ltd|limited|inc|llc|plc|gmbh)\b\.?/g, '')
      .replace(/\s+/g, ' ')
      .trim();
  const wanted = clean(name);
  if (!wanted) return false;
  const display = clean(info.name);
  if (wanted === display || wanted === info.tenantId.toLowerCase()) return true;
  if (display.startsWith(`${wanted} `)) return true;
  return info.domains.some((d) => {
    const domain = d.toLowerCase();
    return wanted === domain || wanted === domain.split('.')[0];
  });
}
