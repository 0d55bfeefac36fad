/**
 * Runs checks for a tenant with a short cache, so a question, its "Show more" pages and the
 * card re-drawn after a click read Graph once. A read that fails outright (the app lacks the
 * check's main permission, say) becomes an "unknown" result naming what to add.
 */
import type { GraphApi } from '../graph/api';
import { ReadFailed } from './graphReads';
import { gapFor } from './mfaRegistration';
import { DEFAULT_CHECK_SETTINGS, type CheckSettings } from './settings';
import type { Check, CheckResult } from './types';

export class CheckRunner {
  private readonly cache = new Map<string, { at: number; result: Promise<CheckResult> }>();

  constructor(
    private readonly graphFor: (tenantId: string) => GraphApi,
    private readonly now: () => Date = () => new Date(),
    private readonly ttlMs = 60_000,
    /** Per-tenant check configuration (EXCLUDED_ACCOUNTS, ALLOWED_COUNTRIES, Exchange reader). */
    private readonly settings: CheckSettings | ((tenantId: string) => CheckSettings) = DEFAULT_CHECK_SETTINGS,
  ) {}

  async run<R, D>(check: Check<R, D>, tenantId: string, opts: { fresh?: boolean } = {}): Promise<CheckResult<D>> {
    const key = `${tenantId}/${check.id}`;
    const hit = this.cache.get(key);
    if (!opts.fresh && hit && this.now().getTime() - hit.at < this.ttlMs) return hit.result as Promise<CheckResult<D>>;
    const result = this.runUncached(check, tenantId);
    this.cache.set(key, { at: this.now().getTime(), result });
    // A failed run must not be served from cache.
    result.catch(() => this.cache.delete(key));
    return result;
  }

  /** Forget cached results of a tenant (after a fix changed it). */
  invalidate(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}/`)) this.cache.delete(key);
  }

  private async runUncached<R, D>(check: Check<R, D>, tenantId: string): Promise<CheckResult<D>> {
    const now = this.now();
    try {
      const settings = typeof this.settings === 'function' ? this.settings(tenantId) : this.settings;
      const reads = await check.read({ graph: this.graphFor(tenantId), tenantId, now, settings });
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
