/**
 * Runs checks for a tenant with a short cache, so a question, its "Show more" pages and the
 * card re-drawn after a click read Graph once. A read that fails outright (the app lacks the
 * check's main permission, say) becomes an "unknown" result naming what to add.
 */
import type { GraphApi } from '../graph/api';
import { withSharedReads } from '../graph/sharedReads';
import { ReadFailed } from './graphReads';
import { gapFor } from './mfaRegistration';
import { DEFAULT_CHECK_SETTINGS, type CheckSettings } from './settings';
import type { Check, CheckResult } from './types';

export class CheckRunner {
  private readonly cache = new Map<string, { at: number; result: Promise<CheckResult> }>();
  /** Per tenant: reads shared by the checks answered in one cache window. */
  private readonly reads = new Map<string, { at: number; graph: GraphApi }>();

  constructor(
    private readonly graphFor: (tenantId: string) => GraphApi,
    private readonly now: () => Date = () => new Date(),
    private readonly ttlMs = 60_000,
    /** Per-tenant check configuration (EXCLUDED_ACCOUNTS, ALLOWED_COUNTRIES, Exchange reader). */
    private readonly settings: CheckSettings | ((tenantId: string) => CheckSettings) = DEFAULT_CHECK_SETTINGS,
  ) {}

  async run<R, D>(check: Check<R, D>, tenantId: string, opts: { fresh?: boolean; graph?: GraphApi } = {}): Promise<CheckResult<D>> {
    const key = `${tenantId}/${check.id}`;
    const hit = this.cache.get(key);
    if (!opts.fresh && hit && this.now().getTime() - hit.at < this.ttlMs) return hit.result as Promise<CheckResult<D>>;
    const result = this.runUncached(check, tenantId, opts.graph ?? this.sharedGraph(tenantId));
    this.cache.set(key, { at: this.now().getTime(), result });
    // A failed run must not be served from cache.
    result.catch(() => this.cache.delete(key));
    return result;
  }

  /**
   * Several checks at once (a scan, the posture card) with their identical Graph reads made once.
   * `fresh` reads everything anew (scheduled scans); otherwise cached answers are reused. With
   * `fresh`, `graphView` may wrap the tenant's Graph (scheduled scans read users from a snapshot).
   */
  async runAll(checks: Check[], tenantId: string, opts: { fresh?: boolean; concurrency?: number; graphView?: (graph: GraphApi, tenantId: string) => GraphApi } = {}): Promise<CheckResult[]> {
    const tenantGraph = () => (opts.graphView ? opts.graphView(this.graphFor(tenantId), tenantId) : this.graphFor(tenantId));
    const graph = opts.fresh ? withSharedReads(tenantGraph()) : this.sharedGraph(tenantId);
    const results: CheckResult[] = new Array(checks.length);
    let next = 0;
    const worker = async () => {
      while (next < checks.length) {
        const i = next++;
        results[i] = await this.run(checks[i], tenantId, { fresh: opts.fresh, graph });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 1, checks.length)) }, worker));
    return results;
  }

  /** Forget cached results of a tenant (after a fix changed it). */
  invalidate(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}/`)) this.cache.delete(key);
    this.reads.delete(tenantId.toLowerCase());
  }

  /** The tenant's Graph with reads shared for one cache window. */
  private sharedGraph(tenantId: string): GraphApi {
    const key = tenantId.toLowerCase();
    const hit = this.reads.get(key);
    if (hit && this.now().getTime() - hit.at < this.ttlMs) return hit.graph;
    const graph = withSharedReads(this.graphFor(tenantId));
    this.reads.set(key, { at: this.now().getTime(), graph });
    return graph;
  }

  private async runUncached<R, D>(check: Check<R, D>, tenantId: string, graph: GraphApi): Promise<CheckResult<D>> {
    const now = this.now();
    try {
      const settings = typeof this.settings === 'function' ? this.settings(tenantId) : this.settings;
      const reads = await check.read({ graph, tenantId, now, settings });
      return check.evaluate(reads, now);
    } catch (err) {
      const main = check.reads[0];
      return {
        id: check.id,
        title: check.title,
        status: 'unknown',
        reason: 'Vigil could not read what this check needs.',
        findings: [],
        gaps: [err instanceof ReadFailed ? err.gap : gapFor(err, check.title, main.permission, main.licence)],
        data: undefined as D,
        generatedAt: now.toISOString(),
      };
    }
  }
}
