/**
 * Pacing: Vigil spends Microsoft Graph's documented throttling budgets itself, with token buckets
 * per tenant and per API family, so that it does not provoke 429s in the first place. Graph's own
 * word still wins: a 429 with Retry-After blocks the bucket it hit (and the SDK's RetryHandler,
 * earlier in the chain, waits Retry-After and retries).
 *
 * The numbers are Microsoft's "service-specific throttling limits"
 * (https://learn.microsoft.com/graph/throttling-limits, as of 2025):
 *  - global: 130,000 requests per 10 s per app across all tenants;
 *  - identity and access reports (reports/*, auditLogs/*): 5 requests per 10 s per app per tenant
 *    and 122 per 10 s per app across all tenants;
 *  - identity and access (users, groups, directory…): a token bucket of resource units (RU) per
 *    app+tenant per 10 s by tenant size — S (< 50 users) 3,500, M (50–500) 5,000, L (> 500) 8,000 —
 *    and 150,000 RU per 20 s per app; writes 3,000 per 150 s per app+tenant and 35,000 per 5 min
 *    per app. Base cost 1 (GET users 2, subscribedSkus 3, groups/{id}/transitiveMembers 5, …),
 *    $select −1, $expand +1, $top < 20 −1, never below 1;
 *  - identity protection and Conditional Access: 1 request per second per tenant (and no
 *    Retry-After on their 429s);
 *  - Outlook: 4 concurrent requests and 10,000 requests per 10 min per app per mailbox.
 *
 * Inner requests of a JSON $batch are evaluated one by one by Graph, so they are paced one by one
 * here too. Buckets are taken narrowest scope first (tenant, then app-wide, then global, then
 * the mailbox's concurrency slots), waiting for each before reserving the next: a tenant with a
 * long queue therefore cannot hold app-wide budget it is not yet allowed to use, which keeps
 * tenants fair in MSP mode.
 *
 * Scale-out (several Vigil processes of one app registration on one PostgreSQL): the budgets are
 * Graph's per app, not per process, so they are shared through the database (`share`, with
 * bot/store/pacingBudgets.ts) — designed for:
 *  - reports (5 / 10 s per tenant, 122 / 10 s per app: ≤ 12.2 requests/s in all) and identity
 *    protection / Conditional Access (1 / s per tenant): one shared token bucket per scope in a
 *    table, one atomic UPDATE per request (a round trip of ~1 ms, at most ~13 + 1 per tenant per s);
 *  - identity RU and writes per tenant (3,500–8,000 RU / 10 s; 3,000 writes / 150 s): shared
 *    buckets too, but spent in leases of 2.5% of the bucket (≤ 200 RU) that a process uses within
 *    500 ms, so a 100k-user scan costs a few round trips per second, not one per request;
 *  - the high-volume app-wide budgets (global 130,000 / 10 s, identity 150,000 RU / 20 s, writes
 *    35,000 / 5 min): split evenly among the live processes (each heartbeats every 5 s; each uses
 *    capacity / N), no round trip at all;
 *  - Outlook per mailbox (10,000 / 10 min, 4 concurrent) stays per process: a mailbox is read by the
 *    process scanning its tenant, a handful of times per scan.
 * Embedded PGlite means one process: its in-memory buckets are the whole truth.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

export type ApiFamily = 'reports' | 'identity' | 'identityProtection' | 'outlook' | 'other';
export type TenantSize = 'S' | 'M' | 'L';

export interface Rate {
  /** Tokens (requests or resource units) the bucket holds when full. */
  capacity: number;
  /** …refilled evenly over this many milliseconds. */
  windowMs: number;
}

export interface GraphLimits {
  global: Rate;
  reports: { perTenant: Rate; perApp: Rate };
  identity: { perTenant: Record<TenantSize, Rate>; perApp: Rate; writesPerTenant: Rate; writesPerApp: Rate };
  identityProtection: { perTenant: Rate };
  outlook: { perMailbox: Rate; concurrentPerMailbox: number };
}

/** Microsoft Graph's documented limits (see the header of this file for the source). */
export const GRAPH_LIMITS: GraphLimits = {
  global: { capacity: 130_000, windowMs: 10_000 },
  reports: { perTenant: { capacity: 5, windowMs: 10_000 }, perApp: { capacity: 122, windowMs: 10_000 } },
  identity: {
    perTenant: {
      S: { capacity: 3_500, windowMs: 10_000 },
      M: { capacity: 5_000, windowMs: 10_000 },
      L: { capacity: 8_000, windowMs: 10_000 },
    },
    perApp: { capacity: 150_000, windowMs: 20_000 },
    writesPerTenant: { capacity: 3_000, windowMs: 150_000 },
    writesPerApp: { capacity: 35_000, windowMs: 300_000 },
  },
  identityProtection: { perTenant: { capacity: 1, windowMs: 1_000 } },
  outlook: { perMailbox: { capacity: 10_000, windowMs: 600_000 }, concurrentPerMailbox: 4 },
};

/** Tenant size as the identity limits define it: S under 50 users, M 50–500, L above 500. */
export function tenantSizeFor(users: number): TenantSize {
  return users > 500 ? 'L' : users >= 50 ? 'M' : 'S';
}

// --- classification ------------------------------------------------------------------------

export interface RequestShape {
  method: string;
  /** Absolute URL, or a path relative to the version root as inside a $batch ("/users?$top=5"). */
  url: string;
}

