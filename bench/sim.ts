/**
 * Child process: the Graph simulator (the demo tenant's server) with one generated tenant, the
 * configured round-trip latency, pages up to Graph's maxima, and the documented throttling
 * limits enforced (bot/demo/limits.ts). It counts what it serves between `begin` and `end`
 * (draining the request log as it goes, so long runs stay small) and computes, from what it
 * knows of the tenant, the lower bound of requests for the same answers.
 */
import { DemoLimits, demoFamily, demoResourceUnits, type DemoApiFamily } from '../bot/demo/limits';
import { generateSeed, startDemoTenant, type DemoTenant, type DemoTenantSeed, type RecordedRequest } from '../bot/demo';
import { DemoTenantState } from '../bot/demo/state';
import { ROUTES } from '../bot/demo/routes';
import type { RouteContext } from '../bot/demo/routes/common';
import { parentPeer } from './ipc';

export interface SimStart {
  users: number;
  rttMs: number;
  seed?: number;
}

/** MSP: many generated tenants on one simulator, sharing the app-wide budgets as on Graph. */
export interface SimStartMany {
  tenants: number;
  users: number;
  rttMs: number;
}

export interface SimInfo {
  baseUrl: string;
  tenantId: string;
  /** MSP: every tenant the simulator serves (the first is `tenantId`). */
  tenants?: Array<{ tenantId: string; displayName: string }>;
  clientId: string;
  clientSecret: string;
  caCertPem: string;
  truth: Truth;
  startMs: number;
}

/** Ground truth of the generated tenant (what a perfect client would have to find). */
export interface Truth {
  users: number;
  enabledMembers: number;
  /** Any account without an MFA method (the registration report's isMfaRegistered eq false). */
  lackingMfa: number;
  /** Enabled members without MFA: the "who lacks MFA?" answer. */
  enabledMembersLackingMfa: number;
  mailboxes: number;
  usersWithRules: number;
  signIns: number;
  admins: number;
}

export interface GroupSummary {
  key: string;
  family: DemoApiFamily;
  requests: number;
  items: number;
  /** Distinct entities addressed in the path (per-user reads). */
  entities: number;
  /** Ids asked for through `id in (…)` filters. */
  ids: number;
  /** Minimal requests for what this group read, and how that minimum is reached. */
  lowerBound: number;
  how: string;
  /** Lower bound of sequential pages (a paging chain cannot be parallelised). */
  minChain: number;
}

export interface SimCounts {
  /** HTTP requests (a $batch is one). */
  http: number;
  /** Requests Graph evaluates (each inner request of a $batch; the $batch envelope is not one). */
  evaluated: number;
  batches: number;
  throttled: number;
  byFamily: Record<DemoApiFamily, number>;
  throttledByFamily: Record<DemoApiFamily, number>;
  /** Identity resource units spent. */
  resourceUnits: number;
  groups: GroupSummary[];
  lowerBound: number;
  /** Largest minimal paging chain (sequential requests) of any read. */
  minChain: number;
  elapsedMs: number;
  /** CPU time the simulator itself spent serving (its own cost, not Vigil's). */
  simCpuMs: number;
}

const GUIDISH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const zero = (): Record<DemoApiFamily, number> => ({ reports: 0, identity: 0, identityProtection: 0, outlook: 0, other: 0 });

interface Group {
  family: DemoApiFamily;
  requests: number;
  items: number;
  entities: Set<string>;
  ids: number;
  path: string;
  query: string;
}

class Aggregator {
  http = 0;
  evaluated = 0;
  batches = 0;
  throttled = 0;
  byFamily = zero();
  throttledByFamily = zero();
  ru = 0;
  groups = new Map<string, Group>();
  started = Date.now();
  cpu = process.cpuUsage();

