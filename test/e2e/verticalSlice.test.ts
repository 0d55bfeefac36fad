/**
 * The vertical slice, end to end over HTTP: the real Vigil server (restify + CloudAdapter),
 * the real Graph SDK and @azure/identity against the demo tenant over HTTPS, the embedded
 * database. Only Teams is played (FakeTeams: see why there).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS } from '../../bot/demo';
import { actionsIn, FakeTeams, textOf, type TeamsUser } from '../support/fakeTeams';
import { assertValidTeamsCard } from '../support/cardSchema';

const asTeamsUser = (u: { id: string; name: string }): TeamsUser => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name });

describe('vertical slice: who lacks MFA → card → fix → approval → Graph write', function () {
  this.timeout(60_000);
  let vigil: Vigil;
  let teams: FakeTeams;
  let dataDir: string;
  const alex = asTeamsUser(DEMO_USERS.alex);
  const megan = asTeamsUser(DEMO_USERS.megan);
  const lynne = asTeamsUser(DEMO_USERS.lynne);

  const writes = () => vigil.demo!.requests.filter((r) => r.method !== 'GET' && !(r.method === 'POST' && /\$batch|checkMemberGroups/.test(r.path)));
  const requirementPatches = (userId?: string) =>
    vigil.demo!.requests.filter((r) => r.method === 'PATCH' && /authentication\/requirements$/.test(r.path) && (!userId || r.path.includes(userId)));

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' } });
    teams = new FakeTeams(vigil.url, vigil.demo!.tenantId);
    await teams.start();
  });

  after(async () => {
    await teams?.stop();
    await vigil?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let mfaCard: Record<string, any>;

  it('answers "who lacks MFA?" with a card listing enabled members without MFA, newest first', async () => {
    const res = await teams.say(alex, 'who lacks MFA?');
    assert.equal(res.status, 200);
    mfaCard = teams.lastCard(teams.personal(alex).id)!;
    assert.ok(mfaCard, 'a card was sent to the personal chat');
    assertValidTeamsCard(mfaCard);
    const text = textOf(mfaCard);
    assert.match(text, /\d+ of \d+ enabled member accounts have no MFA/);
    assert.match(text, /Joined 3 days ago/);
    assert.ok(text.indexOf('Joined 3 days ago') < text.indexOf('Joined 9 days ago'), 'newest joiners first');
    assert.match(text, /ADMIN/, 'admins are marked');
    assert.match(text, /guests? without MFA/, 'guests are counted separately');
    const donut = JSON.stringify(mfaCard).includes('Chart.Donut');
    assert.ok(donut, 'has a donut chart');
    const fixes = actionsIn(mfaCard).filter((a) => a.verb === 'vigil.fix');
    assert.ok(fixes.length >= 5);
    for (const f of fixes) assert.deepEqual(Object.keys(f.data).sort(), ['ref', 'verb'], 'card data carries only an opaque reference');
  });

  it('does not list disabled accounts', async () => {
    const disabled = vigil.demo!.tenant().users.filter((u: any) => u.accountEnabled === false).map((u: any) => u.displayName);
    assert.ok(disabled.length > 0);
    const text = textOf(mfaCard);
    for (const name of disabled) assert.ok(!text.includes(name), `${name} is disabled and must not be listed`);
  });

  it('a fix before any approvals channel exists explains how to set one, and changes nothing', async () => {
    const fix = actionsIn(mfaCard).find((a) => a.verb === 'vigil.fix')!;
    const res = await teams.click(alex, fix);
    assert.equal(res.status, 200);
    assert.match(textOf(res.body.value), /No approvals channel yet/);
    assert.equal(writes().length, 0);
  });

  it('only an approver can choose the approvals channel', async () => {
    await teams.say(alex, 'use this channel for approvals', teams.channel());
    assert.match(textOf(teams.lastCard(teams.channel().id)), /Only security approvers/);
    await teams.say(megan, 'use this channel for approvals', teams.channel());
    assert.match(textOf(teams.lastCard(teams.channel().id)), /This channel now receives approvals/);
  });

  let approvalMessageId: string;
  let approveAction: { verb: string; data: Record<string, unknown> };
  let target: string;

  it('clicking "Require MFA" creates an approval request, posts it to the channel, and writes nothing', async () => {
    const fix = actionsIn(mfaCard).find((a) => a.verb === 'vigil.fix')!;
    const before = teams.sent.length;
    const res = await teams.click(alex, fix);
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'application/vnd.microsoft.card.adaptive');
    assert.match(textOf(res.body.value), /Sent for approval to Security/);
    assert.match(textOf(res.body.value), /Awaiting approval/);
    const posted = teams.sent.slice(before).find((s) => s.conversationId === teams.channel().id && s.method === 'POST')!;
    assert.ok(posted, 'approval card posted to the approvals channel');
    approvalMessageId = posted.activityId;
    const card = posted.activity.attachments[0].content;
    assertValidTeamsCard(card);
    const text = textOf(card);
    assert.match(text, /Approval needed: Require MFA/);
    assert.match(text, /Asked by: Alex Wilber/);
    assert.match(text, /PATCH \/beta\/users\/.*\/authentication\/requirements/);
    assert.match(text, /Expires: /);
    // Everyone sees the status; approvers get Approve / Reject in their own view, which Teams
    // fetches through the card's refresh (Megan is named in refresh.userIds: she talked to Vigil).
    assert.ok(!actionsIn(card).some((a) => /Approve|Reject/.test(a.title)), 'no decision buttons on the card everyone sees');
    assert.ok((card.refresh?.userIds ?? []).includes(megan.id), 'Megan gets her own view automatically');
    const view = await teams.click(megan, { verb: 'vigil.refresh', data: { verb: 'vigil.refresh', requestId: card.refresh.action.data.requestId } }, teams.channel(), 'automatic');
    const acts = actionsIn(view.body.value).filter((a) => a.verb !== 'vigil.refresh');
    assert.deepEqual(acts.map((a) => a.title), ['Approve', 'Reject']);
    approveAction = acts[0];
    assert.deepEqual(Object.keys(approveAction.data).sort(), ['requestId', 'verb']);
    target = (await vigil.store.approvals.get(String(approveAction.data.requestId)))!.targets[0].id;
    assert.equal(requirementPatches().length, 0, 'nothing changes before approval');
  });

  it('the requester cannot approve, nor can a non-approver, nor a forged id — and nothing is written', async () => {
    const own = await teams.click(alex, approveAction, teams.channel());
    assert.match(own.body.value, /Only security approvers|someone else has to approve/);
    const other = await teams.click(lynne, approveAction, teams.channel());
    assert.equal(other.status, 200);
    assert.equal(other.body.type, 'application/vnd.microsoft.activity.message');
    assert.match(other.body.value, /Only security approvers/);
    const forged = await teams.click(megan, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId: 'AAAAAAAAAAAAAAAAAAAAAA' } }, teams.channel());
    assert.equal(forged.body.value, 'I cannot find that request.');
    assert.equal(requirementPatches().length, 0);
  });

  it('an approver approves: executed once, read back, channel card updated for everyone, requester told', async () => {
    const before = teams.sent.length;
    const res = await teams.click(megan, approveAction, teams.channel());
    assert.equal(res.status, 200);
    assert.match(textOf(res.body.value), /Approved by Megan Bowen at .* — done/);
    assert.equal(requirementPatches(target).length, 1, 'exactly one Graph write');
    const after = teams.sent.slice(before);
    const update = after.filter((s) => s.method === 'PUT' && s.activityId === approvalMessageId).at(-1);
    assert.ok(update, 'the channel card was edited in place');
    assert.match(textOf(update!.activity.attachments[0].content), /— done/);
    assert.equal(actionsIn(update!.activity.attachments[0].content).length, 0, 'no buttons once decided');
    const told = after.find((s) => s.conversationId === teams.personal(alex).id);
    assert.match(textOf(told!.activity.attachments[0].content), /Done: Require MFA/);
    const state = await vigil.graphFor(vigil.demo!.tenantId).get<{ perUserMfaState: string }>(`/users/${target}/authentication/requirements`, { version: 'beta' });
    assert.equal(state.perUserMfaState, 'enforced');
    const trail = await vigil.store.audit.forRequest(String(approveAction.data.requestId));
    assert.deepEqual(
      trail.map((t) => t.event).filter((e) => e !== 'refused'),
      ['requested', 'approved', 'execution-started', 'succeeded'],
    );
    const patchIndex = vigil.demo!.requests.findIndex((r) => r.method === 'PATCH' && r.path.includes(target));
    assert.ok(patchIndex > 0);
  });

  it('approving again executes nothing more', async () => {
    const res = await teams.click(megan, approveAction, teams.channel());
    assert.match(textOf(res.body.value), /already succeeded/);
    assert.equal(requirementPatches(target).length, 1);
  });

  it('a rejected request changes nothing and the requester hears about it', async () => {
    await teams.say(alex, 'which users don\u2019t have MFA');
    const card = teams.lastCard(teams.personal(alex).id)!;
    const fix = actionsIn(card).find((a) => a.verb === 'vigil.fix')!;
    const before = teams.sent.length;
    await teams.click(alex, fix);
    const posted = teams.sent.slice(before).find((s) => s.conversationId === teams.channel().id && s.method === 'POST')!;
    const requestId = String(posted.activity.attachments[0].content.refresh.action.data.requestId);
    const view = await teams.click(megan, { verb: 'vigil.refresh', data: { verb: 'vigil.refresh', requestId } }, teams.channel(), 'automatic');
    const reject = actionsIn(view.body.value).find((a) => a.title === 'Reject')!;
    const who = (await vigil.store.approvals.get(requestId))!.targets[0].id;
    const res = await teams.click(megan, reject, teams.channel());
    assert.match(textOf(res.body.value), /Rejected by Megan Bowen/);
    assert.equal(requirementPatches(who).length, 0);
    assert.equal((await vigil.store.approvals.get(requestId))!.state, 'rejected');
    const told = teams.sent.filter((s) => s.conversationId === teams.personal(alex).id).at(-1)!;
    assert.match(textOf(told.activity.attachments[0].content), /Rejected: Require MFA/);
  });

  it('anything else gets the help card, with the text shown literally', async () => {
    await teams.say(alex, 'order **pizza** ${name}');
    const card = teams.lastCard(teams.personal(alex).id)!;
    assertValidTeamsCard(card);
    const text = textOf(card);
    assert.match(text, /Vigil keeps watch/);
    assert.match(text, /who lacks MFA\?/);
    assert.ok(text.includes('order \\*\\*pizza\\*\\* ${name}'), text);
  });

  it('activities from a tenant that is not allowed get nothing', async () => {
    const stranger = new FakeTeams(vigil.url, '11111111-2222-4333-8444-555555555555');
    stranger.serviceUrl = teams.serviceUrl;
    const before = teams.sent.length;
    const res = await stranger.say(alex, 'who lacks MFA?');
    assert.equal(res.status, 200);
    assert.equal(teams.sent.length, before);
  });

  it('GET /healthz answers 200', async () => {
    const res = await fetch(`${vigil.url}/healthz`);
    assert.equal(res.status, 200);
  });
});
