/**
 * Pacing: the token buckets Vigil spends Graph's documented budgets with (bot/graph/pacing.ts),
 * on a fake clock; and that they agree with the limits the demo tenant enforces.
 */
import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import {
  GRAPH_LIMITS,
  GraphPacer,
  PacingHandler,
  TokenBucket,
  classifyRequest,
  pacerFor,
  paceHost,
  tenantOfToken,
  tenantSizeFor,
  type GraphLimits,
} from '../../bot/graph/pacing';
import { DOCUMENTED_LIMITS, demoFamily, demoResourceUnits } from '../../bot/demo/limits';

const TENANT_A = '11111111-1111-4111-8111-111111111111';
const TENANT_B = '22222222-2222-4222-8222-222222222222';

function fakeToken(tid: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ tid, aud: 'https://graph.microsoft.com' })}.sig`;
}

function withLimits(patch: (l: GraphLimits) => void): GraphLimits {
  const l = structuredClone(GRAPH_LIMITS);
  patch(l);
  return l;
}

describe('pacing: classification and resource units', () => {
  const cases: Array<[string, string, string, number, number, string?]> = [
    // method, url, family, cost, writeCost, mailbox
    ['GET', 'https://graph.microsoft.com/v1.0/users', 'identity', 2, 0],
    ['GET', '/users?$select=id,displayName&$top=999', 'identity', 1, 0],
    ['GET', '/users?$top=5', 'identity', 1, 0],
    ['GET', '/users/$count?$filter=accountEnabled eq true', 'identity', 2, 0],
    ['GET', '/users/abc', 'identity', 1, 0],
    ['GET', '/users/abc/licenseDetails', 'identity', 2, 0],
    ['GET', '/subscribedSkus', 'identity', 3, 0],
    ['GET', '/groups/g1/members', 'identity', 3, 0],
    ['GET', '/groups/g1/transitiveMembers/microsoft.graph.user?$expand=manager', 'identity', 6, 0],
    ['POST', '/users/abc/checkMemberGroups', 'identity', 4, 0],
    ['POST', '/directoryObjects/getByIds?$select=id', 'identity', 2, 0],
    ['PATCH', '/users/abc', 'identity', 1, 1],
    ['GET', '/roleManagement/directory/roleAssignments?$select=principalId', 'identity', 1, 0],
    ['GET', '/users/abc/authentication/methods', 'identity', 1, 0],
    ['GET', 'https://graph.microsoft.com/beta/reports/authenticationMethods/userRegistrationDetails?$filter=isMfaRegistered%20eq%20false', 'reports', 1, 0],
    ['GET', '/auditLogs/signIns?$top=1000', 'reports', 1, 0],
    ['GET', '/identity/conditionalAccess/policies', 'identityProtection', 1, 0],
    ['GET', '/identityProtection/riskyUsers', 'identityProtection', 1, 0],
    ['GET', '/users/abc/mailFolders/inbox/messageRules', 'outlook', 1, 0, 'abc'],
    ['GET', '/users/ABC@contoso.example/mailboxSettings', 'outlook', 1, 0, 'abc@contoso.example'],
    ['GET', '/security/secureScores?$top=1', 'other', 1, 0],
  ];
  for (const [method, url, family, cost, writeCost, mailbox] of cases) {
    it(`${method} ${url} → ${family}, ${cost} RU`, () => {
      const c = classifyRequest(method, url);
      assert.equal(c.family, family);
      assert.equal(c.cost, cost);
      assert.equal(c.writeCost, writeCost);
      assert.equal(c.mailbox, mailbox);
    });
  }

  it('agrees with the limits the demo tenant enforces (written independently)', () => {
    for (const [method, url] of cases) {
      const c = classifyRequest(method, url);
      const u = new URL(url, 'https://x/v1.0/');
      const path = decodeURIComponent(u.pathname.replace(/^\/(v1\.0|beta)/, ''));
      const query = Object.fromEntries(u.searchParams);
      const fam = demoFamily(path);
      assert.equal(fam.family, c.family, url);
      if (c.family === 'identity') {
        const ru = demoResourceUnits(method, path, query);
        assert.equal(ru.units, c.cost, `${url} RU`);
        assert.equal(ru.writes, c.writeCost, `${url} writes`);
      }
    }
    assert.deepEqual(GRAPH_LIMITS.reports.perTenant, DOCUMENTED_LIMITS.reportsPerTenant);
    assert.deepEqual(GRAPH_LIMITS.reports.perApp, DOCUMENTED_LIMITS.reportsPerApp);
    assert.deepEqual(GRAPH_LIMITS.identity.perTenant, DOCUMENTED_LIMITS.identityPerTenant);
    assert.deepEqual(GRAPH_LIMITS.identity.perApp, DOCUMENTED_LIMITS.identityPerApp);
    assert.deepEqual(GRAPH_LIMITS.identityProtection.perTenant, DOCUMENTED_LIMITS.identityProtectionPerTenant);
    assert.deepEqual(GRAPH_LIMITS.global, DOCUMENTED_LIMITS.global);
    assert.equal(GRAPH_LIMITS.outlook.concurrentPerMailbox, DOCUMENTED_LIMITS.outlookConcurrentPerMailbox);
  });

  it('sizes tenants as the identity limits do (S < 50, M 50–500, L > 500)', () => {
    assert.deepEqual([49, 50, 500, 501].map(tenantSizeFor), ['S', 'M', 'M', 'L']);
  });

  it('reads the tenant from the token without verifying it', () => {
    assert.equal(tenantOfToken(`Bearer ${fakeToken(TENANT_A)}`), TENANT_A);
    assert.equal(tenantOfToken('Bearer not-a-jwt'), undefined);
    assert.equal(tenantOfToken(undefined), undefined);
  });

  it('paces Microsoft Graph hosts by default, other hosts only when opted in', () => {
    assert.ok(pacerFor('https://graph.microsoft.com'));
    assert.ok(pacerFor('https://graph.microsoft.us'));
    assert.equal(pacerFor('https://127.0.0.2:4443'), undefined);
    paceHost('127.0.0.2');
    assert.equal(pacerFor('https://127.0.0.2:4443'), pacerFor('https://graph.microsoft.com'));
  });
});

describe('pacing: token buckets on a fake clock', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  /** Start `n` acquisitions at once; resolve to the second (fake clock) each one was let through. */
  async function sendTimes(pacer: GraphPacer, n: number, tenant: string, url: string, untilMs: number): Promise<number[]> {
    const t0 = Date.now();
    const times: number[] = [];
    const all = Array.from({ length: n }, (_, i) =>
      pacer.acquire(tenant, [{ method: 'GET', url }]).then((ticket) => {
        times[i] = (Date.now() - t0) / 1000;
        ticket.done({ status: 200 });
      }),
    );
    await clock.tickAsync(untilMs);
    await Promise.all(all);
    return times;
  }

  it('a bucket lets its capacity through at once, then one token per interval; reservations queue in order', () => {
    const b = new TokenBucket(5, 5 / 10_000, 0);
    const at = Array.from({ length: 8 }, () => b.reserve(1, 0));
    assert.deepEqual(at, [0, 0, 0, 0, 0, 2000, 4000, 6000]);
    assert.equal(b.level(6000), 0, 'spent tokens are repaid by the refill');
    assert.equal(b.level(100_000), 5, 'never above capacity');
  });

  it('a cost above the capacity waits for a full bucket and leaves a debt', () => {
    const b = new TokenBucket(5, 5 / 10_000, 0);
    assert.equal(b.reserve(3, 0), 0);
    assert.equal(b.reserve(20, 0), 6000, 'waits until the bucket is full again (3 tokens × 2 s)');
    assert.equal(b.reserve(1, 0), 6000 + 32_000, 'then the 15-token debt and one more');
  });

  it('reports: 5 per 10 s per tenant, minus one token of headroom → 4 at once, then one every 2 s', async () => {
    const pacer = new GraphPacer();
    const times = await sendTimes(pacer, 8, TENANT_A, '/reports/authenticationMethods/userRegistrationDetails', 20_000);
    assert.deepEqual(times, [0, 0, 0, 0, 2, 4, 6, 8]);
    assert.equal(pacer.stats().sent.reports, 8);
  });

  it('tenants have their own report budgets', async () => {
    const pacer = new GraphPacer();
    const a = sendTimes(pacer, 6, TENANT_A, '/auditLogs/signIns', 0);
    const b = sendTimes(pacer, 4, TENANT_B, '/auditLogs/signIns', 0);
    await clock.tickAsync(10_000);
    assert.deepEqual(await a, [0, 0, 0, 0, 2, 4]);
    assert.deepEqual(await b, [0, 0, 0, 0]);
  });

  it('a tenant with a long queue does not hold the app-wide budget it cannot use yet (fair in MSP mode)', async () => {
    // App-wide 6 per 10 s: tenant A queues 10 requests; B's single request must not wait behind A's future ones.
    const limits = withLimits((l) => (l.reports.perApp = { capacity: 6, windowMs: 10_000 }));
    const pacer = new GraphPacer({ limits, headroom: 0 });
    const a = sendTimes(pacer, 10, TENANT_A, '/auditLogs/signIns', 0);
    const b = sendTimes(pacer, 1, TENANT_B, '/auditLogs/signIns', 0);
    await clock.tickAsync(30_000);
    assert.deepEqual(await b, [0]);
    assert.deepEqual((await a).slice(0, 5), [0, 0, 0, 0, 0]);
  });

  it('when the app-wide budget binds, a tenant\'s report requests still reach Graph within its own 5 per 10 s (no bunching)', async () => {
    // App-wide 1.5/s, backlogged ~67 s by twenty other tenants: tenant A's requests clear A's own
    // budget 2 s apart (0.5/s) but would then all wait for app-wide turns 0.7 s apart.
    const limits = withLimits((l) => (l.reports.perApp = { capacity: 3, windowMs: 2_000 }));
    const pacer = new GraphPacer({ limits }); // with its usual reserve (one of A's 5 tokens); without the gate A sends 15 in 9 s
    const others = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(8, '9')}-3333-4333-8333-333333333333`).map((t) => sendTimes(pacer, 5, t, '/auditLogs/signIns', 0));
    const a = sendTimes(pacer, 15, TENANT_A, '/auditLogs/signIns', 0);
    await clock.tickAsync(300_000);
    await Promise.all(others);
    const times = (await a).map((s) => s * 1000);
    // Replay A's departures through Graph's bucket for A (5 per 10 s): never below empty.
    let tokens = 5;
    let last = times[0];
    for (const t of [...times].sort((x, y) => x - y)) {
      tokens = Math.min(5, tokens + ((t - last) * 5) / 10_000) - 1;
      last = t;
      assert.ok(tokens >= -1e-9, `tenant A overdrawn at ${t / 1000} s: ${(await a).join(', ')}`);
    }
  });

  it('…and a $batch of report requests that waited for the app-wide budget is charged to its tenant when it leaves', async () => {
    // App-wide 20/s but backlogged ~19 s by 400 other tenants: A's batch of 4 waits for it; once it
    // leaves, the backlog is over and A's next requests would go at once on a refilled bucket.
    const limits = withLimits((l) => (l.reports.perApp = { capacity: 40, windowMs: 2_000 }));
    const pacer = new GraphPacer({ limits });
    const others = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(8, '8')}-3333-4333-8333-333333333333`).map((t) => sendTimes(pacer, 1, t, '/auditLogs/signIns', 0));
    const t0 = Date.now();
    const sent: Array<[number, number]> = []; // [ms, report requests]
    const unit = (n: number) =>
      pacer.acquire(TENANT_A, Array.from({ length: n }, () => ({ method: 'GET', url: '/auditLogs/signIns' }))).then((ticket) => {
        sent.push([Date.now() - t0, n]);
        ticket.done({ status: 200 });
      });
    const a = [unit(4), unit(1), unit(1), unit(1), unit(1), unit(4), unit(1)];
    await clock.tickAsync(300_000);
    await Promise.all([...others, ...a]);
    let tokens = 5;
    let last = sent[0][0];
    for (const [t, n] of sent.sort((x, y) => x[0] - y[0])) {
      tokens = Math.min(5, tokens + ((t - last) * 5) / 10_000) - n;
      last = t;
      assert.ok(tokens >= -1e-9, `tenant A overdrawn at ${t / 1000} s: ${JSON.stringify(sent)}`);
    }
  });

  it('identity: resource units by tenant size, learnt from a user count and only ever raised', async () => {
    const limits = withLimits((l) => {
      l.identity.perTenant = { S: { capacity: 10, windowMs: 10_000 }, M: { capacity: 20, windowMs: 10_000 }, L: { capacity: 40, windowMs: 10_000 } };
    });
    const pacer = new GraphPacer({ limits, headroom: 0 });
    assert.equal(pacer.tenantSize(TENANT_A), 'S');
    // GET /users costs 2 RU: 5 at once on an S budget of 10, the 6th 2 s later.
    assert.deepEqual(await sendTimes(pacer, 6, TENANT_A, '/users', 3_000), [0, 0, 0, 0, 0, 2]);
    pacer.noteUserCount(TENANT_A, 10_000);
    assert.equal(pacer.tenantSize(TENANT_A), 'L');
    pacer.noteUserCount(TENANT_A, 12);
    assert.equal(pacer.tenantSize(TENANT_A), 'L', 'a smaller (filtered) count never lowers it');
    await clock.tickAsync(20_000);
    // Full L bucket: 40 RU = 20 GET /users at once.
    const times = await sendTimes(pacer, 21, TENANT_A, '/users', 2_000);
    assert.equal(times.filter((t) => t === 0).length, 20);
    assert.equal(times[20], 0.5);
  });

  it('a tenant is at least as big as the distinct users named in requests to it (paths and id-in filters)', async () => {
    const pacer = new GraphPacer();
    const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `'u${from + i}'`).join(',');
    for (let i = 0; i < 3; i++) (await pacer.acquire(TENANT_A, [{ method: 'GET', url: `/users?$filter=id in (${ids(i * 15, 15)})&$select=id` }])).done();
    assert.equal(pacer.tenantSize(TENANT_A), 'S', '45 users');
    (await pacer.acquire(TENANT_A, [{ method: 'GET', url: '/users/u999/mailFolders/inbox/messageRules' }, { method: 'GET', url: '/users/u998/authentication/methods' }, { method: 'GET', url: '/users/U0' }])).done();
    assert.equal(pacer.tenantSize(TENANT_A), 'S', '47 distinct (U0 = u0)');
    (await pacer.acquire(TENANT_A, Array.from({ length: 3 }, (_, i) => ({ method: 'GET', url: `/users/m${i}/mailFolders/inbox/messageRules` })))).done();
    assert.equal(pacer.tenantSize(TENANT_A), 'M');
    (await pacer.acquire(TENANT_A, Array.from({ length: 460 }, (_, i) => ({ method: 'GET', url: `/users/x${i}/authentication/requirements` })))).done();
    assert.equal(pacer.tenantSize(TENANT_A), 'L');
    assert.equal(pacer.tenantSize(TENANT_B), 'S');
  });

  it('identity protection / Conditional Access: 1 request per second per tenant', async () => {
    const pacer = new GraphPacer({ headroom: 0 });
    assert.deepEqual(await sendTimes(pacer, 3, TENANT_A, '/identity/conditionalAccess/policies', 3_000), [0, 1, 2]);
  });

  it('Outlook: at most 4 requests in flight per mailbox; others run freely; idle mailboxes are forgotten', async () => {
    const pacer = new GraphPacer();
    const rules = (u: string) => [{ method: 'GET', url: `/users/${u}/mailFolders/inbox/messageRules` }];
    const tickets = await Promise.all(Array.from({ length: 4 }, () => pacer.acquire(TENANT_A, rules('u1'))));
    let fifth = false;
    const p5 = pacer.acquire(TENANT_A, rules('u1')).then((t) => {
      fifth = true;
      return t;
    });
    const other = await pacer.acquire(TENANT_A, rules('u2'));
    other.done({ status: 200 });
    await clock.tickAsync(10);
    assert.equal(fifth, false, 'the fifth waits for a slot');
    tickets[0].done({ status: 200 });
    await clock.tickAsync(0);
    assert.equal(fifth, true);
    for (const t of tickets.slice(1)) t.done({ status: 200 });
    (await p5).done({ status: 200 });
    assert.equal(pacer.trackedMailboxes, 0);
  });

  it('a $batch counts each inner request; mailbox slots of a batch are released together', async () => {
    const pacer = new GraphPacer();
    const inner = Array.from({ length: 20 }, (_, i) => ({ method: 'GET', url: `/users/u${i % 5}/mailFolders/inbox/messageRules` }));
    const t = await pacer.acquire(TENANT_A, inner);
    assert.equal(pacer.stats().sent.outlook, 20);
    assert.equal(pacer.trackedMailboxes, 5);
    t.done({ status: 200 });
    assert.equal(pacer.trackedMailboxes, 0);
  });

  it('a 429 with Retry-After blocks the bucket it hit for that long, then lets one request through', async () => {
    const pacer = new GraphPacer();
    const first = await pacer.acquire(TENANT_A, [{ method: 'GET', url: '/auditLogs/signIns' }]);
    first.done({ status: 429, headers: new Headers({ 'Retry-After': '3' }) });
    assert.equal(pacer.stats().throttled, 1);
    assert.deepEqual(await sendTimes(pacer, 2, TENANT_A, '/auditLogs/signIns', 6_000), [3, 5]);
    // Another tenant is not affected.
    assert.deepEqual(await sendTimes(pacer, 1, TENANT_B, '/auditLogs/signIns', 0), [0]);
    // An app-scoped throttle holds back every tenant's budget of that family.
    const r = await pacer.acquire(TENANT_B, [{ method: 'GET', url: '/users' }]);
    r.done({ status: 429, headers: new Headers({ 'Retry-After': '5', 'x-ms-throttle-scope': 'Application/ReadWrite/app/tenant' }) });
    assert.deepEqual(await sendTimes(pacer, 1, TENANT_A, '/users?$select=id', 6_000), [5]);
  });

  it('a 429 without Retry-After does not block (the RetryHandler backs off on its own)', async () => {
    const pacer = new GraphPacer({ headroom: 0 });
    const t = await pacer.acquire(TENANT_A, [{ method: 'GET', url: '/users' }]);
    t.done({ status: 429 });
    assert.deepEqual(await sendTimes(pacer, 1, TENANT_A, '/users', 0), [0]);
  });
});

describe('pacing: the SDK middleware', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  class FakeNext implements Middleware {
    seen: Array<{ url: string; at: number }> = [];
    constructor(private readonly answer: (url: string) => Response) {}
    async execute(context: Context): Promise<void> {
      const url = typeof context.request === 'string' ? context.request : context.request.url;
      this.seen.push({ url, at: Date.now() });
      context.response = this.answer(url);
    }
  }

  const ctx = (url: string, tid: string, method = 'GET', body?: unknown): Context => ({
    request: url,
    options: { method, headers: { Authorization: `Bearer ${fakeToken(tid)}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) },
  });

  it('paces per tenant from the token, counts inner batch requests, learns the tenant size from /users/$count', async () => {
    const events: string[] = [];
    const pacer = new GraphPacer({ onEvent: (e) => events.push(`${e.type}:${e.tenantId}:${e.requests.length}`) });
    const handler = new PacingHandler(pacer);
    const next = new FakeNext((url) => (url.endsWith('$count') ? new Response('12345', { status: 200 }) : new Response('{}', { status: 200 })));
    handler.setNext(next);

    await handler.execute(ctx('https://graph.microsoft.com/v1.0/users/$count', TENANT_A));
    assert.equal(pacer.tenantSize(TENANT_A), 'L');
    assert.equal(pacer.tenantSize(TENANT_B), 'S');

    const batch = { requests: Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users?$filter=id in ('x${i}')&$select=id` })) };
    await handler.execute(ctx('https://graph.microsoft.com/v1.0/$batch', TENANT_B, 'POST', batch));
    assert.equal(pacer.stats().sent.identity, 21);
    assert.deepEqual(events, [`send:${TENANT_A}:1`, `response:${TENANT_A}:1`, `send:${TENANT_B}:20`, `response:${TENANT_B}:20`]);
  });

  it('holds report requests to the documented rate', async () => {
    const pacer = new GraphPacer();
    const handler = new PacingHandler(pacer);
    const next = new FakeNext(() => new Response('{"value":[]}', { status: 200 }));
    handler.setNext(next);
    const url = 'https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails';
    const all = Promise.all(Array.from({ length: 6 }, () => handler.execute(ctx(url, TENANT_A))));
    await clock.tickAsync(5_000);
    await all;
    assert.deepEqual(next.seen.map((s) => (s.at - 1_000_000) / 1000), [0, 0, 0, 0, 2, 4]);
  });
});
