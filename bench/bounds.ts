/**
 * The throttle-bound lower bound of wall time: how long the documented limits make a run of
 * this many requests take at the very least, whoever sends them. For each budget the run needs,
 * the requests beyond the bucket's initial capacity must wait for its refill:
 *
 *     time ≥ (units needed − capacity) / refill rate        (for every bucket, so the max of them)
 *
 * plus one round trip for the last answer; and never less than the longest paging chain (pages
 * of one collection are sequential: each next link comes in the previous page) × RTT.
 * Inputs are the requests Graph evaluated and accepted (429s excluded) as the simulator counted them.
 */
import { DOCUMENTED_LIMITS, type DemoRate } from '../bot/demo/limits';
import type { SimCounts, Truth } from './sim';

export interface TimeBound {
  ms: number;
  /** Which term decides it. */
  binding: string;
  terms: Record<string, number>;
}

const seconds = (units: number, rate: DemoRate): number => Math.max(0, units - rate.capacity) / (rate.capacity / (rate.windowMs / 1000));

export function throttleBound(c: SimCounts, truth: Truth, rttMs: number): TimeBound {
  const ok = (f: keyof SimCounts['byFamily']) => c.byFamily[f] - c.throttledByFamily[f];
  const size = truth.users > 500 ? 'L' : truth.users >= 50 ? 'M' : 'S';
  const terms: Record<string, number> = {
    'reports per tenant (5/10 s)': seconds(ok('reports'), DOCUMENTED_LIMITS.reportsPerTenant) * 1000,
    'reports per app (122/10 s)': seconds(ok('reports'), DOCUMENTED_LIMITS.reportsPerApp) * 1000,
    [`identity RU per tenant (${size}: ${DOCUMENTED_LIMITS.identityPerTenant[size].capacity}/10 s)`]: seconds(c.resourceUnits, DOCUMENTED_LIMITS.identityPerTenant[size]) * 1000,
    'identity protection / CA (1/s)': seconds(ok('identityProtection'), DOCUMENTED_LIMITS.identityProtectionPerTenant) * 1000,
    'global (130,000/10 s)': seconds(c.evaluated - c.throttled, DOCUMENTED_LIMITS.global) * 1000,
  };
  let binding = 'one round trip';
  let throttle = 0;
  for (const [k, v] of Object.entries(terms)) {
    if (v > throttle) {
      throttle = v;
      binding = k;
    }
  }
  const chain = c.minChain * rttMs;
  terms['paging chain × RTT'] = chain;
  if (chain > throttle + rttMs) return { ms: chain, binding: `paging chain (${c.minChain} pages × RTT)`, terms };
  return { ms: throttle + rttMs, binding: throttle > 0 ? binding : 'one round trip', terms };
}
