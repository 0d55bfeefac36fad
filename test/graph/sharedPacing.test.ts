/**
 * Scale-out pacing: Vigil processes on one PostgreSQL spend Microsoft Graph's budgets together
 * (bot/store/pacingBudgets.ts + GraphPacer.share). Each "process" here is a GraphPacer with its
 * own database connection pool and its own Graph clients — the database is the only thing they
 * share, as with separate OS processes (test/watch/multiProcess.test.ts runs real ones). The
 * Graph side is the demo simulator with the documented limits enforced, over the real SDK; the
 * windows are scaled down (2 s instead of 10 s) to keep the test short, the shapes are Graph's.
 */
import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DemoLimits } from '../../bot/demo/limits';
import { GraphApi } from '../../bot/graph/api';
import { createGraphClient } from '../../bot/graph/client';
import { demoSeeds } from '../../bot/graph/connect';
import { GRAPH_LIMITS, GraphPacer, type GraphLimits, type SharedBudgets } from '../../bot/graph/pacing';
import { openDatabase, type Database } from '../../bot/store/db';
import { PacingBudgetStore } from '../../bot/store/pacingBudgets';
import { credentialFor } from '../demo/helpers';
import { postgresSchema } from '../support/databases';

const REPORT = '/reports/authenticationMethods/userRegistrationDetails';
const url = process.env.DATABASE_URL;
// Graph's shapes on a 2-s window: 5 report requests per tenant, and an app-wide budget (8) smaller
// than what three tenants may use together (15), so that the app-wide bucket decides.
const PER_TENANT = { capacity: 5, windowMs: 2_000 };
const PER_APP = { capacity: 8, windowMs: 2_000 };

function scaledLimits(): GraphLimits {
  const l = structuredClone(GRAPH_LIMITS);
  l.reports.perTenant = PER_TENANT;
  l.reports.perApp = PER_APP;
  return l;
}

/**
 * Replay sends (times in ms, one token each) through a token bucket of Graph's shape: how far
 * below empty it would have gone (0 = Graph would have admitted every one of them).
 */
function overdraft(times: number[], rate: { capacity: number; windowMs: number }): number {
  const perMs = rate.capacity / rate.windowMs;
  let tokens = rate.capacity;
  let last = -Infinity;
  let worst = 0;
  for (const t of [...times].sort((x, y) => x - y)) {
    tokens = last === -Infinity ? tokens : Math.min(rate.capacity, tokens + (t - last) * perMs);
    last = t;
    tokens -= 1;
    worst = Math.max(worst, -tokens);
  }
  return worst;
}

