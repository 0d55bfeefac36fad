/**
 * Observability, visible in a test: Vigil on the demo tenant with its logs captured in memory
 * (pino) and OpenTelemetry read by in-memory exporters.
 * - each Teams activity and each scan has its own request id / scan id on every log line it writes;
 * - metrics: Graph requests, 429s after a forced throttle on the demo tenant, scan durations,
 *   approvals by outcome; spans for activities, scans and Graph calls;
 * - no secrets in the logs; GET /healthz and GET /readyz; "doctor" in chat for approvers only.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS } from '../../bot/demo';
import { createLogger } from '../../bot/log';
import { startServer } from '../../bot/teams/server';
import { initTelemetry, METRICS, observeApprovals, type Telemetry } from '../../bot/telemetry';
import { FakeTeams, textOf, type TeamsUser } from '../support/fakeTeams';

const asTeamsUser = (u: { id: string; name: string }): TeamsUser => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name });

type Line = Record<string, unknown> & { msg?: string; requestId?: string; scanId?: string };

/** Sum of a counter's data points (optionally those whose attributes match), or a histogram's count. */
function total(metrics: ResourceMetrics[], name: string, match: Record<string, unknown> = {}): number {
  const last = metrics.at(-1);
  let sum = 0;
  for (const scope of last?.scopeMetrics ?? []) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const dp of m.dataPoints) {
        if (!Object.entries(match).every(([k, v]) => dp.attributes[k] === v)) continue;
        const value = dp.value as number | { count: number };
        sum += typeof value === 'number' ? value : value.count;
      }
    }
  }
  return sum;
}

