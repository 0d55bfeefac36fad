/**
 * The documented limits as the demo tenant enforces them (knob `limits`, off by default), and
 * Vigil's paced Graph client against them: no 429 provoked, Retry-After still honoured.
 * Small windows (1 s instead of 10 s) keep the test fast; the shapes are the documented ones.
 */
import { strict as assert } from 'node:assert';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DemoLimits, type DemoLimitsOptions } from '../../bot/demo/limits';
import { GraphApi } from '../../bot/graph/api';
import { createGraphClient } from '../../bot/graph/client';
import { GRAPH_LIMITS, GraphPacer } from '../../bot/graph/pacing';
import { credentialFor, graphClientFor, raw } from '../demo/helpers';

const REPORT = '/reports/authenticationMethods/userRegistrationDetails';
const FAST: DemoLimitsOptions['overrides'] = {
  reportsPerTenant: { capacity: 5, windowMs: 1_000 },
  identityProtectionPerTenant: { capacity: 1, windowMs: 1_000 },
};

describe('demo tenant: documented throttling limits (knob)', function () {
  this.timeout(30_000);
  let demo: DemoTenant;
  const statuses = (filter: (path: string) => boolean) => demo.requests.filter((r) => filter(r.path)).map((r) => r.status);

  before(async () => {
    demo = await startDemoTenant();
  });
  after(async () => {
    await demo?.close();
  });
  beforeEach(() => {
    demo.reset();
    demo.knobs.maxPageSize = 999;
  });

  it('is off by default: a burst of report requests is never throttled', async () => {
    assert.equal(demo.knobs.limits, null);
    const graph = graphClientFor(demo);
    await Promise.all(Array.from({ length: 12 }, () => graph.api(REPORT).get()));
    assert.ok(statuses((p) => p === REPORT).every((s) => s === 200));
  });

  it('reports: the 6th request in 10 s gets 429 with Retry-After; the SDK retry then succeeds', async () => {
    demo.knobs.limits = new DemoLimits();
    const graph = graphClientFor(demo);
    await Promise.all(Array.from({ length: 6 }, () => graph.api(REPORT).get()));
    const s = statuses((p) => p === REPORT);
    assert.equal(s.filter((x) => x === 429).length, 1, String(s));
    assert.equal(s.filter((x) => x === 200).length, 6);
    assert.equal(demo.knobs.limits.stats().throttled.reports, 1);
  });

  it('a 429 says when to come back and which scope throttled', async () => {
    demo.knobs.limits = new DemoLimits({ overrides: FAST });
    const token = (await credentialFor(demo).getToken(`${demo.baseUrl}/.default`))!.token;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await raw(demo, 'GET', `/v1.0${REPORT}`, { token }));
    const last = answers.at(-1)!;
    assert.equal(last.status, 429);
    assert.equal(last.headers['retry-after'], '1');
    assert.match(String(last.headers['x-ms-throttle-scope']), /^Tenant_Application\//);
    // Conditional Access: 1 per second per tenant, and no Retry-After (documented).
    await raw(demo, 'GET', '/v1.0/identity/conditionalAccess/policies', { token });
    const ca = await raw(demo, 'GET', '/v1.0/identity/conditionalAccess/policies', { token });
    assert.equal(ca.status, 429);
    assert.equal(ca.headers['retry-after'], undefined);
  });

  it('inner requests of a $batch are evaluated one by one', async () => {
    demo.knobs.limits = new DemoLimits({ overrides: FAST });
    const graph = graphClientFor(demo);
    const res = await graph.api('/$batch').post({ requests: Array.from({ length: 8 }, (_, i) => ({ id: String(i), method: 'GET', url: REPORT })) });
    const codes = (res.responses as Array<{ status: number; headers: Record<string, string> }>).map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429, 429]);
    const throttled = (res.responses as Array<{ status: number; headers: Record<string, string> }>).find((r) => r.status === 429)!;
    assert.equal(throttled.headers['Retry-After'], '1');
  });

  it('identity: resource units by tenant size (Northwind is M: 5,000 RU per 10 s)', async () => {
    demo.knobs.limits = new DemoLimits({ overrides: FAST });
    const graph = graphClientFor(demo);
    await graph.api('/users').select('id').top(999).get();
    await graph.api('/users').get();
    assert.equal(demo.knobs.limits.stats().resourceUnits, 1 + 2);
  });

  it("Vigil's paced client provokes no 429 where an unpaced burst does, and finishes at the documented rate", async () => {
    // 5 per 3 s: one token of headroom is 600 ms of tolerance for a busy machine.
    const window = { capacity: 5, windowMs: 3_000 };
    demo.knobs.limits = new DemoLimits({ overrides: { reportsPerTenant: window } });
    const limits = structuredClone(GRAPH_LIMITS);
    limits.reports.perTenant = window;
    const pacer = new GraphPacer({ limits });
    const client = createGraphClient({ baseUrl: demo.baseUrl, credential: credentialFor(demo), trustedCaPem: demo.caCertPem, pacer });
    const api = new GraphApi(client, demo.tenantId);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, () => api.get(REPORT, { query: { $top: 999 } })));
    const elapsed = Date.now() - t0;
    assert.deepEqual([...new Set(statuses((p) => p === REPORT))], [200]);
    assert.equal(demo.knobs.limits.stats().throttled.reports, 0);
    // 4 at once (one token of headroom), then 4 more at 5 per 3 s: 2.4 s.
    assert.ok(elapsed >= 2300 && elapsed < 5000, `${elapsed} ms`);
    assert.equal(pacer.stats().sent.reports, 8);
  });

  it('with pacing on, Retry-After from Graph is still honoured', async () => {
    demo.knobs.faults = [{ match: `GET /v1.0${REPORT}`, kind: 'throttle', retryAfterSeconds: 1, count: 1 }];
    const pacer = new GraphPacer();
    const client = createGraphClient({ baseUrl: demo.baseUrl, credential: credentialFor(demo), trustedCaPem: demo.caCertPem, pacer });
    const api = new GraphApi(client, demo.tenantId);
    const t0 = Date.now();
    await api.get(REPORT);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1000 && elapsed < 1900, `${elapsed} ms: Retry-After once, not Retry-After plus a pacing wait`);
    assert.deepEqual(statuses((p) => p === REPORT), [429, 200]);
    assert.equal(pacer.stats().throttled, 1);
  });

  it('GraphApi.batch keeps small budgets out of one $batch and provokes no 429 when paced', async () => {
    const window = { capacity: 5, windowMs: 2_000 };
    demo.knobs.limits = new DemoLimits({ overrides: { reportsPerTenant: window } });
    const limits = structuredClone(GRAPH_LIMITS);
    limits.reports.perTenant = window;
    const client = createGraphClient({ baseUrl: demo.baseUrl, credential: credentialFor(demo), trustedCaPem: demo.caCertPem, pacer: new GraphPacer({ limits }) });
    const api = new GraphApi(client, demo.tenantId);
    const requests = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, method: 'GET' as const, url: `${REPORT}?$top=1` })),
      ...Array.from({ length: 3 }, (_, i) => ({ id: `u${i}`, method: 'GET' as const, url: '/organization' })),
    ];
    const out = await api.batch(requests);
    assert.deepEqual(out.map((r) => r.id), requests.map((r) => r.id), 'in the order asked');
    assert.ok(out.every((r) => r.status === 200));
    const batches = demo.requests.filter((r) => r.path === '/$batch');
    assert.equal(batches.length, 3, '4 report requests per $batch (5 per window, one kept in reserve)');
    assert.equal(demo.knobs.limits.stats().throttled.reports, 0);
  });

  it('GraphApi.batchEach streams: requests from an async generator, responses as each $batch returns', async () => {
    const client = createGraphClient({ baseUrl: demo.baseUrl, credential: credentialFor(demo), trustedCaPem: demo.caCertPem, pacer: null });
    const api = new GraphApi(client, demo.tenantId, { batchConcurrency: 2 });
    const users = demo.tenant().users.slice(0, 12);
    const log: string[] = [];
    async function* requests() {
      for (let round = 0; round < 5; round++) {
        for (const [i, u] of users.entries()) {
          log.push(`ask ${round}`);
          yield { id: `${round}-${i}`, method: 'GET' as const, url: `/users/${u.id}?$select=id` };
        }
      }
    }
    let seen = 0;
    await api.batchEach<{ id: string }>(requests(), (res, req) => {
      assert.equal(res.status, 200);
      assert.equal(res.body?.id, users[Number(req.id.split('-')[1])].id);
      log.push('answer');
      seen++;
    });
    assert.equal(seen, 60);
    assert.equal(demo.requests.filter((r) => r.path === '/$batch').length, 3);
    assert.ok(log.indexOf('answer') < log.lastIndexOf('ask 4'), 'answers arrive before every request is built');
  });

  it('POST /_demo/knobs turns fresh limits on and off', async () => {
    const on = await raw(demo, 'POST', '/_demo/knobs', { body: { limits: true } });
    assert.equal(on.status, 200);
    assert.equal(on.json.limits.enforced, true);
    assert.ok(demo.knobs.limits instanceof DemoLimits);
    await raw(demo, 'POST', '/_demo/knobs', { body: { limits: false } });
    assert.equal(demo.knobs.limits, null);
  });
});