describe('pacing shared by processes on one PostgreSQL', function () {
  this.timeout(60_000);
  if (!url) {
    if (process.env.CI) it('needs DATABASE_URL (a real PostgreSQL server)', () => assert.fail('DATABASE_URL is not set in CI'));
    else it.skip('needs DATABASE_URL (a real PostgreSQL server); .ci/run sets it');
    return;
  }

  let demo: DemoTenant;
  let schema: { url: string; drop(): Promise<void> } | undefined;
  let schemaUrl: string;
  const dbs: Database[] = [];
  const stores: PacingBudgetStore[] = [];

  /** One "process": its own pool and heartbeat. */
  const join = async (heartbeatMs?: number) => {
    const db = await openDatabase({ databaseUrl: schemaUrl });
    dbs.push(db);
    const store = await new PacingBudgetStore(db, { heartbeatMs }).start();
    stores.push(store);
    return store;
  };
  /** Graph for one tenant, paced by `pacer`. */
  const graphOf = (pacer: GraphPacer, tenantId: string) =>
    new GraphApi(createGraphClient({ baseUrl: demo.baseUrl, credential: credentialFor(demo, demo.clientSecret, tenantId), trustedCaPem: demo.caCertPem, pacer }), tenantId);

  before(async () => {
    demo = await startDemoTenant({ tenants: demoSeeds(3) });
    demo.knobs.maxPageSize = 999;
    schema = await postgresSchema(url!, 'vigil_pace');
    schemaUrl = schema.url;
  });

  after(async () => {
    for (const s of stores) await s.stop();
    for (const db of dbs) await db.close();
    await demo?.close();
    await schema?.drop();
  });

  it('a bucket is one for every connection: reservations queue across them, a 429 blocks them all', async () => {
    const [a, b] = [await join(), await join()];
    const rate = { capacity: 5, perSecond: 0.5 };
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) waits.push(await (i % 2 ? a : b).reserve('test/one', rate, 1));
    assert.deepEqual(waits.slice(0, 5), [0, 0, 0, 0, 0]);
    assert.ok(Math.abs(waits[5] - 2000) < 100 && Math.abs(waits[6] - 4000) < 100, String(waits));
    await a.block('test/blocked', rate, 3000);
    const blocked = await b.reserve('test/blocked', rate, 1);
    assert.ok(blocked > 2800 && blocked <= 3000, `${blocked} ms`);
  });

  it('processes heartbeat: the count includes every live process and forgets one that left', async () => {
    const [a, b] = [await join(1000), await join(1000)];
    assert.equal(await a.heartbeat(), await b.heartbeat());
    const live = await a.heartbeat();
    assert.ok(live >= 2, String(live));
    await b.stop();
    assert.equal(await a.heartbeat(), live - 1);
  });

  it('two processes scanning three tenants together keep 5 / window per tenant and the app-wide budget: 0 × 429; without sharing they provoke 429s', async () => {
    const tenants = demo.tenantIds();
    const run = async (pacers: GraphPacer[], perTenant: number) => {
      demo.knobs.limits = new DemoLimits({ overrides: { reportsPerTenant: PER_TENANT, reportsPerApp: PER_APP } });
      demo.requests.length = 0;
      const sends: Array<{ at: number; tenantId: string }> = [];
      for (const p of pacers) p.observe((e) => e.type === 'send' && sends.push({ at: Date.now(), tenantId: e.tenantId }));
      const t0 = Date.now();
      const outcomes = await Promise.allSettled(
        pacers.flatMap((p) => tenants.flatMap((t) => Array.from({ length: perTenant }, () => graphOf(p, t).get(`${REPORT}?$top=1`)))),
      );
      return { ms: Date.now() - t0, sends, outcomes, limits: demo.knobs.limits!.stats() };
    };

    // Shared: each process's pacer spends from the database.
    const [sa, sb] = [await join(), await join()];
    const shared = [new GraphPacer({ limits: scaledLimits() }), new GraphPacer({ limits: scaledLimits() })];
    shared[0].share(sa);
    shared[1].share(sb);
    const perTenant = 6;
    const s = await run(shared, perTenant);
    const total = 2 * tenants.length * perTenant;
    assert.ok(s.outcomes.every((o) => o.status === 'fulfilled'));
    assert.equal(s.limits.throttled.reports, 0, 'no 429 from the simulator');
    assert.equal(s.limits.admitted.reports, total);
    assert.equal(s.sends.length, total, 'each request went once (no retry was needed)');
    // Together they never spent more than Graph's buckets hold, as sent (the simulator saw them arrive).
    assert.equal(overdraft(s.sends.map((x) => x.at), PER_APP), 0, 'app-wide');
    for (const t of tenants) {
      const mine = s.sends.filter((x) => x.tenantId.toLowerCase() === t.toLowerCase()).map((x) => x.at);
      assert.equal(mine.length, 2 * perTenant);
      assert.equal(overdraft(mine, PER_TENANT), 0, `tenant ${t}`);
    }
    // And no slower than the app-wide bound allows: (36 − 7) / 4 per s ≈ 7.3 s.
    const boundMs = ((total - 7) / (PER_APP.capacity / PER_APP.windowMs)) | 0;
    assert.ok(s.ms >= boundMs - 300 && s.ms < boundMs + 4000, `${s.ms} ms vs bound ${boundMs} ms`);

    // Not shared: each process believes the whole app-wide budget is its own.
    const alone = [new GraphPacer({ limits: scaledLimits() }), new GraphPacer({ limits: scaledLimits() })];
    const u = await run(alone, 3);
    assert.ok(u.limits.throttled.reports > 0, 'two processes each spending the whole app-wide budget provoke 429s');
    console.log(`      figures: shared ${total} requests in ${(s.ms / 1000).toFixed(1)} s (bound ${(boundMs / 1000).toFixed(1)} s), 0 × 429; unshared: ${u.limits.throttled.reports} × 429 for ${2 * tenants.length * 3} requests`);
  });

  it('identity RU per tenant: leased in small parts, two processes together stay within the tenant bucket', async () => {
    const tenant = demo.tenantIds()[1];
    const limits = structuredClone(GRAPH_LIMITS);
    // 40 RU per 2 s: usable 39, refilling 20 RU/s; each process asks for 50 reads of 1 RU.
    limits.identity.perTenant.S = limits.identity.perTenant.M = { capacity: 40, windowMs: 2_000 };
    const pacers = [new GraphPacer({ limits }), new GraphPacer({ limits })];
    pacers[0].share(await join());
    pacers[1].share(await join());
    const sends: number[] = [];
    for (const p of pacers) p.observe((e) => e.type === 'send' && sends.push(Date.now()));
    const t0 = Date.now();
    await Promise.all(pacers.flatMap((p) => Array.from({ length: 50 }, (_, i) => p.acquire(tenant, [{ method: 'GET', url: `/users/u${i}?$select=id` }]).then((t) => t.done()))));
    const ms = Date.now() - t0;
    assert.equal(sends.length, 100);
    assert.equal(overdraft(sends, { capacity: 40, windowMs: 2_000 }), 0);
    // (100 − 39) / 20 per s ≈ 3 s at least; leases that lapse unspent may make it a little longer.
    assert.ok(ms >= 2700 && ms < 8000, `${ms} ms`);
  });
});

