/**
 * Incremental reads in scheduled scans, against the demo tenant over HTTPS (real Graph SDK and
 * @azure/identity) and a real database: the first scan reads the users in a full `/users/delta`
 * round, a scan of the unchanged tenant makes one `/users/delta` request for them, joiners and
 * leavers arrive through delta, and an old link, Graph's "sync state not found" and its 410
 * synchronization reset each lead to a full round again. Findings always match a scan that lists
 * the users from Graph directly. Nothing is mocked.
 *
 * The demo has a clock of its own here, so Graph's expiry of a link can be shown apart from
 * Vigil's own seven-day rule.
 */
import { strict as assert } from 'node:assert';
import { CheckRunner } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { demoChanges, startDemoTenant, type DemoTenant, type RecordedRequest } from '../../bot/demo';
import { connectGraph, type GraphConnection } from '../../bot/graph/connect';
import { snapshotQuery, withUserSnapshot } from '../../bot/graph/userSnapshot';
import type { UsersSyncResult } from '../../bot/graph/usersDelta';
import { openStore, type AlertRecord, type Store } from '../../bot/store';
import { findingKey, scanTenant } from '../../bot/watch/scanner';
import { Watchman } from '../../bot/watch/watchman';
import { engines } from '../support/databases';

const DAY = 86_400_000;