export interface ClassifiedRequest {
  family: ApiFamily;
  /** Resource units for identity requests; 1 for every other family. */
  cost: number;
  /** Identity write units (POST/PATCH/PUT/DELETE that change something). */
  writeCost: number;
  /** Outlook: the mailbox (user id or UPN, lower-cased) the request acts on. */
  mailbox?: string;
  /** Users the request names (in its path, or in an `id in (…)` filter): a lower bound of the tenant's size. */
  users?: string[];
}

const OUTLOOK_SEGMENTS = new Set([
  'mailfolders', 'messages', 'mailboxsettings', 'events', 'calendar', 'calendars', 'calendarview', 'calendargroups',
  'contacts', 'contactfolders', 'inferenceclassification', 'outlook', 'todo', 'sendmail',
]);
const IDENTITY_ROOTS = new Set([
  'users', 'groups', 'directoryobjects', 'directoryroles', 'directoryroletemplates', 'rolemanagement', 'domains', 'organization',
  'subscribedskus', 'applications', 'serviceprincipals', 'devices', 'contacts', 'contracts', 'oauth2permissiongrants', 'policies',
  'groupsettings', 'groupsettingtemplates', 'directory', 'getobjectsbyid', 'schemaextensions', 'me',
]);
/** Reads done with POST that cost nothing from the write quota. */
const POST_READS = /\/(getbyids|checkmembergroups|checkmemberobjects|getmembergroups|getmemberobjects|getobjectsbyid|ismemberof)$/;

/** Split a Graph URL into its path segments (after the version) and its query. */
export function parseGraphUrl(url: string): { segments: string[]; query: URLSearchParams } {
  let rest = url;
  const scheme = /^https?:\/\/[^/]+/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  const segments = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (segments.length && /^(v1\.0|beta)$/i.test(segments[0])) segments.shift();
  return { segments, query };
}

/** Which documented limit a request counts against, and what it costs there. */
export function classifyRequest(method: string, url: string): ClassifiedRequest {
  const c = classifyOnly(method, url);
  const users = usersNamed(url);
  return users.length ? { ...c, users } : c;
}

function usersNamed(url: string): string[] {
  const { segments, query } = parseGraphUrl(url);
  if ((segments[0] ?? '').toLowerCase() !== 'users') return [];
  if (segments.length >= 2 && !segments[1].startsWith('$')) return [segments[1].toLowerCase()];
  const filter = [...query.entries()].find(([k]) => k.toLowerCase() === '$filter')?.[1] ?? '';
  const list = /\bid\s+in\s*\(([^)]*)\)/i.exec(filter)?.[1];
  return list ? (list.match(/'((?:[^']|'')*)'/g) ?? []).map((v) => v.slice(1, -1).toLowerCase()) : [];
}

function classifyOnly(method: string, url: string): ClassifiedRequest {
  const m = method.toUpperCase();
  const { segments, query } = parseGraphUrl(url);
  const lower = segments.map((s) => s.toLowerCase());
  const root = lower[0] ?? '';
  if (root === 'reports' || root === 'auditlogs') return { family: 'reports', cost: 1, writeCost: 0 };
  if (root === 'identityprotection' || (root === 'identity' && lower[1] === 'conditionalaccess') || root === 'riskdetections' || root === 'riskyusers') {
    return { family: 'identityProtection', cost: 1, writeCost: 0 };
  }
  if ((root === 'users' || root === 'me') && lower.length >= (root === 'me' ? 2 : 3)) {
    const seg = root === 'me' ? lower[1] : lower[2];
    if (OUTLOOK_SEGMENTS.has(seg)) return { family: 'outlook', cost: 1, writeCost: 0, mailbox: root === 'me' ? 'me' : lower[1] };
  }
  if (IDENTITY_ROOTS.has(root)) {
    const write = m !== 'GET' && !POST_READS.test(`/${lower.join('/')}`);
    return { family: 'identity', cost: identityCost(m, lower, query), writeCost: write ? 1 : 0 };
  }
  return { family: 'other', cost: 1, writeCost: 0 };
}

/** Base resource-unit cost of an identity request, from the documented table. */
function identityBaseCost(method: string, s: string[]): number {
  const path = s.join('/');
  // Requests on users/{id}/… cost what the documented me/… equivalents cost.
  const rel = s[0] === 'users' && s.length >= 3 ? `me/${s.slice(2).join('/')}` : path;
  if (method === 'GET') {
    if (path === 'users' || path === 'users/$count') return 2;
    if (path === 'applications' || /^applications\/[^/]+\/extensionproperties$/.test(path)) return 2;
    if (path === 'contracts') return 3;
    if (/^domains\/[^/]+\/domainnamereferences$/.test(path)) return 4;
    if (/^groups\/[^/]+\/members(\/|$)/.test(path)) return 3;
    if (/^groups\/[^/]+\/transitivemembers(\/|$)/.test(path)) return 5;
    if (/^oauth2permissiongrants(\/[^/]+)?$/.test(path)) return 2;
    if (/^serviceprincipals\/[^/]+\/approleassignments$/.test(path)) return 2;
    if (path === 'subscribedskus') return 3;
    if (/^me\/(licensedetails|memberof|ownedobjects|transitivememberof)(\/|$)/.test(rel)) return 2;
    return 1;
  }
  if (method === 'POST') {
    if (path === 'directoryobjects/getbyids' || path === 'getobjectsbyid') return 5;
    if (/ismemberof$/.test(path)) return 4;
    if (/^me\/(checkmembergroups|checkmemberobjects)$/.test(rel)) return 4;
    if (/^me\/(getmembergroups|getmemberobjects)$/.test(rel)) return 2;
  }
  return 1;
}