describe('pacing shared: split of the high-volume app-wide budgets, and a failing store', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  /** A stand-in for the store (the real one is tested above): only the live-process count matters here. */
  const stub = (live: () => number, fail = false): SharedBudgets => ({
    reserve: async () => {
      if (fail) throw new Error('database restarting');
      return 0;
    },
    block: async () => undefined,
    liveProcesses: live,
  });

  it('each of N live processes spends capacity / N of the global budget, and follows N as it changes', async () => {
    const limits = structuredClone(GRAPH_LIMITS);
    limits.global = { capacity: 100, windowMs: 10_000 };
    let live = 2;
    const pacer = new GraphPacer({ limits, headroom: 0 });
    pacer.share(stub(() => live));
    assert.deepEqual(pacer.sharing(), { shared: true, processes: 2 });
    let through = 0;
    for (let i = 0; i < 80; i++) void pacer.acquire('t', [{ method: 'GET', url: '/security/secureScores' }]).then(() => through++);
    await clock.tickAsync(0);
    assert.equal(through, 50, 'half of 100 at once');
    await clock.tickAsync(1_000);
    assert.equal(through, 55, 'then half the refill: 5 per s');
    live = 1;
    await pacer.acquire('t', [{ method: 'GET', url: '/security/secureScores' }]).catch(() => undefined);
    assert.deepEqual(pacer.sharing(), { shared: true, processes: 1 });
  });

  it('when the store fails, requests are paced by local buckets instead of failing', async () => {
    const limits = structuredClone(GRAPH_LIMITS);
    const pacer = new GraphPacer({ limits });
    pacer.share(stub(() => 1, true));
    const at: number[] = [];
    for (let i = 0; i < 6; i++) void pacer.acquire('t', [{ method: 'GET', url: REPORT }]).then(() => at.push(Date.now() - 1_000_000));
    await clock.tickAsync(5_000);
    assert.deepEqual(at, [0, 0, 0, 0, 2000, 4000]);
  });

  it('unsharing goes back to this process alone', () => {
    const pacer = new GraphPacer();
    const unshare = pacer.share(stub(() => 3));
    assert.deepEqual(pacer.sharing(), { shared: true, processes: 3 });
    unshare();
    assert.deepEqual(pacer.sharing(), { shared: false, processes: 1 });
  });
});
