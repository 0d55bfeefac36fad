/**
 * Microsoft Graph's documented throttling limits, enforced by the demo tenant when the `limits`
 * knob is on (it is off by default; `npm run bench` turns it on). Source:
 * https://learn.microsoft.com/graph/throttling-limits ("Microsoft Graph service-specific
 * throttling limits", 2025 revision):
 *
 * | API family | Scope | Limit |
 * |---|---|---|
 * | any | per app across all tenants | 130,000 requests / 10 s |
 * | identity and access reports (`/reports/*`, `/auditLogs/*`) | per app per tenant | 5 requests / 10 s |
 * |  | per app across all tenants | 122 requests / 10 s |
 * | identity and access (`/users`, `/groups`, directory) | per app+tenant, resource units | S (< 50 users) 3,500, M (50–500) 5,000, L (> 500) 8,000 / 10 s |
 * |  | per app | 150,000 RU / 20 s |
 * |  | writes per app+tenant / per app | 3,000 / 150 s, 35,000 / 5 min |
 * | identity protection, Conditional Access | per tenant | 1 request / s, 429 without Retry-After |
 * | Outlook (mail, rules, mailbox settings) | per app per mailbox | 10,000 requests / 10 min; 4 concurrent (server.ts) |
 *
 * Resource units: base 1; GET users 2, subscribedSkus 3, groups/{id}/members 3,
 * groups/{id}/transitiveMembers 5, users/{id}/checkMemberGroups 4, …; $select −1, $expand +1,
 * $top < 20 −1; never below 1. Every request of a JSON $batch is evaluated on its own, as Graph does.
 * The limits are token buckets (as the identity limits are documented to be): a bucket holds
 * the whole budget and refills evenly over the window; a request that finds too few tokens gets
 * 429 with Retry-After = the seconds until it would fit, and spends nothing.
 *
 * Written independently of Vigil's own pacing (bot/graph/pacing.ts) on purpose: the benchmark
 * checks one against the other.
 */

export type DemoApiFamily = 'reports' | 'identity' | 'identityProtection' | 'outlook' | 'other';

export interface DemoRate {
  capacity: number;
  windowMs: number;
}

export interface DemoLimitTable {
  source: string;
  global: DemoRate;
  reportsPerTenant: DemoRate;
  reportsPerApp: DemoRate;
  identityPerTenant: Record<'S' | 'M' | 'L', DemoRate>;
  identityPerApp: DemoRate;
  identityWritesPerTenant: DemoRate;
  identityWritesPerApp: DemoRate;
  identityProtectionPerTenant: DemoRate;
  outlookPerMailbox: DemoRate;
  outlookConcurrentPerMailbox: number;
}

export const DOCUMENTED_LIMITS: Readonly<DemoLimitTable> = {
  source: 'https://learn.microsoft.com/graph/throttling-limits',
  global: { capacity: 130_000, windowMs: 10_000 },
  reportsPerTenant: { capacity: 5, windowMs: 10_000 },
  reportsPerApp: { capacity: 122, windowMs: 10_000 },
  identityPerTenant: {
    S: { capacity: 3_500, windowMs: 10_000 },
    M: { capacity: 5_000, windowMs: 10_000 },
    L: { capacity: 8_000, windowMs: 10_000 },
  },
  identityPerApp: { capacity: 150_000, windowMs: 20_000 },
  identityWritesPerTenant: { capacity: 3_000, windowMs: 150_000 },
  identityWritesPerApp: { capacity: 35_000, windowMs: 300_000 },
  identityProtectionPerTenant: { capacity: 1, windowMs: 1_000 },
  outlookPerMailbox: { capacity: 10_000, windowMs: 600_000 },
  outlookConcurrentPerMailbox: 4,
};

export interface DemoLimitsOptions {
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Override some numbers (tests use small ones). */
  overrides?: Partial<Record<'global' | 'reportsPerTenant' | 'reportsPerApp' | 'identityPerApp' | 'identityProtectionPerTenant' | 'outlookPerMailbox', DemoRate>>;
}

export interface EvaluatedRequest {
  tenantId: string;
  /** Users in the tenant: decides the identity budget (S/M/L). */
  tenantUsers: number;
  appId: string;
  method: string;
  /** Decoded path without the version, e.g. `/users/abc/mailFolders/inbox/messageRules`. */
  path: string;
  query: Record<string, string>;
}