function identityCost(method: string, s: string[], query: URLSearchParams): number {
  let cost = identityBaseCost(method, s);
  const has = (name: string) => [...query.keys()].some((k) => k.toLowerCase() === name || k.toLowerCase() === name.slice(1));
  const path = s.join('/');
  if (has('$select')) cost = path === 'directoryobjects/getbyids' || path === 'getobjectsbyid' ? 2 : cost - 1;
  if (has('$expand')) cost += 1;
  const topKey = [...query.keys()].find((k) => k.toLowerCase() === '$top' || k.toLowerCase() === 'top');
  if (topKey && Number(query.get(topKey)) < 20) cost -= 1;
  return Math.max(1, cost);
}

// --- token bucket ----------------------------------------------------------------------------

/**
 * A token bucket that takes reservations: `reserve` takes the tokens at once (the level may go
 * below zero: those are promises to later callers) and says when the caller may send. A cost
 * larger than the capacity waits for a full bucket and leaves a debt, so it is possible but slow.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private blockedUntil = 0;

  constructor(
    private capacity: number,
    private ratePerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  static of(rate: Rate, now: number, headroom = 0): TokenBucket {
    return new TokenBucket(usableCapacity(rate.capacity, headroom, rate), usableRate(rate, headroom), now);
  }

  level(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  get size(): number {
    return this.capacity;
  }

  /** Take `cost` tokens; returns the time (ms) from which the caller may send. */
  reserve(cost: number, now: number): number {
    this.refill(now);
    const need = Math.min(cost, this.capacity);
    const at = this.tokens >= need ? now : now + (need - this.tokens) / this.ratePerMs;
    this.tokens -= cost;
    return Math.max(at, this.blockedUntil);
  }

  /**
   * Graph said "wait": nothing goes before `until`, and then only one request's worth is left
   * (Graph's bucket is evidently emptier than ours thought).
   */
  block(until: number, now: number): void {
    this.refill(now);
    this.blockedUntil = Math.max(this.blockedUntil, until);
    this.tokens = Math.min(this.tokens, 1 - (until - now) * this.ratePerMs);
  }

  blockedTill(): number {
    return this.blockedUntil;
  }

  /**
   * The `cost` taken when the caller's turn came at `turnAt` actually left at `sentAt` (it waited
   * for another budget in between): count it as taken then, as Graph does, so the refill in
   * between is not counted twice. Only when nothing else touched the bucket since `turnAt`.
   */
  chargeAtDeparture(cost: number, turnAt: number, sentAt: number): void {
    if (this.last !== turnAt || sentAt <= turnAt) return;
    const atTurn = this.tokens; // the level at turnAt, cost already taken
    this.tokens = Math.min(this.capacity, atTurn + cost + (sentAt - turnAt) * this.ratePerMs) - cost;
    this.last = sentAt;
  }

  /** Change the size (tenant size learnt later); keeps what is already spent. */
  resize(rate: Rate, now: number, headroom = 0): void {
    this.refill(now);
    const capacity = usableCapacity(rate.capacity, headroom, rate);
    this.tokens += capacity - this.capacity;
    this.capacity = capacity;
    this.ratePerMs = usableRate(rate, headroom);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.ratePerMs);
      this.last = now;
    }
  }
}

/**
 * Time a request may arrive early or late at Graph relative to its turn here (a busy event loop,
 * a $batch, a pause of the embedded database). 250 ms still let 233 of 8,233 report requests be
 * refused in the 500-tenant benchmark on a loaded 2-core machine; a second's refill in reserve
 * costs about a second once (13 of the 122 app-wide report tokens), and nothing per tenant.
 */
const JITTER_MS = 1000;

/**
 * Keep a little of each bucket in reserve so arrival jitter never tips Graph over: ≥ 1 token,
 * `headroom` of the capacity, and what refills in JITTER_MS (13 of the 122 app-wide report
 * requests: at 12.2/s, 2 and then 4 tokens were too few on a loaded 2-core machine).
 */
function usableCapacity(capacity: number, headroom: number, rate?: Rate): number {
  if (headroom <= 0) return capacity;
  const jitter = rate ? Math.ceil((rate.capacity / rate.windowMs) * JITTER_MS) : 0;
  return Math.max(1, capacity - Math.max(1, Math.ceil(capacity * headroom), jitter));
}

/**
 * A bucket too small to keep a token in reserve (Conditional Access: 1 per second) refills
 * slower instead: 20%, i.e. 200 ms of tolerance per second for the time a request spends
 * between leaving here and being counted there (inside a busy $batch, say).
 */
function usableRate(rate: Rate, headroom: number): number {
  const perMs = rate.capacity / rate.windowMs;
  return headroom > 0 && rate.capacity <= 2 ? perMs * 0.8 : perMs;
}

/** FIFO counting semaphore (Outlook's concurrent requests per mailbox). */
class Slots {
  inFlight = 0;
  private readonly waiters: Array<{ n: number; go: () => void }> = [];

  constructor(private readonly limit: number) {}

  get idle(): boolean {
    return this.inFlight === 0 && this.waiters.length === 0;
  }

  take(n: number): Promise<void> | undefined {
    const need = Math.min(n, this.limit);
    if (this.waiters.length === 0 && this.inFlight + need <= this.limit) {
      this.inFlight += need;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push({ n: need, go: resolve }));
  }