describe('ship: logs, metrics and traces', function () {
  this.timeout(90_000);
  const alex = asTeamsUser(DEMO_USERS.alex);
  const megan = asTeamsUser(DEMO_USERS.megan);
  const lines: Line[] = [];
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const spanExporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let vigil: Vigil;
  let teams: FakeTeams;
  let dataDir: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-obs-'));
    telemetry = initTelemetry({
      metricReaders: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })],
      spanProcessors: [new SimpleSpanProcessor(spanExporter)],
    });
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: dataDir, SCAN_POLL_SECONDS: '0' }, logger });
    teams = new FakeTeams(vigil.url, vigil.demo!.tenantId);
    await teams.start();
  });

  after(async () => {
    await teams?.stop();
    await vigil?.stop();
    await telemetry?.shutdown();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a request id on every line an activity writes, a new one per activity', async () => {
    // Activities from a tenant Vigil does not serve are refused with a warning: a line written inside the request.
    const stranger = new FakeTeams(vigil.url, '11111111-2222-4333-8444-555555555555');
    await stranger.start();
    try {
      await stranger.say(alex, 'who lacks MFA?');
      await stranger.say(alex, 'who lacks MFA?');
    } finally {
      await stranger.stop();
    }
    const refused = lines.filter((l) => l.msg === 'activity refused: channel or tenant not allowed');
    assert.equal(refused.length, 2);
    for (const l of refused) assert.match(String(l.requestId), /^[0-9a-f]{16}$/);
    assert.notEqual(refused[0].requestId, refused[1].requestId);
    assert.ok(refused.every((l) => typeof l.activityId === 'string'), 'the activity id is bound too');
    const started = lines.find((l) => l.msg === 'Vigil is listening');
    assert.ok(started && started.requestId === undefined, 'lines outside a request carry no request id');
  });

  it('a scan id on every line a scan writes; 429s and Graph requests counted after a forced throttle', async () => {
    vigil.demo!.knobs.faults = [{ match: 'GET /v1.0/users', kind: 'throttle', retryAfterSeconds: 1, count: 1 }];
    const scans = await vigil.watchman.tick();
    assert.equal(scans, 1);
    const done = lines.find((l) => l.msg === 'scan done');
    assert.ok(done, 'scan done logged');
    assert.match(String(done.scanId), /^[0-9a-f]{16}$/);
    assert.equal(done.tenantId, vigil.demo!.tenantId);

    await telemetry.flush();
    const metrics = metricExporter.getMetrics();
    assert.equal(total(metrics, METRICS.graphThrottled), 1, 'exactly the one forced 429');
    assert.equal(total(metrics, METRICS.graphRequests, { 'http.response.status_code': 429 }), 1);
    assert.ok(total(metrics, METRICS.graphRequests, { 'http.response.status_code': 200 }) >= 10, 'the scan read Graph');
    assert.equal(total(metrics, METRICS.scanDuration, { 'vigil.scan.outcome': 'done' }), 1);
    assert.ok(total(metrics, METRICS.activities) >= 2);

    const spans = spanExporter.getFinishedSpans();
    const scan = spans.find((s) => s.name === 'vigil scan');
    assert.ok(scan, 'a scan span');
    assert.equal(scan.attributes['vigil.scan_id'], done.scanId);
    const graphSpans = spans.filter((s) => s.name.startsWith('graph GET '));
    assert.ok(graphSpans.some((s) => s.attributes['http.response.status_code'] === 429));
    // Graph spans of the scan are its children (context propagates through the SDK's middleware).
    assert.ok(graphSpans.some((s) => s.parentSpanContext?.spanId === scan.spanContext().spanId));
    // No identifiers in span names: GUIDs become {id}.
    assert.ok(graphSpans.every((s) => !/[0-9a-f]{8}-[0-9a-f]{4}-/i.test(s.name)), graphSpans.map((s) => s.name).join('\n'));
  });

  it('approvals are counted by outcome', async () => {
    const seen: string[] = [];
    const sink = observeApprovals({ requested: async (r: { state: string; actionId: string }) => void seen.push(`requested ${r.state}`), changed: async (r) => void seen.push(`changed ${r.state}`) });
    await sink.requested({ state: 'pending', actionId: 'mfa.require' });
    await sink.changed({ state: 'approved', actionId: 'mfa.require' });
    await sink.changed({ state: 'succeeded', actionId: 'mfa.require' });
    await sink.changed({ state: 'rejected', actionId: 'user.block' });
    assert.deepEqual(seen, ['requested pending', 'changed approved', 'changed succeeded', 'changed rejected']);
    await telemetry.flush();
    const metrics = metricExporter.getMetrics();
    assert.equal(total(metrics, METRICS.approvals, { 'vigil.approval.outcome': 'succeeded' }), 1);
    assert.equal(total(metrics, METRICS.approvals, { 'vigil.approval.outcome': 'rejected', 'vigil.action': 'user.block' }), 1);
  });

  it('"doctor" in chat: the permissions card for an approver, a refusal for anyone else', async () => {
    await teams.say(megan, 'doctor');
    const meganCard = teams.lastCard(teams.personal(megan).id);
    assert.match(textOf(meganCard), /Vigil doctor: all good/);
    await teams.say(alex, 'doctor');
    assert.match(textOf(teams.lastCard(teams.personal(alex).id)), /Only security approvers can run the doctor/);
  });

  it('no secret reaches a log line', () => {
    const all = lines.map((l) => JSON.stringify(l)).join('\n');
    assert.ok(lines.length > 3);
    assert.ok(!all.includes(vigil.demo!.clientSecret), 'the Graph app secret');
    assert.doesNotMatch(all, /eyJ[\w-]{10,}\.[\w-]{10,}/, 'no JWT');
  });

  it('GET /healthz (liveness) and GET /readyz (database and Graph token): 200 when ready', async () => {
    const health = await fetch(`${vigil.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${vigil.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  it('GET /readyz answers 503 when a dependency fails, without saying why', async () => {
    const log = createLogger('silent');
    const server = await startServer({ port: 0, host: '127.0.0.1', adapter: {} as never, handler: {} as never, log, readiness: async () => Promise.reject(new Error('password authentication failed for user vigil')) });
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      const body = await res.text();
      assert.deepEqual(JSON.parse(body), { status: 'not ready' });
      assert.doesNotMatch(body, /password|vigil/);
    } finally {
      await server.close();
    }
  });
});

describe('ship: Azure Monitor export', () => {
  it('attaches the Azure Monitor exporters only when a connection string is given', async () => {
    const saved = process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED;
    process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
    try {
      const none = initTelemetry({});
      assert.equal(none.exportsToAzureMonitor, false);
      await none.shutdown();
      // A local, closed ingestion endpoint: nothing leaves this machine.
      const az = initTelemetry({ connectionString: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/' });
      assert.equal(az.exportsToAzureMonitor, true);
      await az.shutdown();
    } finally {
      if (saved === undefined) delete process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED;
      else process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = saved;
    }
  });
});