export interface Throttled {
  family: DemoApiFamily;
  code: string;
  message: string;
  headers: Record<string, string>;
}

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: DemoRate,
    now: number,
  ) {
    this.tokens = rate.capacity;
    this.last = now;
  }

  /** Seconds until `cost` fits (0 = it fits now; nothing is spent). */
  shortfall(cost: number, now: number): number {
    this.refill(now);
    if (this.tokens >= cost) return 0;
    return (cost - this.tokens) / (this.rate.capacity / this.rate.windowMs) / 1000;
  }

  spend(cost: number): void {
    this.tokens -= cost;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.rate.capacity, this.tokens + ((now - this.last) * this.rate.capacity) / this.rate.windowMs);
      this.last = now;
    }
  }
}

const USER_OUTLOOK = new Set(['mailfolders', 'messages', 'mailboxsettings', 'events', 'calendar', 'calendars', 'calendarview', 'contacts', 'contactfolders', 'inferenceclassification', 'sendmail']);
const DIRECTORY = new Set(['users', 'groups', 'directoryobjects', 'directoryroles', 'rolemanagement', 'domains', 'organization', 'subscribedskus', 'applications', 'serviceprincipals', 'devices', 'contacts', 'oauth2permissiongrants', 'policies', 'directory']);

/** The family a Graph path belongs to, as the throttling documentation groups resources. */
export function demoFamily(path: string): { family: DemoApiFamily; mailbox?: string } {
  const s = path.split('/').filter(Boolean).map((x) => x.toLowerCase());
  if (s[0] === 'reports' || s[0] === 'auditlogs') return { family: 'reports' };
  if (s[0] === 'identityprotection' || (s[0] === 'identity' && s[1] === 'conditionalaccess')) return { family: 'identityProtection' };
  if (s[0] === 'users' && s.length >= 3 && USER_OUTLOOK.has(s[2])) return { family: 'outlook', mailbox: s[1] };
  if (DIRECTORY.has(s[0])) return { family: 'identity' };
  return { family: 'other' };
}

/** Resource units (and write units) of an identity request, per the documented cost table. */
export function demoResourceUnits(method: string, path: string, query: Record<string, string>): { units: number; writes: number } {
  const s = path.split('/').filter(Boolean).map((x) => x.toLowerCase());
  const p = s.join('/');
  const m = method.toUpperCase();
  let units = 1;
  if (m === 'GET') {
    if (p === 'users' || p === 'users/$count' || p === 'applications') units = 2;
    else if (p === 'subscribedskus' || p === 'contracts') units = 3;
    else if (s[0] === 'groups' && s[2] === 'members') units = 3;
    else if (s[0] === 'groups' && s[2] === 'transitivemembers') units = 5;
    else if (s[0] === 'users' && ['licensedetails', 'memberof', 'ownedobjects', 'transitivememberof'].includes(s[2] ?? '')) units = 2;
    else if (s[0] === 'oauth2permissiongrants' || (s[0] === 'serviceprincipals' && s[2] === 'approleassignments')) units = 2;
    else if (s[0] === 'domains' && s[2] === 'domainnamereferences') units = 4;
  } else if (m === 'POST') {
    if (p === 'directoryobjects/getbyids' || p === 'getobjectsbyid') units = 5;
    else if (['checkmembergroups', 'checkmemberobjects', 'ismemberof'].includes(s.at(-1) ?? '')) units = 4;
    else if (['getmembergroups', 'getmemberobjects'].includes(s.at(-1) ?? '')) units = 2;
  }
  const q = new Map(Object.entries(query).map(([k, v]) => [k.toLowerCase().replace(/^\$/, ''), v]));
  if (q.has('select')) units = p === 'directoryobjects/getbyids' || p === 'getobjectsbyid' ? 2 : units - 1;
  if (q.has('expand')) units += 1;
  if (q.has('top') && Number(q.get('top')) < 20) units -= 1;
  const read = m === 'GET' || /\/(getbyids|checkmembergroups|checkmemberobjects|getmembergroups|getmemberobjects|ismemberof)$/.test(`/${p}`) || p === 'getobjectsbyid';
  return { units: Math.max(1, units), writes: read ? 0 : 1 };
}

export interface DemoLimitsStats {
  admitted: Record<DemoApiFamily, number>;
  throttled: Record<DemoApiFamily, number>;
  /** Identity resource units spent. */
  resourceUnits: number;
}

const zero = (): Record<DemoApiFamily, number> => ({ reports: 0, identity: 0, identityProtection: 0, outlook: 0, other: 0 });

/** The live throttling state of one demo server: put an instance in `knobs.limits` to enforce it. */
export class DemoLimits {
  private readonly now: () => number;
  private readonly rates: DemoLimitTable;
  private readonly buckets = new Map<string, Bucket>();
  private counters: DemoLimitsStats = { admitted: zero(), throttled: zero(), resourceUnits: 0 };

