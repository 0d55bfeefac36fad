/**
 * Keeping watch, against the demo tenant over HTTPS and a real database: the tenant changes
 * through the demo's control knobs, a scheduled scan runs, and exactly the expected alerts
 * appear — once; again after fix-and-return; never while acknowledged; after a snooze ends.
 */
import { strict as assert } from 'node:assert';
import { CheckRunner } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { DEMO_USERS, demoChanges, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { connectGraph, type GraphConnection } from '../../bot/graph/connect';
import type { AlertRecord, Store } from '../../bot/store';
import { findingKey } from '../../bot/watch/scanner';
import { Watchman } from '../../bot/watch/watchman';
import { engines } from '../support/databases';

const silent = { info() {}, warn() {} };

for (const engine of engines()) {
  describe(`keeping watch on ${engine.name}`, function () {
    this.timeout(60_000);
    let clock = new Date('2026-11-22T09:00:00Z');
    const now = () => clock;
    const advance = (minutes: number) => (clock = new Date(clock.getTime() + minutes * 60_000));
    let demo: DemoTenant;
    let connection: GraphConnection;
    let store: Store;
    let watchman: Watchman;
    const delivered: AlertRecord[] = [];

    before(async () => {
      demo = await startDemoTenant({ now });
      connection = await connectGraph(loadConfig({}), { demoTenant: demo, now });
      store = await engine.open();
      watchman = new Watchman({
        store,
        runner: new CheckRunner((t) => connection.connectTenant(t), now),
        tenants: async () => [{ tenantId: demo.tenantId, intervalMinutes: 60, alertsPaused: false }],
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

    const mfaKey = (userId: string) => findingKey('mfa.registration', { severity: 'medium', subject: { id: userId, displayName: '' }, detail: '', remediation: null });

    it('the first scan sets a baseline: findings kept, nothing alerted', async () => {
      assert.equal(await watchman.tick(), 1);
      assert.equal(delivered.length, 0);
      const open = await store.watch.findings(demo.tenantId);
      assert.ok(open.some((f) => f.checkId === 'mfa.registration'));
    });

    it('a tenant is not scanned again before its interval', async () => {
      advance(30);
      assert.equal(await watchman.tick(), 0);
    });

    let joiner: string;
    it('a new joiner without MFA becomes exactly one alert', async () => {
      joiner = demoChanges.addJoinerWithoutMfa(demo.tenant(), now(), { displayName: 'Nadia Rahman', userPrincipalName: 'nadia.rahman@northwinddental.co.uk', createdDaysAgo: 2 });
      advance(31);
      assert.equal(await watchman.tick(), 1);
      assert.equal(delivered.length, 1);
      assert.ok(delivered[0].findingKeys.includes(mfaKey(joiner)), 'the new joiner is in the alert');
      // Other checks may see the same person (e.g. MFA not enforced for them); nothing else is new.
      const others = delivered[0].findingKeys.filter((k) => !k.includes(joiner));
      assert.deepEqual(others, [], 'nothing else was new');
    });

    it('a finding that persists is not alerted again', async () => {
      advance(61);
      assert.equal(await watchman.tick(), 1);
      assert.equal(delivered.length, 1);
    });

    it('fixed, then back: alerted again', async () => {
      demoChanges.registerAuthenticator(demo.tenant(), joiner, now());
      advance(61);
      await watchman.tick();
      const [fixed] = await store.watch.findings(demo.tenantId, [mfaKey(joiner)]);
      assert.ok(fixed.resolvedAt, 'resolved when the scan no longer sees it');
      demoChanges.removeSecondFactors(demo.tenant(), joiner);
      advance(61);
      await watchman.tick();
      assert.equal(delivered.length, 2);
      assert.ok(delivered[1].findingKeys.includes(mfaKey(joiner)));
      assert.ok(delivered[1].findingKeys.every((k) => k.includes(joiner)), delivered[1].findingKeys.join(', '));
    });

    it('acknowledged: no alert while it persists, even after a week', async () => {
      assert.ok(await store.watch.acknowledge(demo.tenantId, mfaKey(joiner), 'megan', now()));
      advance(8 * 24 * 60);
      await watchman.tick();
      assert.equal(delivered.length, 2);
    });

    it('snoozed for 7 days: alerted again when the snooze ends and it is still there', async () => {
      const second = demoChanges.addJoinerWithoutMfa(demo.tenant(), now(), { displayName: 'Tom Okafor', userPrincipalName: 'tom.okafor@northwinddental.co.uk' });
      advance(61);
      await watchman.tick();
      assert.equal(delivered.length, 3);
      assert.ok(await store.watch.snooze(demo.tenantId, mfaKey(second), new Date(now().getTime() + 7 * 86_400_000)));
      advance(3 * 24 * 60);
      await watchman.tick();
      assert.equal(delivered.length, 3, 'quiet while snoozed');
      advance(5 * 24 * 60);
      await watchman.tick();
      assert.equal(delivered.length, 4, 'alerted once the snooze is over');
      assert.deepEqual(delivered[3].findingKeys, [mfaKey(second)], 'only the snoozed finding (the others about Tom were alerted and persist)');
      advance(61);
      await watchman.tick();
      assert.equal(delivered.length, 4, 'and not again after that');
    });

    it('a new external forwarding rule and a new Global Admin arrive together in one digest', async () => {
      const before = delivered.length;
      const dana = Object.values(DEMO_USERS).find((u) => u.name.startsWith('Dana'))!;
      const lynne = DEMO_USERS.lynne;
      demoChanges.addForwardingRule(demo.tenant(), lynne.id, { displayName: 'Statements', address: 'lynne.backup@gmail.com', subjectContains: ['statement'] });
      demoChanges.addGlobalAdmin(demo.tenant(), dana.id);
      advance(61);
      await watchman.tick();
      assert.equal(delivered.length, before + 1, 'one digest');
      const keys = delivered.at(-1)!.findingKeys;
      assert.ok(keys.some((k) => k.startsWith('mail.forwarding|')), `forwarding rule alerted: ${keys.join(', ')}`);
      assert.ok(keys.some((k) => k.startsWith('admins.count|')), `new Global Admin alerted: ${keys.join(', ')}`);
      assert.ok(keys.some((k) => k.includes(dana.id.toLowerCase())), 'the alert is about Dana');
      delivered.splice(before); // keep later counts as they were
    });

    it('a check that cannot read (missing permission) does not mark its findings resolved', async () => {
      const before = (await store.watch.findings(demo.tenantId)).filter((f) => f.checkId === 'mfa.registration').length;
      demo.knobs.grantedRoles = ['User.Read.All', 'Directory.Read.All'];
      advance(61);
      await watchman.tick();
      demo.knobs.grantedRoles = 'all';
      const after = (await store.watch.findings(demo.tenantId)).filter((f) => f.checkId === 'mfa.registration').length;
      assert.equal(after, before);
      assert.equal(delivered.length, 4, `and nothing is alerted when the permission comes back: ${delivered.slice(4).map((d) => d.findingKeys.join(', ')).join(' / ')}`);
      advance(61);
      await watchman.tick();
      assert.equal(delivered.length, 4);
    });
  });
}
