/**
 * The approval workflow as Teams drives it (FakeTeams over HTTP into the real Vigil): who sees
 * which buttons, every server-side refusal with zero Graph writes asserted on the demo tenant's
 * request log, cancel, expiry, bulk, the audit trail and its CSV, read-only mode.
 */
import { strict as assert } from 'node:assert';
import { literal } from '../../cards';
import { DEMO_TENANT_ID, DEMO_USERS } from '../../bot/demo';
import type { TargetResult } from '../../bot/remediation/types';
import type { ActionTarget, ApprovalRecord } from '../../bot/store';
import { assertValidTeamsCard } from '../support/cardSchema';
import { actionsIn, FakeTeams, textOf } from '../support/fakeTeams';
import { actor, alex, lynne, megan, patti, startHarness, userTarget, type Harness } from './support/harness';

const MESSAGE = 'application/vnd.microsoft.activity.message';
const OTHER_TENANT = '11111111-2222-4333-8444-555555555555';

describe('approval workflow through Teams', function () {
  this.timeout(60_000);
  let h: Harness;
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);

  before(async () => {
    h = await startHarness({ now, env: { ALLOWED_TENANT_IDS: `${DEMO_TENANT_ID},${OTHER_TENANT}` } });
    // Patti and Alex talk to Vigil once, so Vigil knows their Teams ids (approval cards name people by them).
    await h.teams.say(patti, 'help');
    await h.teams.say(alex, 'help');
  });
  after(async () => h?.close());

  const approve = (requestId: string) => ({ verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId } });
  const reject = (requestId: string) => ({ verb: 'vigil.reject', data: { verb: 'vigil.reject', requestId } });
  const cancel = (requestId: string) => ({ verb: 'vigil.cancel', data: { verb: 'vigil.cancel', requestId } });
  const refresh = (requestId: string) => ({ verb: 'vigil.refresh', data: { verb: 'vigil.refresh', requestId } });
  const channel = () => h.teams.channel();
  const state = async (id: string) => (await h.vigil.store.approvals.get(id))!.state;

  /** A request made through the workflow (posted to the approvals channel like any other). */
  async function requested(actionId: string, targets: ActionTarget[], by = alex): Promise<ApprovalRecord> {
    const out = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId, targets, requester: { id: by.aadObjectId, name: by.name }, requesterRef: null });
    assert.ok(out.ok, !out.ok ? out.message : '');
    return out.record;
  }
  const mfaFor = (userId: string, by = alex) => requested('mfa.require', [userTarget(h.demo, userId)], by);

  describe('who sees what', () => {
    let record: ApprovalRecord;
    let posted: Record<string, any>;

    before(async () => {
      h.demo.reset();
      const before = h.teams.sent.length;
      record = await mfaFor(DEMO_USERS.chloe.id);
      posted = h.teams.sent.slice(before).find((s) => s.method === 'POST' && s.conversationId === channel().id)!.activity.attachments[0].content;
    });

    it('the channel card shows the status to everyone, no decision buttons, and names approvers and the requester for their own views', () => {
      assertValidTeamsCard(posted);
      assert.ok(!actionsIn(posted).some((a) => ['vigil.approve', 'vigil.reject', 'vigil.cancel'].includes(a.verb)));
      assert.equal(posted.refresh.action.verb, 'vigil.refresh');
      assert.deepEqual([...posted.refresh.userIds].sort(), [alex.id, megan.id, patti.id].sort(), 'approvers Vigil knows, then the requester');
      assert.ok(posted.refresh.userIds.length <= 60);
      const text = textOf(posted);
      assert.match(text, /Needs: Policy\.ReadWrite\.AuthenticationMethod/);
      assert.match(text, /Risk: medium/);
    });

    it('an automatic refresh gives approvers Approve / Reject, the requester Cancel, anyone else the status — and never edits the message', async () => {
      const sentBefore = h.teams.sent.length;
      const mark = h.demo.requests.length;
      const forMegan = await h.teams.click(megan, refresh(record.id), channel(), 'automatic');
      const forAlex = await h.teams.click(alex, refresh(record.id), channel(), 'automatic');
      const forLynne = await h.teams.click(lynne, refresh(record.id), channel(), 'automatic');
      const verbs = (res: { body: any }) => actionsIn(res.body.value).map((a) => a.verb).filter((v) => v !== 'vigil.refresh');
      assert.deepEqual(verbs(forMegan), ['vigil.approve', 'vigil.reject']);
      assert.deepEqual(verbs(forAlex), ['vigil.cancel']);
      assert.deepEqual(verbs(forLynne), []);
      assert.match(textOf(forLynne.body.value), /Only security approvers can approve/);
      for (const r of [forMegan, forAlex, forLynne]) assertValidTeamsCard(r.body.value);
      assert.equal(h.teams.sent.length, sentBefore, 'no message was posted or edited while answering refreshes');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('an automatic invoke never acts, whatever verb it carries', async () => {
      const mark = h.demo.requests.length;
      const res = await h.teams.click(megan, approve(record.id), channel(), 'automatic');
      assert.equal(res.status, 200);
      assert.equal(await state(record.id), 'pending');
      assert.deepEqual(h.writesSince(mark), []);
    });
  });

  describe('every refusal writes nothing to Graph', () => {
    it('self-approval: an approver cannot approve her own request', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id, megan);
      const mark = h.demo.requests.length;
      const res = await h.teams.click(megan, approve(r.id), channel());
      assert.equal(res.body.type, MESSAGE);
      assert.match(res.body.value, /someone else has to approve/);
      assert.equal(await state(r.id), 'pending');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('non-approver: a 200 message response "Only security approvers can approve"', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const mark = h.demo.requests.length;
      const res = await h.teams.click(lynne, approve(r.id), channel());
      assert.equal(res.status, 200);
      assert.equal(res.body.statusCode, 200);
      assert.equal(res.body.type, MESSAGE);
      assert.match(res.body.value, /^Only security approvers can approve/);
      assert.equal(await state(r.id), 'pending');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('approver of another tenant: the same object id arriving from another tenant finds nothing', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const elsewhere = new FakeTeams(h.vigil.url, OTHER_TENANT);
      elsewhere.serviceUrl = h.teams.serviceUrl;
      const mark = h.demo.requests.length;
      const res = await elsewhere.click(megan, approve(r.id), elsewhere.channel());
      assert.equal(res.status, 200);
      assert.equal(res.body.value, 'I cannot find that request.');
      // And straight through the workflow, as an approver of that other tenant.
      const direct = await h.vigil.workflow.approve(r.id, { id: megan.aadObjectId, name: megan.name, tenantId: OTHER_TENANT });
      assert.ok(!direct.ok);
      assert.equal(direct.refusal, 'not-found');
      assert.equal(await state(r.id), 'pending');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('expired: approving after the expiry refuses, marks the request expired and updates the card', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const mark = h.demo.requests.length;
      offsetMs = 25 * 60 * 60_000; // past the default 24 h
      try {
        const sentBefore = h.teams.sent.length;
        const res = await h.teams.click(megan, approve(r.id), channel());
        assert.match(textOf(res.body.value), /expired/);
        assert.equal(await state(r.id), 'expired');
        // (Every pending request past its time expires now, so pick this request's card.)
        const edit = h.teams.sent.slice(sentBefore).find((s) => s.method === 'PUT' && textOf(s.activity.attachments[0].content).includes(`Request: ${literal(r.id.slice(0, 8))}`));
        assert.match(textOf(edit?.activity.attachments[0].content), /Expired at .* without a decision/);
      } finally {
        offsetMs = 0;
      }
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('forged request id: "I cannot find that request."', async () => {
      const mark = h.demo.requests.length;
      for (const requestId of ['AAAAAAAAAAAAAAAAAAAAAA', "' OR 1=1 --", '', 42]) {
        const res = await h.teams.click(megan, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId } as Record<string, unknown> }, channel());
        assert.equal(res.status, 200);
        assert.equal(res.body.value, 'I cannot find that request.');
      }
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('altered data fields: nothing in the card data but the request id counts', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const mark = h.demo.requests.length;
      const gaId = [...h.demo.tenant().roleAssignments.values()].find((a) => a.principalId === DEMO_USERS.oliver.id)!.id;
      const res = await h.teams.click(
        megan,
        { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId: r.id, actionId: 'role.removeGlobalAdmin', targets: [{ id: gaId }], tenantId: OTHER_TENANT, approvals: 5 } },
        channel(),
      );
      assert.match(textOf(res.body.value), /Require MFA: succeeded/);
      const writes = h.writesSince(mark);
      assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [`PATCH /users/${DEMO_USERS.chloe.id}/authentication/requirements`], 'only the stored fix ran');
      assert.ok(h.demo.tenant().roleAssignments.has(gaId));
    });

    it('replayed approve: the second click executes nothing', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const first = await h.teams.click(megan, approve(r.id), channel());
      assert.match(textOf(first.body.value), /— done/);
      const mark = h.demo.requests.length;
      for (const who of [megan, patti]) {
        const again = await h.teams.click(who, approve(r.id), channel());
        assert.match(textOf(again.body.value), /already succeeded/);
      }
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('approve after reject: refused, nothing written', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      const mark = h.demo.requests.length;
      assert.match(textOf((await h.teams.click(megan, reject(r.id), channel())).body.value), /Rejected by Megan Bowen/);
      const res = await h.teams.click(patti, approve(r.id), channel());
      assert.match(textOf(res.body.value), /already rejected/);
      assert.equal(await state(r.id), 'rejected');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('reject after approve: refused, and the one write of the approval is all there is', async () => {
      h.demo.reset();
      const r = await mfaFor(DEMO_USERS.chloe.id);
      await h.teams.click(megan, approve(r.id), channel());
      const mark = h.demo.requests.length;
      const res = await h.teams.click(patti, reject(r.id), channel());
      assert.match(textOf(res.body.value), /already succeeded/);
      assert.equal(await state(r.id), 'succeeded');
      assert.deepEqual(h.writesSince(mark), []);
    });

    it('a high-risk fix: one approval records, a second distinct approver runs it; the same approver twice does not count', async () => {
      h.demo.reset();
      const rule = h.demo.tenant().findUser(DEMO_USERS.dana.id)!.inboxRules.find((x) => x.displayName === 'Invoices')!;
      const r = await requested('rule.delete', [{ id: rule.id, displayName: 'Invoices', detail: DEMO_USERS.dana.upn, userId: DEMO_USERS.dana.id }]);
      assert.equal(r.requiredApprovals, 2);
      const mark = h.demo.requests.length;
      const first = await h.teams.click(megan, approve(r.id), channel());
      assert.match(textOf(first.body.value), /Approval recorded; 1 more approver needed/);
      assert.ok(!actionsIn(first.body.value).some((a) => a.verb === 'vigil.approve'), 'no second Approve for Megan');
      assert.match(textOf((await h.teams.click(megan, approve(r.id), channel())).body.value), /already approved/);
      assert.deepEqual(h.writesSince(mark), [], 'nothing runs on one approval');
      const second = await h.teams.click(patti, approve(r.id), channel());
      assert.match(textOf(second.body.value), /Approved by Megan Bowen and Patti Fernandez at .* — done/);
      assert.equal(h.writesSince(mark).length, 1);
    });
  });

  describe('cancel', () => {
    it('the requester gets a Cancel button with "Sent for approval", and only the requester can cancel', async () => {
      h.demo.reset();
      await h.teams.say(alex, 'who lacks MFA?');
      const card = h.teams.lastCard(h.teams.personal(alex).id)!;
      const fix = actionsIn(card).find((a) => a.verb === 'vigil.fix')!;
      const res = await h.teams.click(alex, fix);
      assertValidTeamsCard(res.body.value);
      assert.match(textOf(res.body.value), /Sent for approval to Security/);
      const cancelButton = actionsIn(res.body.value).find((a) => a.verb === 'vigil.cancel')!;
      assert.ok(cancelButton, 'Cancel request button');
      assert.deepEqual(Object.keys(cancelButton.data).sort(), ['requestId', 'verb']);
      const requestId = String(cancelButton.data.requestId);
      const mark = h.demo.requests.length;
      const notMine = await h.teams.click(megan, cancelButton, channel());
      assert.equal(notMine.body.value, 'Only the person who asked can cancel a request.');
      assert.equal(await state(requestId), 'pending');
      const sentBefore = h.teams.sent.length;
      const mine = await h.teams.click(alex, cancelButton);
      assert.match(textOf(mine.body.value), /Cancelled by Alex Wilber/);
      assert.equal(await state(requestId), 'cancelled');
      assert.ok(h.teams.sent.slice(sentBefore).some((s) => s.method === 'PUT' && /Cancelled by Alex Wilber/.test(textOf(s.activity.attachments[0].content))), 'the channel card says so');
      const late = await h.teams.click(megan, approve(requestId), channel());
      assert.match(textOf(late.body.value), /already cancelled/);
      assert.deepEqual(h.writesSince(mark), []);
    });
  });

  describe('bulk', () => {
    it('"Require MFA for all N shown" makes one request for N people, runs it in $batch and reports each', async () => {
      h.demo.reset();
      await h.teams.say(alex, 'who lacks MFA?');
      const card = h.teams.lastCard(h.teams.personal(alex).id)!;
      const offers = actionsIn(card).filter((a) => a.verb === 'vigil.fix');
      const all = actionsIn(card).find((a) => a.verb === 'vigil.fixAll')!;
      assert.equal(all.title, `Require MFA for all ${offers.length} shown`);
      assert.deepEqual(Object.keys(all.data).sort(), ['ref', 'verb']);
      const before = h.teams.sent.length;
      const res = await h.teams.click(alex, all);
      assert.match(textOf(res.body.value), new RegExp(`Sent for approval to Security[^:]*: Require MFA for ${offers.length} accounts`));
      const posts = h.teams.sent.slice(before).filter((s) => s.method === 'POST' && s.conversationId === channel().id);
      assert.equal(posts.length, 1, 'one request, one card');
      const requestId = String(posts[0].activity.attachments[0].content.refresh.action.data.requestId);
      const record = (await h.vigil.store.approvals.get(requestId))!;
      assert.equal(record.targets.length, offers.length);
      const mark = h.demo.requests.length;
      const done = await h.teams.click(megan, approve(requestId), channel());
      assertValidTeamsCard(done.body.value);
      const patches = h.demo.requests.slice(mark).filter((r) => r.method === 'PATCH');
      assert.ok(patches.length >= 1 && patches.every((p) => p.inBatch));
      const results = (await h.vigil.store.approvals.get(requestId))!.result!.targets as TargetResult[];
      assert.equal(results.length, offers.length);
      assert.equal(results.filter((r) => r.outcome === 'done').length, patches.length);
      for (const r of results) assert.ok(textOf(done.body.value).includes(r.displayName), `${r.displayName} has a result line`);
    });
  });

  describe('the audit trail in chat', () => {
    it('"show recent approvals" and "audit log" list the last 20 for approvers; others are told no', async () => {
      await h.teams.say(megan, 'show recent approvals');
      const recent = h.teams.lastCard(h.teams.personal(megan).id)!;
      assertValidTeamsCard(recent);
      const text = textOf(recent);
      assert.match(text, /Recent approvals/);
      assert.match(text, /Require MFA for .* asked by Alex Wilber/);
      assert.match(text, /succeeded/);
      assert.match(text, /rejected/);
      assert.ok((recent.body as unknown[]).filter((b: any) => b.type === 'Container').length <= 20);
      await h.teams.say(megan, 'audit log');
      const log = h.teams.lastCard(h.teams.personal(megan).id)!;
      assertValidTeamsCard(log);
      assert.match(textOf(log), /Require MFA · request [^\n:]+\n[^\n]* UTC · Megan Bowen\napproved/);
      assert.match(textOf(log), /Require MFA · request [^\n:]+: cancel by someone other than the requester\n[^\n]* · Megan Bowen\nrefused/);
      await h.teams.say(lynne, 'audit log');
      assert.match(textOf(h.teams.lastCard(h.teams.personal(lynne).id)), /Only security approvers can see the audit trail/);
    });

    it('"export audit log" gives a download link to the whole trail as CSV (and offers the file in personal chat)', async () => {
      const before = h.teams.sent.length;
      await h.teams.say(megan, 'export audit log');
      const sent = h.teams.sent.slice(before).map((s) => s.activity);
      const card = sent.find((a) => a.attachments?.[0]?.contentType === 'application/vnd.microsoft.card.adaptive')!.attachments[0].content;
      assertValidTeamsCard(card);
      const consent = sent.find((a) => a.attachments?.[0]?.contentType === 'application/vnd.microsoft.teams.card.file.consent');
      assert.ok(consent, 'the file is offered with a file consent card');
      const open = (card.actions as Array<{ type: string; url: string }>).find((a) => a.type === 'Action.OpenUrl')!;
      const res = await fetch(open.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="vigil-audit-trail-\d{4}-\d\d-\d\d\.csv"/);
      const csv = await res.text();
      const lines = csv.replace(/^\ufeff/, '').trim().split('\r\n');
      assert.equal(lines[0], 'id,at,tenant_id,request_id,actor_id,actor_name,event,action,detail');
      const trail = await h.vigil.store.audit.recent(h.tenantId, 100_000);
      assert.equal(lines.length - 1, trail.length, 'every row of the trail');
      assert.ok(lines.some((l) => /,Megan Bowen,approved,mfa\.require,/.test(l)));
      assert.ok(lines.some((l) => /,succeeded,mfa\.require,/.test(l)));
      const tampered = new URL(open.url);
      tampered.searchParams.set('token', `${tampered.searchParams.get('token')!.slice(0, -2)}xx`);
      assert.equal((await fetch(tampered)).status, 403, 'a tampered link is refused');
    });

    it('the help card lists every fix with the Graph permission it needs', async () => {
      await h.teams.say(alex, 'help');
      const text = textOf(h.teams.lastCard(h.teams.personal(alex).id));
      assert.match(text, /Require MFA: Policy\.ReadWrite\.AuthenticationMethod · medium risk · 1 approver/);
      assert.match(text, /Remove Global Admin role: RoleManagement\.ReadWrite\.Directory · high risk · 2 approvers/);
      assert.match(text, /Sign out everywhere: User\.RevokeSessions\.All/);
    });
  });
});

describe('read-only mode (REMEDIATION=off)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { REMEDIATION: 'off' } });
  });
  after(async () => h?.close());

  it('shows no fix buttons, refuses fix requests and approvals, and says so in help — no writes', async () => {
    const mark = h.demo.requests.length;
    await h.teams.say(alex, 'who lacks MFA?');
    const card = h.teams.lastCard(h.teams.personal(alex).id)!;
    assert.deepEqual(actionsIn(card).filter((a) => a.verb === 'vigil.fix' || a.verb === 'vigil.fixAll'), []);
    assert.match(textOf(card), /Fixes are off \(read-only\)/);
    const out = await h.vigil.workflow.request({ tenantId: h.tenantId, actionId: 'mfa.require', targets: [userTarget(h.demo, DEMO_USERS.chloe.id)], requester: { id: alex.aadObjectId, name: alex.name }, requesterRef: null });
    assert.ok(!out.ok);
    assert.equal(out.refusal, 'off');
    const approve = await h.vigil.workflow.approve('AAAAAAAAAAAAAAAAAAAAAA', actor(megan, h.tenantId));
    assert.ok(!approve.ok);
    assert.match(approve.message, /REMEDIATION=off/);
    await h.teams.say(alex, 'help');
    assert.match(textOf(h.teams.lastCard(h.teams.personal(alex).id)), /Fixes are switched off here \(REMEDIATION=off\)/);
    assert.deepEqual(h.writesSince(mark), []);
  });
});