  constructor(opts: DemoLimitsOptions = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.rates = { ...DOCUMENTED_LIMITS, ...(opts.overrides ?? {}) };
  }

  stats(): DemoLimitsStats {
    return { admitted: { ...this.counters.admitted }, throttled: { ...this.counters.throttled }, resourceUnits: this.counters.resourceUnits };
  }

  /** Full buckets again and zeroed counters. */
  reset(): void {
    this.buckets.clear();
    this.counters = { admitted: zero(), throttled: zero(), resourceUnits: 0 };
  }

  /**
   * Count one evaluated request against every limit it falls under. Returns undefined when it
   * may run, or what Graph answers when it may not (429, with Retry-After unless the API sends none).
   */
  admit(r: EvaluatedRequest): Throttled | undefined {
    const now = this.now();
    const { family, mailbox } = demoFamily(r.path);
    const tenant = r.tenantId.toLowerCase();
    const charges: Array<{ key: string; rate: DemoRate; cost: number; scope: string; info: string }> = [
      { key: 'global', rate: this.rates.global, cost: 1, scope: 'Application', info: 'RequestLimitExceeded' },
    ];
    let units = 0;
    if (family === 'reports') {
      charges.push({ key: `reports/${tenant}`, rate: this.rates.reportsPerTenant, cost: 1, scope: 'Tenant_Application', info: 'RequestLimitExceeded' });
      charges.push({ key: 'reports', rate: this.rates.reportsPerApp, cost: 1, scope: 'Application', info: 'RequestLimitExceeded' });
    } else if (family === 'identity') {
      const ru = demoResourceUnits(r.method, r.path, r.query);
      units = ru.units;
      const size = r.tenantUsers > 500 ? 'L' : r.tenantUsers >= 50 ? 'M' : 'S';
      charges.push({ key: `identity/${tenant}/${size}`, rate: this.rates.identityPerTenant[size], cost: ru.units, scope: 'Tenant_Application', info: 'ResourceUnitLimitExceeded' });
      charges.push({ key: 'identity', rate: this.rates.identityPerApp, cost: ru.units, scope: 'Application', info: 'ResourceUnitLimitExceeded' });
      if (ru.writes) {
        charges.push({ key: `identityWrites/${tenant}`, rate: this.rates.identityWritesPerTenant, cost: ru.writes, scope: 'Tenant_Application', info: 'WriteLimitExceeded' });
        charges.push({ key: 'identityWrites', rate: this.rates.identityWritesPerApp, cost: ru.writes, scope: 'Application', info: 'WriteLimitExceeded' });
      }
    } else if (family === 'identityProtection') {
      charges.push({ key: `identityProtection/${tenant}`, rate: this.rates.identityProtectionPerTenant, cost: 1, scope: 'Tenant', info: 'RequestLimitExceeded' });
    } else if (family === 'outlook' && mailbox) {
      charges.push({ key: `outlook/${tenant}/${mailbox}`, rate: this.rates.outlookPerMailbox, cost: 1, scope: 'Mailbox', info: 'RequestLimitExceeded' });
    }
    let worst: { seconds: number; scope: string; info: string } | undefined;
    for (const c of charges) {
      const seconds = this.bucket(c.key, c.rate, now).shortfall(c.cost, now);
      if (seconds > 0 && (!worst || seconds > worst.seconds)) worst = { seconds, scope: c.scope, info: c.info };
    }
    if (worst) {
      this.counters.throttled[family]++;
      const headers: Record<string, string> = {
        'x-ms-throttle-scope': `${worst.scope}/ReadWrite/${r.appId}/${r.tenantId}`,
        'x-ms-throttle-information': worst.info,
      };
      // Identity protection and Conditional Access send no Retry-After (documented).
      if (family !== 'identityProtection') headers['retry-after'] = String(Math.max(1, Math.ceil(worst.seconds)));
      return {
        family,
        code: family === 'identity' ? 'Request_ThrottledTemporarily' : family === 'outlook' ? 'ApplicationThrottled' : 'TooManyRequests',
        message: family === 'identity' ? 'The request has been throttled temporarily. Please try after some time.' : 'Too many requests. Please retry after the time given in Retry-After.',
        headers,
      };
    }
    for (const c of charges) this.bucket(c.key, c.rate, now).spend(c.cost);
    this.counters.admitted[family]++;
    this.counters.resourceUnits += units;
    return undefined;
  }

  private bucket(key: string, rate: DemoRate, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = new Bucket(rate, now);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** What the /_demo/knobs endpoint shows. */
  toJSON(): Record<string, unknown> {
    return { enforced: true, source: DOCUMENTED_LIMITS.source, ...this.stats() };
  }
}