for (const engine of engines()) {
  describe(`scheduled scans read users incrementally (/users/delta) on ${engine.name}`, function () {
    this.timeout(60_000);
    let clock = new Date('2026-11-22T09:00:00Z');
    let demoClock = clock;
    const now = () => clock;
    const advance = (minutes: number) => {
      clock = new Date(clock.getTime() + minutes * 60_000);
      demoClock = new Date(demoClock.getTime() + minutes * 60_000);
    };
    let demo: DemoTenant;
    let connection: GraphConnection;
    let store: Store;
    let runner: CheckRunner;
    let watchman: Watchman;
    const delivered: AlertRecord[] = [];
    const syncs: UsersSyncResult[] = [];
    const log = {
      info(obj: object, msg: string) {
        if (msg === 'users snapshot synced') syncs.push(obj as UsersSyncResult);
      },
      warn(obj: object, msg: string) {
        throw new Error(`unexpected warning: ${msg} ${JSON.stringify(obj)}`);
      },
    };

    before(async () => {
      demo = await startDemoTenant({ now: () => demoClock });
      connection = await connectGraph(loadConfig({}), { demoTenant: demo, now });
      store = await engine.open();
      runner = new CheckRunner((t) => connection.connectTenant(t), now);
      watchman = new Watchman({
        store,
        runner,
        tenants: async () => [{ tenantId: demo.tenantId, intervalMinutes: 60, alertsPaused: false }],
        alerts: {
          async deliver(alert) {
            delivered.push(alert);
            await store.watch.markAlert(alert.id, 'sent', { at: now() });
          },
        },
        log,
        now,
        incrementalUsers: true,
      });
    });
    after(async () => {
      await store?.close();
      await demo?.close();
    });

    /** One scheduled scan; what it asked Graph for its users. */
    async function scan(): Promise<{ delta: RecordedRequest[]; listings: RecordedRequest[]; sync: UsersSyncResult }> {
      demo.requests.length = 0;
      const before = syncs.length;
      advance(61);
      assert.equal(await watchman.tick(), 1, 'one scan ran');
      assert.equal(syncs.length, before + 1, 'the users were synced once in the scan');
      const top = demo.requests.filter((r) => !r.inBatch);
      return {
        delta: top.filter((r) => r.path.toLowerCase() === '/users/delta'),
        // Listing users from Graph (top-level GET /users): what the snapshot saves.
        listings: top.filter((r) => r.path.toLowerCase() === '/users'),
        sync: syncs.at(-1)!,
      };
    }

    /** What a scan that lists users from Graph itself finds now (the truth to compare with). */
    async function plainFindings(): Promise<string[]> {
      return [...new Set((await scanTenant(runner, demo.tenantId)).current.map((c) => c.key))].sort();
    }

    async function openFindings(): Promise<string[]> {
      return (await store.watch.findings(demo.tenantId)).filter((f) => !f.resolvedAt).map((f) => f.key).sort();
    }

    async function snapshotIds(): Promise<string[]> {
      const ids: string[] = [];
      for await (const page of store.directoryUsers.pages(demo.tenantId, {}, 7)) ids.push(...page.map((u) => String(u.id)));
      return ids;
    }

    const usersNow = () => [...demo.tenant().userRecords.values()].map((r) => r.user.id).sort();
    const pagesOfAll = () => Math.ceil(demo.tenant().userRecords.size / demo.knobs.maxPageSize);

    it('the first scan reads the users in one full delta round (paged) and lists none', async () => {
      const { delta, listings, sync } = await scan();
      assert.equal(sync.kind, 'full');
      assert.equal(sync.reason, 'first');
      assert.ok(pagesOfAll() > 1, 'the round is paged (demo page size 10)');
      assert.equal(delta.length, pagesOfAll(), 'every page of the round, once');
      assert.deepEqual(listings, [], 'no check listed users from Graph');
      assert.deepEqual(await snapshotIds(), usersNow(), 'the snapshot holds every user, in id order');
      assert.deepEqual(await openFindings(), await plainFindings(), 'the same findings as reading Graph directly');
    });

    it('a scan of the unchanged tenant makes exactly one /users/delta request for users, with the same findings', async () => {
      const findings = await openFindings();
      const { delta, listings, sync } = await scan();
      assert.equal(delta.length, 1);
      assert.match(Object.keys(delta[0].query).join(','), /\$deltatoken/i, 'it followed the stored deltaLink');
      assert.deepEqual(listings, []);
      assert.deepEqual(sync, { ...sync, kind: 'incremental', requests: 1, changed: 0, removed: 0 });
      assert.deepEqual(await openFindings(), findings);
      assert.equal(delivered.length, 0, 'nothing new, nothing alerted');
    });

    let joiner: string;
    it('a joiner without MFA arrives through delta and is alerted as before', async () => {
      joiner = demoChanges.addJoinerWithoutMfa(demo.tenant(), demoClock, { displayName: 'Nadia Rahman', userPrincipalName: 'nadia.rahman@northwinddental.co.uk', createdDaysAgo: 2 });
      const { delta, listings, sync } = await scan();
      assert.equal(delta.length, 1);
      assert.deepEqual(listings, []);
      assert.equal(sync.changed, 1);
      assert.ok((await snapshotIds()).includes(joiner), 'the joiner is in the snapshot');
      assert.equal(delivered.length, 1);
      const mfaKey = findingKey('mfa.registration', { severity: 'medium', subject: { id: joiner, displayName: '' }, detail: '', remediation: null });
      assert.ok(delivered[0].findingKeys.includes(mfaKey), 'the joiner is alerted');
      assert.ok(delivered[0].findingKeys.every((k) => k.includes(joiner)), `only findings about the joiner are new: ${delivered[0].findingKeys.join(', ')}`);
      // Checks that list users (MFA enforcement, methods, forwarding) saw the joiner through the snapshot.
      assert.ok(delivered[0].findingKeys.some((k) => !k.startsWith('mfa.registration|')), 'a check listing users found the joiner too');
      assert.deepEqual(await openFindings(), await plainFindings());
    });

    it('a removed user disappears: removed through delta, their findings resolved', async () => {
      demoChanges.removeUser(demo.tenant(), joiner);
      const { delta, sync } = await scan();
      assert.equal(delta.length, 1);
      assert.equal(sync.removed, 1);
      assert.ok(!(await snapshotIds()).includes(joiner), 'gone from the snapshot');
      assert.deepEqual(await snapshotIds(), usersNow());
      const open = await openFindings();
      assert.ok(open.every((k) => !k.includes(joiner)), 'no open finding about them');
      assert.deepEqual(open, await plainFindings());
    });

    it('a changed user is merged into the snapshot (a disabled account leaves the enabled listings)', async () => {
      const id = usersNow().find((u) => demo.tenant().findUser(u)!.user.accountEnabled && demo.tenant().findUser(u)!.user.userType === 'Member')!;
      demo.tenant().findUser(id)!.user.accountEnabled = false;
      const { delta, sync } = await scan();
      assert.equal(delta.length, 1);
      assert.equal(sync.changed, 1);
      const enabled: string[] = [];
      for await (const page of store.directoryUsers.pages(demo.tenantId, { accountEnabled: true })) enabled.push(...page.map((u) => String(u.id)));
      assert.ok(!enabled.includes(id));
      assert.deepEqual(await openFindings(), await plainFindings());
      demo.tenant().findUser(id)!.user.accountEnabled = true;
      await scan();
    });

    it('a link older than 7 days is not followed: a full round replaces the snapshot', async () => {
      // A user deleted while no link is valid: only a full round can notice.
      const leaver = usersNow().find((u) => !demo.tenant().isAdmin(u))!;
      clock = new Date(clock.getTime() + 8 * DAY);
      demoClock = new Date(demoClock.getTime() + 8 * DAY);
      demoChanges.removeUser(demo.tenant(), leaver);
      const { delta, sync } = await scan();
      assert.equal(sync.kind, 'full');
      assert.equal(sync.reason, 'expired');
      assert.equal(delta.length, pagesOfAll());
      assert.ok(delta.every((r) => !Object.keys(r.query).some((k) => /deltatoken/i.test(k))), 'the old link was not tried');
      assert.deepEqual(await snapshotIds(), usersNow(), 'the leaver is gone from the snapshot');
      assert.deepEqual(await openFindings(), await plainFindings());
    });

    it("Graph's syncStateNotFound (its link expired by its clock) leads to a full round", async () => {
      demoClock = new Date(demoClock.getTime() + 8 * DAY); // Vigil's clock says the link is fresh
      const { delta, sync } = await scan();
      assert.equal(sync.kind, 'full');
      assert.equal(sync.reason, 'resync');
      assert.equal(delta[0].status, 400, 'the link was refused');
      assert.equal(delta.length, 1 + pagesOfAll());
      assert.deepEqual(await snapshotIds(), usersNow());
      const again = await scan();
      assert.equal(again.sync.kind, 'incremental', 'then incremental again');
      assert.equal(again.delta.length, 1);
    });

    it("Graph's synchronization reset (410 Gone) leads to a full round", async () => {
      demoChanges.synchronizationReset(demo.tenant());
      const { delta, sync } = await scan();
      assert.equal(sync.reason, 'resync');
      assert.equal(delta[0].status, 410);
      assert.equal(delta.length, 1 + pagesOfAll());
      assert.deepEqual(await openFindings(), await plainFindings());
    });
  });
}

