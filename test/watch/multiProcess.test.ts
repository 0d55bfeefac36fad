/**
 * Scale-out: two real Vigil processes (child processes started like `npm start`) share one
 * PostgreSQL database and watch ten demo tenants. Every tenant is scanned exactly once per
 * interval, alerts are sent once, and when one process is killed (-9) in the middle of a scan
 * the other one finishes its work after the lease runs out.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoChanges, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { demoSeeds } from '../../bot/graph/connect';
import { openStore, type Store } from '../../bot/store';
import { megan } from '../remediation/support/harness';
import { postgresSchema } from '../support/databases';
import { FakeTeams } from '../support/fakeTeams';

const TENANTS = 10;
const url = process.env.DATABASE_URL;

describe('two Vigil processes on one PostgreSQL, ten tenants', function () {
  this.timeout(180_000);
  if (!url) {
    if (process.env.CI) it('needs DATABASE_URL (a real PostgreSQL server)', () => assert.fail('DATABASE_URL is not set in CI'));
    else it.skip('needs DATABASE_URL (a real PostgreSQL server); .ci/run sets it');
    return;
  }

  let demo: DemoTenant;
  let store: Store;
  let teams: FakeTeams;
  let schemaUrl: string;
  let schema: { url: string; drop(): Promise<void> } | undefined;
  let dir: string;
  const children: Array<{ proc: ChildProcess; worker: string; url: string }> = [];

  const doneRuns = async () => {
    const rows = await store.db.query<{ tenant_id: string; n: number }>(`SELECT tenant_id, count(*)::int AS n FROM scan_runs WHERE status = 'done' GROUP BY tenant_id`);
    return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
  };
  const waitFor = async (what: string, cond: () => Promise<boolean>, ms = 90_000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    const jobs = await store.db.query(`SELECT tenant_id, next_run_at, locked_by, locked_until, last_error FROM scan_jobs`);
    const runs = await store.db.query(`SELECT tenant_id, worker, status, summary FROM scan_runs ORDER BY id`);
    assert.fail(`timed out waiting for ${what}\njobs: ${JSON.stringify(jobs)}\nruns: ${JSON.stringify(runs)}`);
  };

  before(async () => {
    demo = await startDemoTenant({ tenants: demoSeeds(TENANTS) });
    // Scans slow enough that both processes' first looks fall inside the first round.
    demo.knobs.latencyMs = 20;
    schema = await postgresSchema(url!, 'vigil_mp');
    schemaUrl = schema.url;
    store = await openStore({ databaseUrl: schemaUrl });
    teams = new FakeTeams('http://unused', demo.tenantId);
    await teams.start();

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-mp-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), demo.caCertPem);
    const ids = demo.tenantIds();
    fs.writeFileSync(path.join(dir, 'tenants.json'), JSON.stringify(ids.slice(1).map((id) => ({ tenantId: id, displayName: demo.tenant(id).organization.displayName }))));
    for (const id of ids) {
      await store.channels.set({
        tenantId: id.toLowerCase(),
        purpose: 'alerts',
        ref: { channelId: 'msteams', serviceUrl: teams.serviceUrl, conversation: { id: `19:alerts-${id}@thread.tacv2`, conversationType: 'channel', tenantId: id }, bot: { id: '28:vigil', name: 'Vigil' } },
        name: 'Alerts',
        setBy: 'test',
        setAt: new Date(),
      });
    }
    const env = {
      ...process.env,
      PORT: '0',
      DATABASE_URL: schemaUrl,
      GRAPH_BASE_URL: demo.baseUrl,
      AZURE_AUTHORITY_HOST: demo.baseUrl,
      AZURE_TENANT_ID: demo.tenantId,
      AZURE_CLIENT_ID: demo.clientId,
      AZURE_CLIENT_SECRET: demo.clientSecret,
      NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
      TENANTS_FILE: path.join(dir, 'tenants.json'),
      SCAN_POLL_SECONDS: '1',
      SCAN_INTERVAL: '60',
      SCAN_LEASE_SECONDS: '6',
      // Two tenants at a time each, so that neither process can take the whole round alone.
      SCAN_CONCURRENCY: '2',
      APPROVER_IDS: '00000000-0000-4000-8000-000000000021',
      LOG_LEVEL: 'silent',
    };
    // Both start together, so that both are looking for due scans when the first round begins.
    const start = () => {
      const proc = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, 'vigilProcess.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      return new Promise<{ proc: ChildProcess; worker: string; url: string }>((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (d) => {
          out += d;
          const m = /READY (\S+) (\S+)/.exec(out);
          if (m) resolve({ proc, url: m[1], worker: m[2] });
        });
        proc.stderr!.on('data', (d) => (out += d));
        proc.on('exit', (code) => reject(new Error(`vigil process exited ${code}: ${out}`)));
      });
    };
    children.push(...(await Promise.all([start(), start()])));
  });

  after(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await teams?.stop();
    await store?.close();
    await demo?.close();
    await schema?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first round scans every tenant exactly once (a baseline: no alerts)', async () => {
    await waitFor('a first scan of every tenant', async () => (await doneRuns()).size === TENANTS);
    await new Promise((r) => setTimeout(r, 2000)); // give a duplicate, if any, time to show up
    const runs = await doneRuns();
    for (const id of demo.tenantIds()) assert.equal(runs.get(id.toLowerCase()), 1, `tenant ${id} scanned once`);
    assert.equal((await store.watch.allAlerts()).length, 0);
    const workers = new Set((await store.watch.runs()).map((r) => r.worker));
    assert.equal(workers.size, 2, 'both processes took part');
  });

  it('a report link made by one process opens on the other (files and link key are in the database)', async () => {
    const asker = new FakeTeams(children[0].url, demo.tenantId);
    await asker.start();
    try {
      assert.equal((await asker.say(megan, `report for ${demo.tenant(demo.tenantId).organization.displayName}`, asker.channel())).status, 200);
      const card = asker.sent.map((s) => s.activity.attachments?.[0]?.content).find((c) => c?.actions?.some((a: { type: string }) => a.type === 'Action.OpenUrl'));
      assert.ok(card, `a card with a link: ${JSON.stringify(asker.sent.map((s) => s.activity)).slice(0, 1500)}`);
      const link = new URL(card.actions.find((a: { type: string }) => a.type === 'Action.OpenUrl').url);
      assert.equal(link.origin, children[0].url, 'made by the first process');
      const other = new URL(link.pathname + link.search, children[1].url);
      const res = await fetch(other);
      assert.equal(res.status, 200, 'served by the second process');
      assert.equal(Buffer.from(await res.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    } finally {
      await asker.stop();
    }
  });

  it('after changes, one process killed mid-scan: every tenant scanned once more, each change alerted exactly once', async () => {
    const ids = demo.tenantIds();
    const changed = [ids[1], ids[4], ids[7]];
    for (const id of changed) demoChanges.addJoinerWithoutMfa(demo.tenant(id), new Date(), { displayName: 'Nadia Rahman', userPrincipalName: `nadia@${demo.tenant(id).domains[0].id}` });
    demo.knobs.latencyMs = 40; // scans take long enough to be caught in the middle
    await store.db.query(`UPDATE scan_jobs SET next_run_at = now()`);
    const victim = children[0];
    await waitFor('the first process to hold a scan', async () => (await store.db.query(`SELECT 1 FROM scan_jobs WHERE locked_by = $1`, [victim.worker])).length > 0, 30_000);
    victim.proc.kill('SIGKILL');
    await waitFor('a second scan of every tenant', async () => [...(await doneRuns()).values()].filter((n) => n >= 2).length === TENANTS, 120_000);
    demo.knobs.latencyMs = 0;
    await waitFor('alerts to be sent', async () => (await store.watch.allAlerts()).filter((a) => a.status === 'sent').length >= changed.length, 30_000);
    await new Promise((r) => setTimeout(r, 2000));

    const runs = await doneRuns();
    for (const id of ids) assert.equal(runs.get(id.toLowerCase()), 2, `tenant ${id} scanned once in the second round`);
    const alerts = await store.watch.allAlerts();
    assert.deepEqual(alerts.map((a) => a.tenantId).sort(), changed.map((c) => c.toLowerCase()).sort(), 'one alert per changed tenant');
    const posted = teams.sent.filter((s) => s.method === 'POST' && s.conversationId.startsWith('19:alerts-'));
    assert.deepEqual(posted.map((p) => p.conversationId).sort(), changed.map((c) => `19:alerts-${c}@thread.tacv2`).sort(), 'each alert card posted once');
    const throttled = demo.requests.filter((r) => r.status === 429).length;
    console.log(`      figures: ${TENANTS} tenants, 2 processes (one killed mid-scan), scans per tenant per round: 1, alerts: ${alerts.length}, 429s provoked: ${throttled}`);
  });
});
