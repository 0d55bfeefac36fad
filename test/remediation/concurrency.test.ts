/**
 * Exactly once. 50 simultaneous Approve invokes on one request execute it once — in one bot
 * process, and split across two bot processes (separate Node processes) sharing one PostgreSQL
 * database. A crash between "executing" and "done" is settled after a restart by reading the
 * target back, never by writing again.
 */
import { strict as assert } from 'node:assert';
import { DEMO_USERS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import type { TargetResult } from '../../bot/remediation/types';
import type { ActionTarget, ApprovalRecord, Store } from '../../bot/store';
import { actionsIn, FakeTeams, textOf, type TeamsUser } from '../support/fakeTeams';
import { sharedSchema, startBotProcess, type BotProcess, type SharedSchema } from './support/processes';
import { actor, alex, megan, patti, startHarness, userTarget, writesIn, type Harness } from './support/harness';

const CLICKS = 50;
const approve = (requestId: string) => ({ verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId } });

/** Invoice rule of Dana's as a "delete rule" target (high risk: two approvers). */
function invoiceRule(demo: DemoTenant): ActionTarget {
  const rule = demo.tenant().findUser(DEMO_USERS.dana.id)!.inboxRules.find((r) => r.displayName === 'Invoices')!;
  return { id: rule.id, displayName: 'Invoices', detail: DEMO_USERS.dana.upn, userId: DEMO_USERS.dana.id };
}

/** Fire `CLICKS` Approve invokes at once, alternating Megan and Patti, round-robin over the bot endpoints. */
async function clickStorm(endpoints: FakeTeams[], requestId: string): Promise<Array<{ status: number; body: any }>> {
  const who: TeamsUser[] = [megan, patti];
  return Promise.all(Array.from({ length: CLICKS }, (_, i) => endpoints[i % endpoints.length].click(who[i % 2], approve(requestId), endpoints[0].channel())));
}

async function executions(store: Store, requestId: string): Promise<string[]> {
  return (await store.audit.forRequest(requestId)).map((r) => r.event).filter((e) => ['approved', 'execution-started', 'succeeded', 'failed'].includes(e));
}

describe('exactly once: 50 simultaneous approvals in one bot process', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.teams.say(patti, 'help');
  });
  after(async () => h?.close());

  it(`${CLICKS} Approve clicks on a Require MFA request → one execution, one Graph write`, async () => {
    h.demo.reset();
    const out = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'mfa.require', targets: [userTarget(h.demo, DEMO_USERS.chloe.id)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(out.ok);
    const mark = h.demo.requests.length;
    const responses = await clickStorm([h.teams], out.record.id);
    assert.ok(responses.every((r) => r.status === 200), 'every click answered 200');
    const writes = h.writesSince(mark);
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [`PATCH /users/${DEMO_USERS.chloe.id}/authentication/requirements`]);
    assert.deepEqual(await executions(h.vigil.store, out.record.id), ['approved', 'execution-started', 'succeeded']);
    assert.equal((await h.vigil.store.approvals.get(out.record.id))!.approvals.length, 1, 'one approval recorded');
    console.log(`      single process: ${CLICKS} clicks → ${writes.length} Graph write, ${(await executions(h.vigil.store, out.record.id)).filter((e) => e === 'execution-started').length} execution`);
  });

  it(`${CLICKS} clicks on a high-risk request (two approvers) → two approvals, one execution, one Graph write`, async () => {
    h.demo.reset();
    const out = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'rule.delete', targets: [invoiceRule(h.demo)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(out.ok);
    const mark = h.demo.requests.length;
    await clickStorm([h.teams], out.record.id);
    assert.equal(h.writesSince(mark).filter((w) => w.method === 'DELETE').length, 1);
    assert.equal(h.writesSince(mark).length, 1);
    const record = (await h.vigil.store.approvals.get(out.record.id))!;
    assert.equal(record.state, 'succeeded');
    assert.deepEqual(record.approvals.map((a) => a.approverName).sort(), ['Megan Bowen', 'Patti Fernandez']);
  });
});