  give(n: number): void {
    this.inFlight -= Math.min(n, this.limit);
    while (this.waiters.length && this.inFlight + this.waiters[0].n <= this.limit) {
      const w = this.waiters.shift()!;
      this.inFlight += w.n;
      w.go();
    }
  }
}

// --- budgets shared by several processes --------------------------------------------------------

/** A shared token bucket's shape: holds `capacity` tokens, refills `perSecond`. */
export interface SharedRate {
  capacity: number;
  perSecond: number;
}

/**
 * Token buckets every Vigil process of the app spends from (PostgreSQL: bot/store/pacingBudgets.ts).
 * Same reservation semantics as TokenBucket: the level may go below zero.
 */
export interface SharedBudgets {
  /** Take `cost` tokens of bucket `key`; resolves to how long (ms) the caller must wait before sending. */
  reserve(key: string, rate: SharedRate, cost: number): Promise<number>;
  /** Graph said "wait `waitMs`" on this bucket: nothing goes before, then one request's worth. */
  block(key: string, rate: SharedRate, waitMs: number): Promise<void>;
  /** Live processes sharing the app's budgets, this one included (≥ 1). */
  liveProcesses(): number;
}

/** What the pacer's stages take from: a local TokenBucket or a shared one. */
interface Budget {
  /** Take `cost`; the time (ms, local clock) from which the caller may send. */
  reserve(cost: number, now: number): number | Promise<number>;
  block(until: number, now: number): void;
  blockedTill(): number;
}

function sharedRate(rate: Rate, headroom: number): SharedRate {
  return { capacity: usableCapacity(rate.capacity, headroom, rate), perSecond: usableRate(rate, headroom) * 1000 };
}

/**
 * A bucket kept in the shared store, one round trip per reservation. If the store fails (the
 * database restarting), the request is paced by a local bucket instead of failing the scan.
 */
class SharedBucket implements Budget {
  private blockedUntil = 0;
  private local: TokenBucket;
  private shape: SharedRate;

  constructor(
    private readonly budgets: SharedBudgets,
    private readonly key: string,
    rate: Rate,
    private readonly headroom: number,
    private readonly clock: () => number,
  ) {
    this.shape = sharedRate(rate, headroom);
    this.local = TokenBucket.of(rate, clock(), headroom);
  }

  async reserve(cost: number, now: number): Promise<number> {
    try {
      const waitMs = await this.budgets.reserve(this.key, this.shape, cost);
      // The wait counts from the answer (the store computed it a moment before): never early.
      return Math.max(this.clock() + waitMs, this.blockedUntil);
    } catch {
      return Math.max(this.local.reserve(cost, now), this.blockedUntil);
    }
  }

  block(until: number, now: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
    this.local.block(until, now);
    this.budgets.block(this.key, this.shape, until - now).catch(() => undefined);
  }

  blockedTill(): number {
    return this.blockedUntil;
  }

  resize(rate: Rate, now: number): void {
    this.shape = sharedRate(rate, this.headroom);
    this.local.resize(rate, now, this.headroom);
  }
}

/** Share of a leased bucket taken per round trip, and how long a lease may be spent. */
const LEASE_SHARE = 0.025;
const LEASE_MS = 500;

/**
 * A shared bucket for high-volume budgets (identity RU per tenant): tokens are taken from the
 * store in leases of LEASE_SHARE of the bucket and spent here within LEASE_MS. Unspent leased
 * tokens lapse (never overspend: they were counted as spent when leased).
 */
class LeasedBucket implements Budget {
  private pool = 0;
  private poolUntil = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly shared: SharedBucket;
  private capacity: number;

  constructor(budgets: SharedBudgets, key: string, rate: Rate, headroom: number, private readonly clock: () => number) {
    this.shared = new SharedBucket(budgets, key, rate, headroom, clock);
    this.capacity = usableCapacity(rate.capacity, headroom, rate);
  }

