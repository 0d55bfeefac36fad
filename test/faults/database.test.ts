/**
 * PostgreSQL restarts under a running Vigil (the real server process is stopped and started):
 * in the middle of an approval — after the Graph write, before the result is stored — and in the
 * middle of a scheduled scan. No request is lost, nothing is executed twice, and the bot carries
 * on without being restarted. (A bot killed with SIGKILL between approval and execution is
 * reconciled on restart: test/remediation/concurrency.test.ts, "a bot process killed (SIGKILL)
 * after the write", on a shared PostgreSQL database.)
 *
 * The server restarted is a private throwaway cluster (support/postgres.ts), so other test runs
 * sharing the machine's PostgreSQL are not disturbed; `npm run test:soak` restarts the shared one.
 */
import { strict as assert } from 'node:assert';
import { DEMO_USERS, demoChanges, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { startVigil, type Vigil } from '../../bot/index';
import { actionsIn, FakeTeams, textOf } from '../support/fakeTeams';
import { alex, megan, userTarget, writesIn } from '../remediation/support/harness';
import { privatePostgres, sharedPostgres, type RestartablePostgres } from './support/postgres';

const SHARED = process.env.VIGIL_TEST_RESTART_SHARED_PG === '1';

describe(`faults: PostgreSQL restarts under a running bot (${SHARED ? 'the shared server' : 'a private server'})`, function () {
  this.timeout(120_000);
  let pg: RestartablePostgres | undefined;
  let demo: DemoTenant;
  let vigil: Vigil;
  let teams: FakeTeams;
  let clock = Date.now();
  const now = () => new Date(clock);
  let onWrite: (() => Promise<void>) | undefined;
  let restarting: Promise<void> | undefined;

  before(async function () {
    pg = SHARED && process.env.DATABASE_URL ? await sharedPostgres(process.env.DATABASE_URL) : await privatePostgres();
    if (!pg) {
      if (process.env.CI) throw new Error('PostgreSQL server binaries are needed for this test (CI installs them)');
      console.log('      skipped: no PostgreSQL server binaries on this machine');
      this.skip();
    }
    demo = await startDemoTenant();
    vigil = await startVigil({
      env: { PORT: '0', LOG_LEVEL: 'silent', SCAN_POLL_SECONDS: '0', SCAN_LEASE_SECONDS: '60', DATABASE_URL: pg!.url },
      demoTenant: demo,
      now,
      afterWrite: async () => {
        const hook = onWrite;
        onWrite = undefined;
        await hook?.();
      },
    });
    teams = new FakeTeams(vigil.url, demo.tenantId);
    await teams.start();
    assert.equal((await teams.say(megan, 'use this channel for approvals', teams.channel())).status, 200);
    await teams.say(megan, 'help');
  });

  after(async () => {
    await restarting?.catch(() => undefined);
    await teams?.stop();
    await vigil?.stop().catch(() => undefined);
    await demo?.close();
    await pg?.close();
  });

  const events = async (requestId: string) => (await vigil.store.audit.forRequest(requestId)).map((r) => r.event);

  async function requestFix(userId: string): Promise<string> {
    const out = await vigil.workflow.request({ tenantId: demo.tenantId, actionId: 'mfa.require', targets: [userTarget(demo, userId)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(out.ok);
    return out.record.id;
  }
  const approve = (requestId: string) => teams.click(megan, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId } }, teams.channel());

  it('restarted after the Graph write, before the result is stored: settled once, no second write, no bot restart', async () => {
    const requestId = await requestFix(DEMO_USERS.chloe.id);
    const mark = demo.requests.length;
    // The database goes away right after the write and comes back 2 s later.
    onWrite = async () => {
      restarting = pg!.restart(2000);
    };
    const res = await approve(requestId);
    await restarting;
    assert.equal(writesIn(demo.requests.slice(mark)).length, 1, 'one Graph write');
    // Storing the result waits out the restart (retried 0.25 s, 0.5 s, 1 s …): the click itself
    // settles the request and is answered normally, no sweep after the 5-minute lease needed.
    assert.equal(res.status, 200, `the click was answered (${res.status})`);
    const record = await vigil.store.approvals.get(requestId);
    const settledBy = record!.state === 'executing' ? 'nobody yet' : 'the click itself';
    console.log(`      click answered ${res.status}; settled by ${settledBy}: ${record!.state}${record!.result?.reconciled ? ' (confirmed in place by reading back)' : ''}`);
    assert.equal(record!.state, 'succeeded', `state ${record!.state}`);
    assert.deepEqual(await events(requestId), ['requested', 'approved', 'execution-started', 'succeeded'], 'each step recorded once');
    assert.equal(writesIn(demo.requests.slice(mark)).length, 1, 'still one Graph write');
    const again = await approve(requestId);
    assert.match(textOf(again.body?.value) || String(again.body?.value), /already succeeded/);
  });

  it('an Approve clicked while the database is down is not lost: it can be clicked again, and runs once', async () => {
    const requestId = await requestFix(DEMO_USERS.mohammed.id);
    const mark = demo.requests.length;
    restarting = pg!.restart(2500);
    const during = await approve(requestId);
    await restarting;
    const after = await approve(requestId);
    assert.ok([200, 500].includes(during.status), `answered (${during.status})`);
    console.log(`      click while down answered ${during.status} (${String(during.body?.value ?? during.body?.error ?? '').slice(0, 60)}); clicked again: ${textOf(after.body?.value).split('\n')[0].slice(0, 60)}`);
    assert.equal(after.status, 200);
    const record = await vigil.store.approvals.get(requestId);
    assert.equal(record!.state, 'succeeded');
    assert.equal(writesIn(demo.requests.slice(mark)).length, 1, 'one Graph write');
    assert.deepEqual(await events(requestId), ['requested', 'approved', 'execution-started', 'succeeded']);
  });

  it('restarted in the middle of a scheduled scan: the scan completes (now or on the next tick), one alert, no duplicate', async () => {
    assert.equal(await vigil.watchman.tick(), 1, 'baseline');
    demoChanges.addJoinerWithoutMfa(demo.tenant(), now(), { displayName: 'Nadia Rahman', userPrincipalName: 'nadia.rahman@northwinddental.co.uk', createdDaysAgo: 2 });
    clock += 61 * 60_000;
    demo.knobs.latencyMs = 20; // a scan long enough to be in the middle of
    const alertsBefore = (await vigil.store.watch.alertHistory(demo.tenantId, 100)).length;
    const mark = demo.requests.length;
    const scanning = vigil.watchman.tick().catch((err: Error) => err);
    // In the middle: once the scan has made a few dozen Graph reads.
    while (demo.requests.length < mark + 30) await new Promise((r) => setTimeout(r, 5));
    // Down long enough for the scan to finish its reads and try to commit while there is no database.
    restarting = pg!.restart(6000);
    const first = await scanning;
    await restarting;
    demo.knobs.latencyMs = 0;
    // If the scan could not commit, its job is retried once its lease (60 s) is over.
    clock += 2 * 60_000;
    await vigil.watchman.tick();
    clock += 2 * 60_000;
    await vigil.watchman.tick();
    console.log(`      scan interrupted: first tick ${first instanceof Error ? `failed (${first.message.slice(0, 60)})` : `${first} scan(s) committed`}`);
    const alerts = (await vigil.store.watch.alertHistory(demo.tenantId, 100)).slice(0, -alertsBefore || undefined);
    const about = alerts.filter((a) => a.findingKeys.some((k) => k.includes('nadia') || k.startsWith('mfa.registration|')));
    assert.equal(about.length, 1, `one alert about the new joiner (first tick: ${first instanceof Error ? first.message : first})`);
    const delivered = teams.sent.filter((s) => s.conversationId === teams.channel().id && /Nadia Rahman/.test(textOf(s.activity.attachments?.[0]?.content)));
    assert.equal(delivered.length, 1, 'posted once');
  });

  it('afterwards the bot answers as before, without having been restarted', async () => {
    const res = await teams.say(alex, 'who lacks MFA?');
    assert.equal(res.status, 200);
    const card = teams.lastCard(teams.personal(alex).id)!;
    assert.match(textOf(card), /enabled member accounts have no MFA/);
    assert.ok(actionsIn(card).some((a) => a.verb === 'vigil.fix'));
  });
});