describe('restart after a crash between "executing" and "done"', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ approvalsChannel: false });
  });
  after(async () => h?.close());

  class InjectedCrash extends Error {}

  it('the write happened, the result was never stored: a restart reads it back and settles it, with no second write', async () => {
    h.demo.reset();
    await h.vigil.stop();
    let vigil = await h.restart({
      afterWrite: async () => {
        throw new InjectedCrash('process died after the Graph write');
      },
    });
    const out = await vigil.workflow.request({ tenantId: h.tenantId, actionId: 'mfa.require', targets: [userTarget(h.demo, DEMO_USERS.mohammed.id)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(out.ok);
    const mark = h.demo.requests.length;
    await assert.rejects(vigil.workflow.approve(out.record.id, actor(megan, h.tenantId)), InjectedCrash);
    assert.equal((await vigil.store.approvals.get(out.record.id))!.state, 'executing');
    assert.equal(h.writesSince(mark).length, 1, 'the one write happened');
    await vigil.stop();

    // Restarted at once: the dead process's lease has not run out, so nobody touches the request yet.
    vigil = await h.restart();
    assert.equal((await vigil.store.approvals.get(out.record.id))!.state, 'executing');
    await vigil.stop();

    // Restarted after the lease (5 minutes): reconciled by reading back.
    vigil = await h.restart({ now: () => new Date(Date.now() + 6 * 60_000) });
    const settled = (await vigil.store.approvals.get(out.record.id))!;
    assert.equal(settled.state, 'succeeded');
    assert.equal(settled.result!.reconciled, true);
    assert.match((settled.result!.targets as TargetResult[])[0].message, /Confirmed in place after a restart/);
    assert.equal(h.writesSince(mark).length, 1, 'still exactly one write');
    assert.deepEqual((await vigil.store.audit.forRequest(out.record.id)).map((r) => r.event), ['requested', 'approved', 'execution-started', 'succeeded']);
  });

  it('a change that is not in place after the crash is reported failed — never written again', async () => {
    h.demo.reset();
    const vigil = h.vigil;
    const out = await vigil.workflow.request({ tenantId: h.tenantId, actionId: 'user.block', targets: [userTarget(h.demo, DEMO_USERS.dana.id)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(out.ok);
    // As if a process claimed it and died before writing: approved, executing, lease long gone.
    await vigil.store.approvals.addApproval(out.record.id, { approverId: megan.aadObjectId, approverName: megan.name, at: new Date().toISOString() }, new Date());
    await vigil.store.approvals.claimExecution(out.record.id, new Date(Date.now() - 10 * 60_000), new Date(Date.now() - 5 * 60_000));
    const mark = h.demo.requests.length;
    await vigil.workflow.reconcile();
    const r = (await vigil.store.approvals.get(out.record.id))!;
    assert.equal(r.state, 'failed');
    assert.match((r.result!.targets as TargetResult[])[0].message, /not in place; it was not retried automatically/);
    assert.deepEqual(h.writesSince(mark), [], 'no write');
  });
});

const DATABASE_URL = process.env.DATABASE_URL;

describe('exactly once across two bot processes sharing one PostgreSQL database', function () {
  this.timeout(90_000);
  let demo: DemoTenant;
  let schema: SharedSchema;
  const bots: BotProcess[] = [];
  let crashing: BotProcess | undefined;
  let endpoints: FakeTeams[] = [];

  before(async function () {
    if (!DATABASE_URL) {
      // CI sets DATABASE_URL (.ci/run); these need a real server that both processes share.
      console.log('      skipped: DATABASE_URL is not set, so there is no PostgreSQL server for two processes to share');
      this.skip();
    }
    demo = await startDemoTenant();
    schema = await sharedSchema(DATABASE_URL!);
    // Two bot processes, and a third that will die right after its Graph write (started now, in parallel).
    [bots[0], bots[1], crashing] = await Promise.all([startBotProcess(demo, schema.url), startBotProcess(demo, schema.url), startBotProcess(demo, schema.url, { VIGIL_TEST_CRASH_AFTER_WRITE: '1' })]);
    const first = new FakeTeams(bots[0].url, demo.tenantId);
    await first.start();
    const second = new FakeTeams(bots[1].url, demo.tenantId);
    second.serviceUrl = first.serviceUrl; // one Teams: replies from either process land in the same place
    endpoints = [first, second];
    assert.equal((await first.say(megan, 'use this channel for approvals', first.channel())).status, 200);
    await second.say(patti, 'help');
  });

  after(async () => {
    await Promise.all([...bots, ...(crashing ? [crashing] : [])].map((b) => b.stop()));
    await endpoints[0]?.stop();
    await schema?.drop();
    await demo?.close();
  });

  async function request(store: Store, actionId: string, target: ActionTarget, requiredApprovals: number): Promise<ApprovalRecord> {
    const now = new Date();
    return store.approvals.create({
      id: `conc_${Date.now()}_${Math.random().toString(36).slice(2, 10)}`,
      tenantId: demo.tenantId,
      actionId,
      targets: [target],
      params: {},
      summary: `${actionId} for ${target.displayName}`,
      requesterId: alex.aadObjectId,
      requesterName: alex.name,
      requesterRef: null,
      requiredApprovals,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60 * 60_000),
    });
  }

  it(`Require MFA asked in chat on process 1; ${CLICKS} Approve clicks split over both processes → one execution`, async () => {
    const [first] = endpoints;
    await first.say(alex, 'who lacks MFA?');
    const fix = actionsIn(first.lastCard(first.personal(alex).id)).find((a) => a.verb === 'vigil.fix')!;
    const before = first.sent.length;
    await first.click(alex, fix);
    const posted = first.sent.slice(before).find((s) => s.method === 'POST' && s.conversationId === first.channel().id)!;
    const requestId = String(posted.activity.attachments[0].content.refresh.action.data.requestId);
    const target = (await schema.store.approvals.get(requestId))!.targets[0];
    const mark = demo.requests.length;
    const responses = await clickStorm(endpoints, requestId);
    assert.ok(responses.every((r) => r.status === 200));
    const writes = writesIn(demo.requests.slice(mark));
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [`PATCH /users/${target.id}/authentication/requirements`]);
    const events = await executions(schema.store, requestId);
    assert.deepEqual(events, ['approved', 'execution-started', 'succeeded']);
    assert.ok(responses.some((r) => /— done/.test(textOf(r.body?.value))), 'one of the clicks got "done" back');
    console.log(`      two processes: ${CLICKS} clicks (${CLICKS / 2} per process) → ${writes.length} Graph write, ${events.filter((e) => e === 'execution-started').length} execution`);
  });

  it(`a high-risk request (two approvers); ${CLICKS} clicks split over both processes → one execution, one DELETE`, async () => {
    const record = await request(schema.store, 'rule.delete', invoiceRule(demo), 2);
    const mark = demo.requests.length;
    await clickStorm(endpoints, record.id);
    const writes = writesIn(demo.requests.slice(mark));
    assert.deepEqual(writes.map((w) => w.method), ['DELETE']);
    const done = (await schema.store.approvals.get(record.id))!;
    assert.equal(done.state, 'succeeded');
    assert.equal(done.approvals.length, 2);
    assert.deepEqual(await executions(schema.store, record.id), ['approved', 'execution-started', 'succeeded']);
  });

  it('a bot process killed (SIGKILL) after the write: another process, past the lease, settles it by reading back — one write', async () => {
    const record = await request(schema.store, 'user.block', userTarget(demo, DEMO_USERS.gareth.id), 1);
    const teams = new FakeTeams(crashing!.url, demo.tenantId);
    teams.serviceUrl = endpoints[0].serviceUrl;
    const mark = demo.requests.length;
    await teams.click(megan, approve(record.id), teams.channel()).catch(() => undefined); // the connection dies with the process
    assert.equal(await crashing!.exited, 'SIGKILL');
    assert.equal((await schema.store.approvals.get(record.id))!.state, 'executing');
    assert.equal(writesIn(demo.requests.slice(mark)).length, 1);
    const restarted = await startBotProcess(demo, schema.url, { VIGIL_TEST_CLOCK_OFFSET_MS: String(6 * 60_000) });
    try {
      const settled = (await schema.store.approvals.get(record.id))!;
      assert.equal(settled.state, 'succeeded');
      assert.equal(settled.result!.reconciled, true);
      assert.deepEqual(writesIn(demo.requests.slice(mark)).map((w) => `${w.method} ${w.path}`), [`PATCH /users/${DEMO_USERS.gareth.id}`]);
    } finally {
      await restarted.stop();
    }
  });
});
