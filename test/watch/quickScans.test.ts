/**
 * Quick scans: between full scans (SCAN_INTERVAL) the cheap checks run more often
 * (SCAN_QUICK_INTERVAL), so a new Global Admin or a new member without MFA is alerted within
 * minutes. Against the demo tenant over HTTPS and a real database. A quick scan reads only what
 * the cheap checks need, leaves the other checks' findings alone, and what it alerted is not
 * alerted again by the next full scan.
 */
import { strict as assert } from 'node:assert';
import { CheckRunner, CHECKS, QUICK_CHECKS } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { DEMO_USERS, demoChanges, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { connectGraph, type GraphConnection } from '../../bot/graph/connect';
import type { AlertRecord, Store } from '../../bot/store';
import { Watchman } from '../../bot/watch/watchman';
import { engines } from '../support/databases';

const silent = { info() {}, warn() {} };

describe('quick scans: the cheap checks between full scans', () => {
  it('the quick set is the cheap checks that catch the usual decay (and not the per-mailbox or sign-in reads)', () => {
    assert.deepEqual(QUICK_CHECKS.map((c) => c.id).sort(), ['admins.count', 'audit.log', 'baseline.policies', 'mfa.registration']);
    assert.ok(QUICK_CHECKS.length < CHECKS.length);
  });

  it('SCAN_QUICK_INTERVAL: 15 minutes by default, 0 turns quick scans off, nonsense is refused', () => {
    assert.equal(loadConfig({}).watch.quickIntervalMinutes, 15);
    assert.equal(loadConfig({ SCAN_QUICK_INTERVAL: '0' }).watch.quickIntervalMinutes, 0);
    assert.throws(() => loadConfig({ SCAN_QUICK_INTERVAL: 'often' }), /SCAN_QUICK_INTERVAL/);
  });

  for (const engine of engines()) {
    describe(`on ${engine.name}`, function () {
      this.timeout(60_000);
      let clock = new Date('2026-11-22T09:00:00Z');
      const now = () => clock;
      const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * 60_000));
      let demo: DemoTenant;
      let connection: GraphConnection;
      let store: Store;
      let watchman: Watchman;
      const delivered: AlertRecord[] = [];
      const lastRun = async () => (await store.watch.runs(demo.tenantId)).at(-1)!;

      before(async () => {
        demo = await startDemoTenant({ now });
        connection = await connectGraph(loadConfig({}), { demoTenant: demo, now });
        store = await engine.open();
        watchman = new Watchman({
          store,
          runner: new CheckRunner((t) => connection.connectTenant(t), now),
          tenants: async () => [{ tenantId: demo.tenantId, intervalMinutes: 60, quickIntervalMinutes: 15, alertsPaused: false }],
          alerts: {
            async deliver(alert) {
              delivered.push(alert);
              await store.watch.markAlert(alert.id, 'sent', { at: now() });
            },
          },
          log: silent,
          now,
        });
      });
      after(async () => {
        await store?.close();
        await demo?.close();
      });

      it('the first scan is a full one (the baseline)', async () => {
        assert.equal(await watchman.tick(), 1);
        assert.equal((await lastRun()).kind, 'full');
        advance(10);
        assert.equal(await watchman.tick(), 0, 'nothing due 10 minutes later');
      });

      it('15 minutes later a quick scan alerts a new Global Admin — and reads no mailbox, no sign-in', async () => {
        const openBefore = await store.watch.findings(demo.tenantId);
        const dana = Object.values(DEMO_USERS).find((u) => u.name.startsWith('Dana'))!;
        demoChanges.addGlobalAdmin(demo.tenant(), dana.id);
        demoChanges.addForwardingRule(demo.tenant(), DEMO_USERS.lynne.id, { displayName: 'Statements', address: 'lynne.backup@gmail.com' });
        const mark = demo.requests.length;
        advance(6);
        assert.equal(await watchman.tick(), 1);
        const run = await lastRun();
        assert.equal(run.kind, 'quick');
        assert.equal(run.summary.checks, QUICK_CHECKS.length);
        const paths = demo.requests.slice(mark).map((r) => r.path);
        assert.ok(!paths.some((p) => /messageRules|auditLogs\/signIns/i.test(p)), `no mailbox or sign-in reads: ${paths.filter((p) => /messageRules|signIns/i.test(p)).slice(0, 3).join(', ')}`);
        assert.equal(delivered.length, 1, 'one alert');
        const keys = delivered[0].findingKeys;
        assert.ok(keys.some((k) => k.startsWith('admins.count|')), `the new Global Admin: ${keys.join(', ')}`);
        const [admin] = await store.watch.findings(demo.tenantId, keys.filter((k) => k.startsWith('admins.count|')));
        assert.match(JSON.stringify(admin.finding), /Dana/, 'about Dana');
        assert.ok(!keys.some((k) => k.startsWith('mail.forwarding|')), 'the forwarding rule waits for the full scan');
        // Findings of checks the quick scan did not run are left as they were (not "resolved").
        const openAfter = await store.watch.findings(demo.tenantId);
        for (const f of openBefore.filter((f) => !QUICK_CHECKS.some((c) => c.id === f.checkId))) {
          assert.ok(openAfter.some((g) => g.key === f.key), `${f.key} still open`);
        }
      });

      it('the next full scan (60 minutes after the last) alerts the forwarding rule, not the admin again', async () => {
        advance(15);
        assert.equal(await watchman.tick(), 1);
        assert.equal((await lastRun()).kind, 'quick', 'quick scans go on every 15 minutes');
        assert.equal(delivered.length, 1, 'nothing new for the quick checks');
        advance(40);
        assert.equal(await watchman.tick(), 1);
        assert.equal((await lastRun()).kind, 'full');
        assert.equal(delivered.length, 2);
        const keys = delivered[1].findingKeys;
        assert.ok(keys.some((k) => k.startsWith('mail.forwarding|')), `forwarding rule: ${keys.join(', ')}`);
        assert.ok(!keys.some((k) => k.startsWith('admins.count|')), 'the admin was alerted already');
      });

      it('when both are due the full scan runs, and it moves the quick one on', async () => {
        advance(61); // both kinds are due: the full one runs, and it also moves the quick one on
        assert.equal(await watchman.tick(), 1);
        assert.equal((await lastRun()).kind, 'full');
        assert.equal(await watchman.tick(), 0, 'the quick scan is not due right after a full one');
      });
    });
  }
});