  reserve(cost: number, now: number): number | Promise<number> {
    if (now < this.poolUntil && this.pool >= cost) {
      this.pool -= cost;
      return Math.max(now, this.shared.blockedTill());
    }
    // One lease at a time: concurrent requests wait for it rather than each taking its own.
    const next = this.queue.then(async () => {
      const at = this.clock();
      if (at < this.poolUntil && this.pool >= cost) {
        this.pool -= cost;
        return Math.max(at, this.shared.blockedTill());
      }
      const lease = Math.max(cost, Math.ceil(this.capacity * LEASE_SHARE));
      const from = await this.shared.reserve(lease, at);
      this.pool = lease - cost;
      this.poolUntil = from + LEASE_MS;
      return from;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  block(until: number, now: number): void {
    this.pool = 0;
    this.shared.block(until, now);
  }

  blockedTill(): number {
    return this.shared.blockedTill();
  }

  resize(rate: Rate, now: number, headroom: number): void {
    this.capacity = usableCapacity(rate.capacity, headroom, rate);
    this.shared.resize(rate, now);
  }
}

/** A rate divided among `n` processes (each spends its share locally). */
function splitRate(rate: Rate, n: number): Rate {
  return n <= 1 ? rate : { capacity: rate.capacity / n, windowMs: rate.windowMs };
}

// --- the pacer ----------------------------------------------------------------------------------

export interface PacerEvent {
  type: 'send' | 'response';
  tenantId: string;
  /** The evaluated requests (one, or the inner requests of a $batch). */
  requests: ClassifiedRequest[];
  /** For 'send': how long pacing held the request back. */
  waitedMs?: number;
  /** For 'response': HTTP status of the (outer) response. */
  status?: number;
}

export interface PacerOptions {
  limits?: GraphLimits;
  /** Share of each bucket kept in reserve (default 0.01, at least one token). */
  headroom?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Observer (the benchmark counts requests and waits with it). */
  onEvent?: (e: PacerEvent) => void;
}

export interface PacingTicket {
  /** Call once the response is in (or the request failed): frees mailbox slots, learns from 429s. */
  done(response?: { status: number; headers?: { get(name: string): string | null } }): void;
}

const SIZE_RANK: Record<TenantSize, number> = { S: 0, M: 1, L: 2 };

interface TenantBuckets {
  key: string;
  size: TenantSize;
  /** Distinct users named in requests so far (kept up to 501: enough to know the size is L). */
  seen: Set<string>;
  reports: Budget;
  identity: TokenBucket | LeasedBucket;
  identityWrites: Budget;
  identityProtection: Budget;
  /** The last report request of this tenant still between its tenant and app-wide stages. */
  reportsGate: Promise<void>;
}

export interface PacerStats {
  /** Evaluated requests sent, by family. */
  sent: Record<ApiFamily, number>;
  /** Total time requests were held back, by family (ms; summed over concurrent requests). */
  waitedMs: Record<ApiFamily, number>;
  /** 429 responses seen. */
  throttled: number;
}

const FAMILIES: ApiFamily[] = ['reports', 'identity', 'identityProtection', 'outlook', 'other'];
const zeroes = (): Record<ApiFamily, number> => ({ reports: 0, identity: 0, identityProtection: 0, outlook: 0, other: 0 });

export class GraphPacer {
  private readonly limits: GraphLimits;
  private readonly headroom: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onEvent?: (e: PacerEvent) => void;
  private tenants = new Map<string, TenantBuckets>();
  private app!: { global: TokenBucket; reports: Budget; identity: TokenBucket; identityWrites: TokenBucket };
  /** Budgets shared with the other processes of the app (scale-out on PostgreSQL), if any. */
  private shared?: SharedBudgets;
  /** Processes the high-volume app-wide budgets are split among (1 = all of it here). */
  private split = 1;
  private mailboxes = new Map<string, { slots: Slots; rate: TokenBucket }>();
  private counters: PacerStats = { sent: zeroes(), waitedMs: zeroes(), throttled: 0 };
  private readonly observers = new Set<(e: PacerEvent) => void>();

  constructor(opts: PacerOptions = {}) {
    this.limits = opts.limits ?? GRAPH_LIMITS;
    this.headroom = opts.headroom ?? 0.01;
    this.now = opts.now ?? (() => Date.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.onEvent = opts.onEvent;
    this.reset();
  }

  /** Forget everything spent (full buckets), as after a long pause. */
  reset(): void {
    const now = this.now();
    this.tenants = new Map();
    this.mailboxes = new Map();
    this.split = this.shared ? Math.max(1, this.shared.liveProcesses()) : 1;
    this.app = {
      global: TokenBucket.of(splitRate(this.limits.global, this.split), now, this.headroom),
      reports: this.budget('reports/app', this.limits.reports.perApp, now),
      identity: TokenBucket.of(splitRate(this.limits.identity.perApp, this.split), now, this.headroom),
      identityWrites: TokenBucket.of(splitRate(this.limits.identity.writesPerApp, this.split), now, this.headroom),
    };
    this.counters = { sent: zeroes(), waitedMs: zeroes(), throttled: 0 };
  }

  /**
   * Spend Graph's budgets together with the other processes of the app (see the header). Returns
   * the function that stops sharing (only if these budgets are still the ones in use). Buckets
   * start afresh; counters are kept.
   */
  share(budgets: SharedBudgets): () => void {
    const counters = this.counters;
    this.shared = budgets;
    this.reset();
    this.counters = counters;
    return () => {
      if (this.shared !== budgets) return;
      this.shared = undefined;
      const kept = this.counters;
      this.reset();
      this.counters = kept;
    };
  }

  /** Whether budgets are shared with other processes, and among how many the app-wide ones are split. */
  sharing(): { shared: boolean; processes: number } {
    return { shared: Boolean(this.shared), processes: this.split };
  }

  /** A low-rate bucket: in the shared store when sharing, else here. */
  private budget(key: string, rate: Rate, now: number): Budget {
    return this.shared ? new SharedBucket(this.shared, key, rate, this.headroom, this.now) : TokenBucket.of(rate, now, this.headroom);
  }

  /** Follow the number of live processes: each spends capacity / N of the high-volume app-wide budgets. */
  private followProcesses(): void {
    const n = this.shared ? Math.max(1, this.shared.liveProcesses()) : 1;
    if (n === this.split) return;
    this.split = n;
    const now = this.now();
    this.app.global.resize(splitRate(this.limits.global, n), now, this.headroom);
    this.app.identity.resize(splitRate(this.limits.identity.perApp, n), now, this.headroom);
    this.app.identityWrites.resize(splitRate(this.limits.identity.writesPerApp, n), now, this.headroom);
  }

  /** Listen to sends and responses (the benchmark attributes requests to checks with it). */
  observe(listener: (e: PacerEvent) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private emit(e: PacerEvent): void {
    this.onEvent?.(e);
    for (const o of this.observers) o(e);
  }

  stats(): PacerStats {
    return { sent: { ...this.counters.sent }, waitedMs: { ...this.counters.waitedMs }, throttled: this.counters.throttled };
  }

  /** Tenant size for the identity budget; only ever raised (a filtered count is a lower bound). */
  noteUserCount(tenantId: string, users: number): void {
    const size = tenantSizeFor(users);
    const t = this.tenant(tenantId);
    if (SIZE_RANK[size] <= SIZE_RANK[t.size]) return;
    t.size = size;
    t.identity.resize(this.limits.identity.perTenant[size], this.now(), this.headroom);
  }

  /**
   * A tenant is at least as big as the number of distinct users we have named in requests to it,
   * so a scan that reads 10,000 mailboxes gets the L budget even if nothing counted the users.
   */
  private learnSize(t: TenantBuckets, items: ClassifiedRequest[]): void {
    if (t.size === 'L') return;
    let added = false;
    for (const c of items) {
      for (const u of c.users ?? []) {
        if (t.seen.size > 500) break;
        if (!t.seen.has(u)) {
          t.seen.add(u);
          added = true;
        }
      }
    }
    if (added && SIZE_RANK[tenantSizeFor(t.seen.size)] > SIZE_RANK[t.size]) {
      t.size = tenantSizeFor(t.seen.size);
      t.identity.resize(this.limits.identity.perTenant[t.size], this.now(), this.headroom);
      if (t.size === 'L') t.seen.clear();
    }
  }

  tenantSize(tenantId: string): TenantSize {
    return this.tenant(tenantId).size;
  }

  /** Wait until `requests` (one request, or the inner requests of a batch) may go to `tenantId`. */
  async acquire(tenantId: string, requests: RequestShape[]): Promise<PacingTicket> {
    const started = this.now();
    this.followProcesses();
    const items = requests.map((r) => classifyRequest(r.method, r.url));
    const t = this.tenant(tenantId);
    this.learnSize(t, items);
    const sum = (f: (c: ClassifiedRequest) => number) => items.reduce((n, c) => n + f(c), 0);
    const reports = sum((c) => (c.family === 'reports' ? 1 : 0));
    const ru = sum((c) => (c.family === 'identity' ? c.cost : 0));
    const writes = sum((c) => (c.family === 'identity' ? c.writeCost : 0));
    const protection = sum((c) => (c.family === 'identityProtection' ? 1 : 0));

    // A tenant's report requests pass the tenant and app-wide stages one at a time. Otherwise, when
    // the app-wide budget is the one that binds (hundreds of tenants), requests that cleared the
    // tenant's 5-per-10-s budget seconds apart all wait for app-wide turns that come close
    // together, and reach Graph bunched: more than 5 in 10 s for that tenant (the 500-tenant
    // benchmark got 2–3% of its report requests refused that way). One at a time, a request takes
    // its tenant token only after the one before has left, so what Graph sees keeps the bucket.
    // And a request that waited for the app-wide budget after its tenant turn is charged to the
    // tenant when it leaves, not at its turn (the refill in between is not Graph's to give twice).
    const leaveGate = reports ? await this.enterReportsGate(t) : undefined;
    try {
      const turnAt = await this.tenantAndAppStages(t, items, { reports, ru, writes, protection });
      if (reports && t.reports instanceof TokenBucket) t.reports.chargeAtDeparture(reports, turnAt, this.now());
    } finally {
      leaveGate?.();
    }

    // 3. Outlook: requests per mailbox, then concurrency slots (sorted: no two batches deadlock)
    const perMailbox = new Map<string, number>();
    for (const c of items) {
      if (!c.mailbox) continue;
      const key = `${t.key}/${c.mailbox}`;
      perMailbox.set(key, (perMailbox.get(key) ?? 0) + 1);
    }
    const keys = [...perMailbox.keys()].sort();
    const mailboxStage: Array<[Budget, number]> = keys.map((k) => [this.mailbox(k).rate, perMailbox.get(k)!]);
    await this.stage(mailboxStage);
    for (const k of keys) await this.mailbox(k).slots.take(perMailbox.get(k)!);

    const waitedMs = this.now() - started;
    for (const c of items) {
      this.counters.sent[c.family]++;
    }
    if (waitedMs > 0) {
      // Charge the wait to the families that were in the request (split evenly).
      const fams = [...new Set(items.map((c) => c.family))];
      for (const f of fams) this.counters.waitedMs[f] += waitedMs / fams.length;
    }
    this.emit({ type: 'send', tenantId, requests: items, waitedMs });

    let finished = false;
    return {
      done: (response) => {
        if (finished) return;
        finished = true;
        for (const k of keys) this.releaseMailbox(k, perMailbox.get(k)!);
        if (response) {
          this.emit({ type: 'response', tenantId, requests: items, status: response.status });
          if (response.status === 429) this.learn429(t, items, response.headers);
        }
      },
    };
  }

  /** 1. this tenant's budgets, 2. the app's budgets across tenants, then the global one. */
  private async tenantAndAppStages(t: TenantBuckets, items: ClassifiedRequest[], n: { reports: number; ru: number; writes: number; protection: number }): Promise<number> {
    const { reports, ru, writes, protection } = n;
    // 1. this tenant's budgets
    const tenantStage: Array<[Budget, number]> = [];
    if (reports) tenantStage.push([t.reports, reports]);
    if (ru) tenantStage.push([t.identity, ru]);
    if (writes) tenantStage.push([t.identityWrites, writes]);
    if (protection) tenantStage.push([t.identityProtection, protection]);
    await this.stage(tenantStage);
    const turnAt = this.now();
    if (reports && t.reports instanceof TokenBucket) t.reports.level(turnAt); // marks the turn (see chargeAtDeparture)
    // 2. the app's budgets across tenants, then the global one
    const appStage: Array<[Budget, number]> = [[this.app.global, items.length]];
    if (reports) appStage.push([this.app.reports, reports]);
    if (ru) appStage.push([this.app.identity, ru]);
    if (writes) appStage.push([this.app.identityWrites, writes]);
    await this.stage(appStage);
    return turnAt;
  }

  /** Wait for this tenant's report requests ahead of this one; returns the function that lets the next go. */
  private async enterReportsGate(t: TenantBuckets): Promise<() => void> {
    const before = t.reportsGate;
    let leave!: () => void;
    t.reportsGate = new Promise<void>((resolve) => (leave = resolve));
    await before;
    return leave;
  }

  private async stage(stage: Array<[Budget, number]>): Promise<void> {
    if (!stage.length) return;
    let at = this.now();
    for (const [bucket, cost] of stage) {
      const from = bucket.reserve(cost, this.now());
      at = Math.max(at, typeof from === 'number' ? from : await from);
    }
    for (;;) {
      const now = this.now();
      const until = Math.max(at, ...stage.map(([b]) => b.blockedTill()));
      if (until <= now) return;
      await this.sleep(until - now);
      at = 0;
    }
  }

  private learn429(t: TenantBuckets, items: ClassifiedRequest[], headers?: { get(name: string): string | null }): void {
    this.counters.throttled++;
    const raw = headers?.get('retry-after') ?? null;
    const now = this.now();
    let seconds = raw === null ? NaN : Number(raw);
    if (raw !== null && Number.isNaN(seconds)) seconds = (Date.parse(raw) - Date.now()) / 1000;
    // No Retry-After (identity protection, Conditional Access): the RetryHandler backs off on its own.
    if (!Number.isFinite(seconds) || seconds <= 0) return;
    const until = now + Math.min(seconds, 180) * 1000;
    const appScope = /^application\b/i.test(headers?.get('x-ms-throttle-scope') ?? '');
    for (const f of new Set(items.map((c) => c.family))) {
      if (f === 'reports') (appScope ? this.app.reports : t.reports).block(until, now);
      else if (f === 'identity') (appScope ? this.app.identity : t.identity).block(until, now);
      else if (f === 'identityProtection') t.identityProtection.block(until, now);
      else if (f === 'outlook') {
        for (const c of items) if (c.mailbox) this.mailbox(`${t.key}/${c.mailbox}`).rate.block(until, now);
      } else this.app.global.block(until, now);
    }
  }

  private tenant(tenantId: string): TenantBuckets {
    const key = tenantId.toLowerCase();
    let t = this.tenants.get(key);
    if (!t) {
      const now = this.now();
      t = {
        key,
        size: 'S',
        seen: new Set(),
        reports: this.budget(`reports/${key}`, this.limits.reports.perTenant, now),
        identity: this.leased(`identity/${key}`, this.limits.identity.perTenant.S, now),
        identityWrites: this.leased(`identityWrites/${key}`, this.limits.identity.writesPerTenant, now),
        identityProtection: this.budget(`identityProtection/${key}`, this.limits.identityProtection.perTenant, now),
        reportsGate: Promise.resolve(),
      };
      this.tenants.set(key, t);
    }
    return t;
  }

  /** A high-volume per-tenant bucket: leased from the shared store when sharing, else here. */
  private leased(key: string, rate: Rate, now: number): TokenBucket | LeasedBucket {
    return this.shared ? new LeasedBucket(this.shared, key, rate, this.headroom, this.now) : TokenBucket.of(rate, now, this.headroom);
  }

  private mailbox(key: string): { slots: Slots; rate: TokenBucket } {
    let m = this.mailboxes.get(key);
    if (!m) {
      m = { slots: new Slots(this.limits.outlook.concurrentPerMailbox), rate: TokenBucket.of(this.limits.outlook.perMailbox, this.now(), this.headroom) };
      this.mailboxes.set(key, m);
    }
    return m;
  }

  /**
   * Free a mailbox's slots; forget an idle mailbox that has used little of its 10-minute budget
   * (at most 100 requests are forgotten that way — 1% of it), so that a scan of 100k mailboxes
   * does not keep 100k entries.
   */
  private releaseMailbox(key: string, n: number): void {
    const m = this.mailboxes.get(key);
    if (!m) return;
    m.slots.give(n);
    if (m.slots.idle && m.rate.level(this.now()) >= m.rate.size - 100 && m.rate.blockedTill() <= this.now()) this.mailboxes.delete(key);
  }

  /** Number of mailboxes currently tracked (for tests and memory checks). */
  get trackedMailboxes(): number {
    return this.mailboxes.size;
  }
}

/**
 * How many requests of a family one $batch may carry: Graph evaluates them one by one, so more
 * than a small budget's burst (reports 5 per 10 s, Conditional Access 1 per s) in one batch is
 * 429s by construction. Large budgets (identity, Outlook) allow a full batch of 20.
 */
export function batchShare(family: ApiFamily, limits: GraphLimits = GRAPH_LIMITS, headroom = 0.01): number {
  if (family === 'reports') return usableCapacity(limits.reports.perTenant.capacity, headroom);
  if (family === 'identityProtection') return usableCapacity(limits.identityProtection.perTenant.capacity, headroom);
  return 20;
}

// --- where pacing applies ---------------------------------------------------------------------

/** Hosts of Microsoft Graph in the public and national clouds: pacing is on for these by default. */
export const MICROSOFT_GRAPH_HOSTS = ['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'];

const pacedHosts = new Set(MICROSOFT_GRAPH_HOSTS);
let shared: GraphPacer | undefined;

/**
 * The process's pacer. One per process because the app-wide budgets (122 report requests per
 * 10 s across all tenants, …) are shared by every client of the same app registration.
 */
export function sharedPacer(): GraphPacer {
  shared ??= new GraphPacer();
  return shared;
}

/** Pace requests to another host too (a Graph simulator that enforces the documented limits). */
export function paceHost(host: string): void {
  pacedHosts.add(host.toLowerCase());
}

/** The pacer a Graph client for `baseUrl` uses by default: the shared one for paced hosts, else none. */
export function pacerFor(baseUrl: string): GraphPacer | undefined {
  return pacedHosts.has(new URL(baseUrl).hostname.toLowerCase()) ? sharedPacer() : undefined;
}

// --- the SDK middleware -----------------------------------------------------------------------

type HeaderBag = Headers | Record<string, string> | string[][] | undefined;

function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const lower = name.toLowerCase();
  if (Array.isArray(headers)) return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const tidCache = new Map<string, string>();

/** The tenant a bearer token is for (its `tid` claim); the token is not verified — it is only a key. */
export function tenantOfToken(authorization: string | undefined): string | undefined {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) return undefined;
  const hit = tidCache.get(token);
  if (hit) return hit;
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tid?: unknown };
    if (typeof claims.tid !== 'string') return undefined;
    if (tidCache.size > 1000) tidCache.clear();
    tidCache.set(token, claims.tid);
    return claims.tid;
  } catch {
    return undefined;
  }
}

/** The inner requests of a JSON batch body (as the SDK sends it: a string or an object). */
function batchRequests(body: unknown): RequestShape[] | undefined {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return undefined;
    }
  }
  const reqs = (b as { requests?: Array<{ method?: string; url?: string }> } | undefined)?.requests;
  if (!Array.isArray(reqs)) return undefined;
  return reqs.filter((r) => typeof r.url === 'string').map((r) => ({ method: r.method ?? 'GET', url: r.url! }));
}

