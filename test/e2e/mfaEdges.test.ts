/**
 * "Who lacks MFA?" at the edges, end to end over HTTP against the demo tenant: long lists paged
 * inside the card, throttling with Retry-After, a tenant without Entra ID P1 (the slower
 * per-user fallback, said on the card), and a missing Graph permission named on the card.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS, demoChanges } from '../../bot/demo';
import { actionsIn, FakeTeams, textOf, type TeamsUser } from '../support/fakeTeams';
import { assertValidTeamsCard } from '../support/cardSchema';

describe('who lacks MFA? at the edges', function () {
  this.timeout(60_000);
  let vigil: Vigil;
  let teams: FakeTeams;
  let dataDir: string;
  let clock = Date.now();
  const alex: TeamsUser = { id: '29:alex', aadObjectId: DEMO_USERS.alex.id, name: DEMO_USERS.alex.name };
  /** Ask with a clock past the answer cache, so each question reads Graph afresh. */
  const ask = async (text = 'who lacks MFA?') => {
    clock += 5 * 60_000;
    const res = await teams.say(alex, text);
    assert.equal(res.status, 200);
    const card = teams.lastCard(teams.personal(alex).id)!;
    assertValidTeamsCard(card);
    return card;
  };
  const names = (card: unknown) => (textOf(card).match(/^Joined .*$/gm) ?? []).length;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-mfa-'));
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', SCAN_POLL_SECONDS: '0' }, now: () => new Date(clock), retryDelaySeconds: 1 });
    teams = new FakeTeams(vigil.url, vigil.demo!.tenantId);
    await teams.start();
  });
  after(async () => {
    await teams?.stop();
    await vigil?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a long list is paged inside the card with "Show more", never cut silently', async () => {
    for (let i = 0; i < 15; i++) {
      demoChanges.addJoinerWithoutMfa(vigil.demo!.tenant(), new Date(clock), { displayName: `Temp Worker ${i + 1}`, userPrincipalName: `temp${i + 1}@northwinddental.co.uk`, createdDaysAgo: 1 });
    }
    const first = await ask();
    assert.match(textOf(first), /21 of \d+ enabled member accounts have no MFA/);
    assert.match(textOf(first), /Showing 1–10 of 21/);
    assert.equal(names(first), 10);
    const more = actionsIn(first).find((a) => a.verb === 'vigil.page')!;
    assert.deepEqual(Object.keys(more.data).sort(), ['ref', 'verb']);
    const second = (await teams.click(alex, more)).body.value;
    assertValidTeamsCard(second);
    assert.match(textOf(second), /Showing 11–20 of 21/);
    const third = (await teams.click(alex, actionsIn(second).find((a) => a.verb === 'vigil.page')!)).body.value;
    assert.match(textOf(third), /Showing 21–21 of 21/);
    assert.equal(names(third), 1);
    assert.equal(actionsIn(third).filter((a) => a.verb === 'vigil.page').length, 0, 'no "Show more" on the last page');
  });

  it('throttled: waits for Retry-After and still answers', async () => {
    const demo = vigil.demo!;
    const before = demo.requests.length;
    demo.knobs.faults.push({ match: 'GET /v1.0/reports/authenticationMethods/userRegistrationDetails', kind: 'throttle', retryAfterSeconds: 1, count: 1 });
    const started = Date.now();
    const card = await ask();
    assert.match(textOf(card), /21 of \d+ enabled member accounts have no MFA/);
    const report = demo.requests.slice(before).filter((r) => r.path.endsWith('userRegistrationDetails'));
    assert.equal(report[0].status, 429);
    assert.ok(report.slice(1).some((r) => r.status === 200), 'retried and answered');
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
  });

  it('without Entra ID P1: the same people, read user by user, and the card says so', async () => {
    const withP1 = await ask();
    const demo = vigil.demo!;
    demo.knobs.licences.entraP1 = false;
    try {
      const before = demo.requests.length;
      const card = await ask();
      const text = textOf(card);
      assert.match(text, /no Entra ID P1/);
      assert.match(text, /Needs Microsoft Entra ID P1/);
      assert.match(text, /21 of \d+ enabled member accounts have no MFA/);
      assert.equal(textOf(card).match(/^[^\n]*@northwinddental[^\n]*$/gm)?.join('|'), textOf(withP1).match(/^[^\n]*@northwinddental[^\n]*$/gm)?.join('|'));
      const batches = demo.requests.slice(before).filter((r) => r.path === '/$batch' && !r.inBatch);
      const methodReads = demo.requests.slice(before).filter((r) => r.inBatch && r.path.endsWith('/authentication/methods'));
      assert.ok(methodReads.length > 20, 'methods read per user');
      assert.ok(batches.length >= Math.ceil(methodReads.length / 20), 'in $batch requests of at most 20');
    } finally {
      demo.knobs.licences.entraP1 = true;
    }
  });

  it('a missing Graph permission is named on the card', async () => {
    const demo = vigil.demo!;
    demo.knobs.grantedRoles = ['User.Read.All', 'GroupMember.Read.All'];
    try {
      const text = textOf(await ask());
      assert.match(text, /What I could not check/);
      assert.match(text, /AuditLog\.Read\.All/);
      assert.doesNotMatch(text, /Every enabled member account has MFA registered/, 'never claims all is well when it could not read');
    } finally {
      demo.knobs.grantedRoles = 'all';
    }
  });
});