describe('the users snapshot view', () => {
  it('answers only the listings it can answer exactly; everything else goes to Graph', () => {
    const q = (query: Record<string, string | number>, path = '/users', version?: 'v1.0' | 'beta') => snapshotQuery(path, { query, version });
    assert.deepEqual(q({ $filter: 'accountEnabled eq true', $select: 'id,displayName,userPrincipalName,userType', $top: 999 }), {
      filter: { accountEnabled: true },
      select: ['id', 'displayName', 'userPrincipalName', 'userType'],
      pageSize: 999,
    });
    assert.deepEqual(q({ $filter: "accountEnabled eq true and userType eq 'Member'", $select: 'id' })?.filter, { accountEnabled: true, userType: 'Member' });
    assert.deepEqual(q({ $filter: "userType eq 'Member'", $select: 'ID,Mail' })?.select, ['id', 'mail']);
    assert.deepEqual(q({ $select: 'id,createdDateTime,assignedLicenses' })?.filter, {});
    // Not answerable: Graph's default properties, untracked properties, other filters, other parameters, beta, other paths.
    assert.equal(q({ $filter: 'accountEnabled eq true' }), undefined);
    assert.equal(q({ $select: 'id,jobTitle' }), undefined);
    assert.equal(q({ $filter: "startswith(displayName,'a')", $select: 'id' }), undefined);
    assert.equal(q({ $filter: "accountEnabled eq true or userType eq 'Member'", $select: 'id' }), undefined);
    assert.equal(q({ $filter: 'accountEnabled eq true and accountEnabled eq false', $select: 'id' }), undefined);
    assert.equal(q({ $filter: "id in ('a','b')", $select: 'id' }), undefined);
    assert.equal(q({ $select: 'id', $count: 'true' }), undefined);
    assert.equal(q({ $select: 'id' }, '/users', 'beta'), undefined);
    assert.equal(q({ $select: 'id' }, '/groups'), undefined);
  });

  it('passes reads through to Graph when the sync fails, and serves the same users when it works', async () => {
    const demo = await startDemoTenant();
    const connection = await connectGraph(loadConfig({}), { demoTenant: demo });
    const store = await openStore({});
    try {
      const graph = connection.connectTenant(demo.tenantId);
      const query = { $filter: "accountEnabled eq true and userType eq 'Member'", $select: 'id,displayName,userPrincipalName', $top: 999 };
      const direct = await graph.all<{ id: string }>('/users', { query });
      // A failing sync (the delta endpoint answers 500 every time): the view reads Graph instead.
      demo.knobs.faults = [{ match: 'GET /v1.0/users/delta', kind: 'status', status: 500, count: 100 }];
      const outcomes: Array<UsersSyncResult | Error> = [];
      const failing = withUserSnapshot(graph, store.directoryUsers, { onSync: (r) => outcomes.push(r) });
      assert.deepEqual(await failing.all('/users', { query }), direct);
      assert.ok(outcomes[0] instanceof Error);
      demo.knobs.faults = [];
      const working = withUserSnapshot(graph, store.directoryUsers);
      const served = await working.all<{ id: string }>('/users', { query });
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      assert.deepEqual([...served].sort(byId), [...direct].sort(byId));
      // Paged as asked.
      const sizes: number[] = [];
      for await (const page of working.pages('/users', { query: { ...query, $top: 5 } })) sizes.push(page.length);
      assert.equal(sizes.reduce((a, b) => a + b, 0), direct.length);
      assert.ok(sizes.every((n) => n <= 5) && sizes.length > 1);
    } finally {
      await store.close();
      await demo.close();
    }
  });
});