/**
 * Graph SDK middleware: waits for the pacer before each attempt (it sits after RetryHandler, so
 * retries are paced and counted too), tells it about 429s, and learns the tenant's size from
 * `/users/$count` answers so identity requests get the budget of the tenant's real size.
 */
export class PacingHandler implements Middleware {
  private next?: Middleware;

  constructor(private readonly pacer: GraphPacer) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const request = context.request;
    const url = typeof request === 'string' ? request : request.url;
    const method = (context.options?.method ?? (typeof request === 'string' ? 'GET' : request.method) ?? 'GET').toUpperCase();
    const headers = (context.options?.headers ?? (typeof request === 'string' ? undefined : request.headers)) as HeaderBag;
    const tenantId = tenantOfToken(headerOf(headers, 'authorization')) ?? 'unknown';
    const { segments } = parseGraphUrl(url);
    const isBatch = method === 'POST' && segments.length === 1 && segments[0] === '$batch';
    const shapes = (isBatch ? batchRequests(context.options?.body) : undefined) ?? [{ method, url }];
    const ticket = await this.pacer.acquire(tenantId, shapes);
    try {
      await this.next!.execute(context);
    } finally {
      ticket.done(context.response);
    }
    const res = context.response;
    if (res?.ok && method === 'GET' && segments.length === 2 && segments[0].toLowerCase() === 'users' && segments[1] === '$count') {
      const n = Number((await res.clone().text()).trim());
      if (Number.isFinite(n)) this.pacer.noteUserCount(tenantId, n);
    }
  }
}