  add(r: RecordedRequest): void {
    if (!r.inBatch) this.http++;
    if (r.path === '/$batch') {
      this.batches++;
      if (r.status === 429) this.throttled++;
      return;
    }
    this.evaluated++;
    const { family } = demoFamily(r.path);
    this.byFamily[family]++;
    if (r.status === 429) {
      this.throttled++;
      this.throttledByFamily[family]++;
      return; // a refused request read nothing
    }
    if (family === 'identity') this.ru += demoResourceUnits(r.method, r.path, r.query).units;
    const segs = r.path.split('/').filter(Boolean);
    let entity: string | undefined;
    const tpl = segs.map((s) => {
      if (GUIDISH.test(s) || s.includes('@')) {
        entity ??= s.toLowerCase();
        return '{id}';
      }
      return s;
    });
    let ids = 0;
    const q = Object.entries(r.query)
      .filter(([k]) => !['$skiptoken', '$top'].includes(k.toLowerCase()))
      .map(([k, v]) => {
        if (k.toLowerCase() === '$filter' && / in \(/i.test(v)) {
          ids += (v.match(/'(?:[^']|'')*'/g) ?? []).length;
          return `${k}=${v.replace(/ in \([^)]*\)/gi, ' in (…)')}`;
        }
        return `${k}=${v}`;
      })
      .sort()
      .join('&');
    const key = `${r.method} /${tpl.join('/')}${q ? `?${q}` : ''}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { family, requests: 0, items: 0, entities: new Set(), ids: 0, path: `/${tpl.join('/')}`, query: q };
      this.groups.set(key, g);
    }
    g.requests++;
    g.items += r.items ?? 0;
    g.ids += ids;
    if (entity) g.entities.add(entity);
  }

  summary(truth: Truth): SimCounts {
    const groups: GroupSummary[] = [];
    let lowerBound = 0;
    let minChain = 0;
    let reportAlternativeCounted = false;
    for (const [key, g] of this.groups) {
      const pageMax = /^\/auditLogs\/signIns$/i.test(g.path) ? 1000 : 999;
      let lb: number;
      let how: string;
      let chain = 1;
      if (/^\/users\/\{id\}\/authentication\/methods$/i.test(g.path)) {
        // Per-user methods answer "who has MFA?": the registration report answers it in bulk.
        lb = reportAlternativeCounted ? 0 : Math.max(1, Math.ceil(truth.lackingMfa / 999));
        reportAlternativeCounted = true;
        how = 'registration report filtered to isMfaRegistered eq false, 999 per page';
      } else if (/^\/users\/\{id\}$/i.test(g.path)) {
        lb = Math.min(g.entities.size, Math.ceil(truth.users / 999));
        how = 'list /users, 999 per page (or one read each, if fewer)';
      } else if (g.entities.size > 0) {
        lb = g.entities.size;
        how = 'one request per object (no bulk API in Graph)';
      } else if (g.ids > 0) {
        lb = Math.min(Math.ceil(g.ids / 15), Math.ceil(truth.users / 999));
        how = '`id in (…)` filters of 15 values, or the whole /users list if fewer pages';
      } else {
        lb = Math.max(1, Math.ceil(g.items / pageMax));
        chain = lb;
        how = `${g.items} item(s), ${pageMax} per page`;
      }
      lowerBound += lb;
      minChain = Math.max(minChain, chain);
      groups.push({ key, family: g.family, requests: g.requests, items: g.items, entities: g.entities.size, ids: g.ids, lowerBound: lb, how, minChain: chain });
    }
    groups.sort((a, b) => b.requests - a.requests);
    return {
      http: this.http,
      evaluated: this.evaluated,
      batches: this.batches,
      throttled: this.throttled,
      byFamily: this.byFamily,
      throttledByFamily: this.throttledByFamily,
      resourceUnits: this.ru,
      groups,
      lowerBound,
      minChain,
      elapsedMs: Date.now() - this.started,
      simCpuMs: (() => {
        const d = process.cpuUsage(this.cpu);
        return (d.user + d.system) / 1000;
      })(),
    };
  }
}

function truthOf(state: DemoTenantState, now: Date): Truth {
  let enabledMembers = 0;
  let lackingMfa = 0;
  let enabledMembersLackingMfa = 0;
  let mailboxes = 0;
  let usersWithRules = 0;
  const admins = state.adminIds();
  for (const rec of state.userRecords.values()) {
    const member = rec.user.userType !== 'Guest';
    const enabled = rec.user.accountEnabled !== false;
    if (member && enabled) enabledMembers++;
    const mfa = state.registrationDetails(rec, now, admins).isMfaRegistered;
    if (!mfa) lackingMfa++;
    if (!mfa && member && enabled) enabledMembersLackingMfa++;
    if (rec.hasMailbox) mailboxes++;
    if (rec.inboxRules.length) usersWithRules++;
  }
  return { users: state.userRecords.size, enabledMembers, lackingMfa, enabledMembersLackingMfa, mailboxes, usersWithRules, signIns: state.signIns.length, admins: admins.size };
}

/**
 * Simulator speed-up for benchmark scale, same answers: Graph looks users up by id through an
 * index, the demo's `GET /users?$filter=id in (…)` scans every user (15 comparisons each) — at
 * 100k users a $batch of 20 such filters blocks the simulator for seconds, which would be
 * charged to Vigil. Here the handler runs on just the named users (in the tenant's order), so
 * the filter, $select and paging code is the demo's own.
 * TODO(demo owner): an id index in bot/demo/routes/users.ts (filteredUsers) makes this unnecessary.
 */
export function indexUserIdFilters(): void {
  const route = ROUTES.find((r) => r.method === 'GET' && r.pattern === '/users');
  if (!route) return;
  const original = route.handler;
  const order = new WeakMap<DemoTenantState, Map<string, number>>();
  route.handler = (ctx: RouteContext) => {
    const m = /^\s*id\s+(?:eq\s+'([^']*)'|in\s*\(([^)]*)\))\s*$/i.exec(ctx.query.$filter ?? '');
    if (!m) return original(ctx);
    const ids = m[1] !== undefined ? [m[1]] : (m[2].match(/'((?:[^']|'')*)'/g) ?? []).map((v) => v.slice(1, -1).replace(/''/g, "'"));
    let index = order.get(ctx.tenant);
    if (!index) {
      index = new Map([...ctx.tenant.userRecords.keys()].map((k, i) => [k, i]));
      order.set(ctx.tenant, index);
    }
    const found = [...new Set(ids.map((id) => id.toLowerCase()))].filter((id) => ctx.tenant.userRecords.has(id)).sort((a, b) => index!.get(a)! - index!.get(b)!);
    const userRecords = new Map(found.map((id) => [id, ctx.tenant.userRecords.get(id)!]));
    return original({ ...ctx, tenant: Object.create(ctx.tenant, { userRecords: { value: userRecords } }) as DemoTenantState });
  };
}

async function main(): Promise<void> {
  indexUserIdFilters();
  const parent = parentPeer();
  let demo: DemoTenant | undefined;
  let agg = new Aggregator();
  let truth: Truth | undefined;

  // Drain the request log into the aggregate as requests complete: the log would otherwise
  // grow by one object per request for the whole run.
  const drain = (): void => {
    if (!demo || demo.requests.length === 0) return;
    const keep: RecordedRequest[] = [];
    for (const r of demo.requests) {
      if (r.status === 0) keep.push(r);
      else agg.add(r);
    }
    demo.requests.length = 0;
    demo.requests.push(...keep);
  };
  const timer = setInterval(drain, 100);
  timer.unref();

  /** Serve these tenants with Graph's page maxima (999 users / report rows, 1,000 sign-ins) and its limits. */
  const serve = async (seeds: DemoTenantSeed[], rttMs: number, now: Date, listTenants: boolean): Promise<SimInfo> => {
    const t0 = Date.now();
    demo = await startDemoTenant({ tenants: seeds, now: () => new Date() });
    demo.knobs.latencyMs = rttMs;
    demo.knobs.maxPageSize = 1000;
    demo.knobs.limits = new DemoLimits();
    truth = truthOf(demo.tenant(), now);
    const d = demo;
    return {
      baseUrl: d.baseUrl,
      tenantId: d.tenantId,
      ...(listTenants ? { tenants: d.tenantIds().map((id) => ({ tenantId: id, displayName: d.tenant(id).organization.displayName ?? id })) } : {}),
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      caCertPem: d.caCertPem,
      truth,
      startMs: Date.now() - t0,
    };
  };

  parent
    .handle('start', async (arg) => {
      const { users, rttMs, seed } = arg as SimStart;
      const now = new Date();
      return serve([generateSeed({ users, seed: seed ?? 1, now, name: `bench${users}` })], rttMs, now, false);
    })
    .handle('startMany', async (arg) => {
      const { tenants, users, rttMs } = arg as SimStartMany;
      const now = new Date();
      // One simulator, one app registration: DemoLimits keys the reports budget of 122 / 10 s per
      // app, so every tenant below draws on it, and each has its own 5 / 10 s.
      const seeds = Array.from({ length: tenants }, (_, i) => {
        const seed = generateSeed({ users, seed: 1000 + i, now, name: `msp${i}` });
        seed.organization.displayName = `MSP customer ${i}`;
        return seed;
      });
      return serve(seeds, rttMs, now, true);
    })
    .handle('begin', async () => {
      // Wait for stragglers of the previous phase, then start from full buckets and zero counts.
      for (let i = 0; i < 50 && demo!.requests.some((r) => r.status === 0); i++) await new Promise((r) => setTimeout(r, 20));
      drain();
      agg = new Aggregator();
      demo!.knobs.limits = new DemoLimits();
      return true;
    })
    .handle('end', async () => {
      for (let i = 0; i < 100 && demo!.requests.some((r) => r.status === 0); i++) await new Promise((r) => setTimeout(r, 20));
      drain();
      return agg.summary(truth!);
    })
    .handle('refill', () => {
      // A fresh bucket set: as if the tenant had been quiet for a while.
      demo!.knobs.limits = new DemoLimits();
      return true;
    })
    .handle('rss', () => process.resourceUsage().maxRSS * 1024)
    .handle('close', async () => {
      await demo?.close();
      setImmediate(() => process.exit(0));
      return true;
    });
}

if (process.send) void main();
