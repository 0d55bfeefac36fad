/** Run-time knobs of the demo server (latency, paging, licences, permissions, faults, throttling limits). */
import { DemoLimits, type DemoLimitsOptions } from './limits';

export interface DemoFault {
  /**
   * Matched against `METHOD /version/path` (no query), e.g. `GET /v1.0/users`.
   * A string matches as a prefix; a RegExp is tested.
   */
  match: string | RegExp;
  kind: 'throttle' | 'status' | 'reset' | 'malformed' | 'slow';
  /** For 'status' (default 503) and 'throttle' (always 429). */
  status?: number;
  /** For 'throttle' (default 1); null = send no Retry-After header. */
  retryAfterSeconds?: number | null;
  /** For 'slow': extra delay before answering. */
  delayMs?: number;
  /** How many more requests this fault applies to. */
  count: number;
  /** Apply to the inner requests of a $batch instead of top-level requests. */
  inBatch?: boolean;
}

export interface DemoKnobs {
  latencyMs: number;
  maxPageSize: number;
  licences: { entraP1: boolean; entraP2: boolean };
  grantedRoles: string[] | 'all';
  faults: DemoFault[];
  /** Graph's documented throttling limits (limits.ts), enforced while set; null (default) = off. */
  limits: DemoLimits | null;
}

/** What POST /_demo/knobs accepts: `limits: true` (or options) turns fresh limits on, `false` off. */
export type DemoKnobsPatch = Omit<Partial<DemoKnobs>, 'limits'> & { limits?: DemoLimits | DemoLimitsOptions | boolean | null };

export function defaultKnobs(): DemoKnobs {
  return {
    latencyMs: 0,
    // Small on purpose so that every client exercises @odata.nextLink paging.
    maxPageSize: 10,
    licences: { entraP1: true, entraP2: false },
    grantedRoles: 'all',
    faults: [],
    limits: null,
  };
}

/** Take the first matching fault (decrementing its count), if any. */
export function takeFault(knobs: DemoKnobs, key: string, inBatch: boolean): DemoFault | undefined {
  const i = knobs.faults.findIndex(
    (f) => f.count > 0 && Boolean(f.inBatch) === inBatch && (typeof f.match === 'string' ? key.startsWith(f.match) : f.match.test(key)),
  );
  if (i < 0) return undefined;
  const f = knobs.faults[i];
  f.count--;
  if (f.count <= 0) knobs.faults.splice(i, 1);
  return f;
}

/** JSON merge used by POST /_demo/knobs; faults are replaced wholesale. */
export function mergeKnobs(knobs: DemoKnobs, patch: DemoKnobsPatch): void {
  if (typeof patch.latencyMs === 'number') knobs.latencyMs = patch.latencyMs;
  if (typeof patch.maxPageSize === 'number') knobs.maxPageSize = patch.maxPageSize;
  if (patch.licences) Object.assign(knobs.licences, patch.licences);
  if (patch.grantedRoles === 'all' || Array.isArray(patch.grantedRoles)) knobs.grantedRoles = patch.grantedRoles;
  if (Array.isArray(patch.faults)) knobs.faults = patch.faults.map((f) => ({ ...f }));
  if (patch.limits !== undefined) {
    knobs.limits = patch.limits instanceof DemoLimits ? patch.limits : patch.limits ? new DemoLimits(patch.limits === true ? {} : patch.limits) : null;
  }
}