// --- transport resets -------------------------------------------------------------------------

const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);

/** A request that may safely go again: a read, or a $batch of reads only. */
function idempotent(method: string, url: string, body: unknown): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  const { segments } = parseGraphUrl(url);
  if (method !== 'POST' || segments.length !== 1 || segments[0] !== '$batch') return false;
  const inner = batchRequests(body);
  return Boolean(inner?.length) && inner!.every((r) => r.method.toUpperCase() === 'GET');
}

/**
 * Graph SDK middleware: re-sends a read (or a $batch of reads) whose connection was reset before
 * an answer came — a keep-alive socket the server closed just as we reused it ("other side
 * closed"). The SDK's RetryHandler only retries answers (429/503/504), so without this one
 * reset fails a whole check. Writes are never re-sent: they may have happened.
 */
export class ConnectionResetRetryHandler implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly retries = 2,
    private readonly delayMs = 50,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const request = context.request;
    const url = typeof request === 'string' ? request : request.url;
    const method = (context.options?.method ?? (typeof request === 'string' ? 'GET' : request.method) ?? 'GET').toUpperCase();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.next!.execute(context);
        return;
      } catch (err) {
        const code = (err as { cause?: { code?: string }; code?: string }).cause?.code ?? (err as { code?: string }).code;
        if (attempt >= this.retries || !code || !RESET_CODES.has(code) || !idempotent(method, url, context.options?.body)) throw err;
        await new Promise((r) => setTimeout(r, this.delayMs));
      }
    }
  }
}

export { FAMILIES as API_FAMILIES };
