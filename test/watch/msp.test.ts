/**
 * MSP mode end to end: one Vigil, the provider's tenant (Northwind, the demo's home tenant) and
 * two customer tenants. Who sees which tenant, naming a tenant in a question, "which tenant?",
 * the registry commands, approvals and alerts about a customer tenant — and that nobody reaches
 * a tenant they are not entitled to, by question, by button, or by forged data.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type Vigil } from '../../bot/index';
import { DEMO_USERS, demoChanges } from '../../bot/demo';
import { actionsIn, FakeTeams, textOf, type TeamsUser } from '../support/fakeTeams';
import { assertValidTeamsCard } from '../support/cardSchema';

const asTeamsUser = (u: { id: string; name: string }): TeamsUser => ({ id: `29:${u.id}`, aadObjectId: u.id, name: u.name });

describe('MSP mode: several tenants, one Vigil', function () {
  this.timeout(120_000);
  let vigil: Vigil;
  let home: FakeTeams;
  let customer: FakeTeams;
  let dataDir: string;
  let contoso: string;
  let fabrikam: string;
  let carl: TeamsUser;
  const megan = asTeamsUser(DEMO_USERS.megan); // an approver at the provider
  const patti = asTeamsUser(DEMO_USERS.patti); // another approver at the provider
  const alex = asTeamsUser(DEMO_USERS.alex); // provider staff, not an approver
  const lastCard = (teams: FakeTeams, user: TeamsUser) => teams.lastCard(teams.personal(user).id)!;
  const ask = async (teams: FakeTeams, user: TeamsUser, text: string, conversation?: Record<string, any>) => {
    const res = await teams.say(user, text, conversation as never);
    assert.equal(res.status, 200);
    const card = conversation ? teams.lastCard(conversation.id)! : lastCard(teams, user);
    assertValidTeamsCard(card);
    return card;
  };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-msp-'));
    vigil = await startVigil({ env: { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEMO_TENANTS: '3', SCAN_POLL_SECONDS: '0' } });
    [, contoso, fabrikam] = vigil.demo!.tenantIds().map((t) => t.toLowerCase());
    home = new FakeTeams(vigil.url, vigil.demo!.tenantId);
    await home.start();
    customer = new FakeTeams(vigil.url, contoso);
    await customer.start();
    const someone = vigil.demo!.tenant(contoso).users.find((u) => u.accountEnabled !== false && u.userType === 'Member')!;
    carl = asTeamsUser({ id: someone.id, name: someone.displayName });
  });

  after(async () => {
    await home?.stop();
    await customer?.stop();
    await vigil?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a provider approver who names no tenant is asked which, and the pick answers about that tenant', async () => {
    const card = await ask(home, megan, 'who lacks MFA?');
    assert.match(textOf(card), /Which tenant\?/);
    const picks = actionsIn(card).filter((a) => a.verb === 'vigil.pick');
    assert.equal(picks.length, 3);
    assert.match(textOf(card), /Contoso/);
    const res = await home.click(megan, picks[1]);
    assert.match(textOf(res.body.value), /Who lacks MFA/);
    assert.match(JSON.stringify(res.body.value), /@contoso\.example/, 'the answer is about Contoso');
    assert.doesNotMatch(JSON.stringify(res.body.value), /northwinddental/);
  });

  it('naming a tenant answers about it directly', async () => {
    const card = await ask(home, megan, 'who lacks MFA at Fabrikam?');
    assert.match(textOf(card), /^Tenant: Fabrikam/);
    assert.doesNotMatch(JSON.stringify(card), /northwinddental|contoso\.example/);
  });

  it('provider staff who are not approvers see only their own tenant, whatever they name', async () => {
    const card = await ask(home, alex, 'who lacks MFA at Contoso?');
    assert.doesNotMatch(JSON.stringify(card), /contoso\.example/);
    assert.match(JSON.stringify(card), /northwinddental/);
    const list = await ask(home, alex, 'list tenants');
    assert.doesNotMatch(textOf(list), /Contoso|Fabrikam/);
  });

  it('a person in a customer tenant sees only that tenant', async () => {
    const own = await ask(customer, carl, 'who lacks MFA?');
    assert.match(JSON.stringify(own), /@contoso\.example/);
    const other = await ask(customer, carl, 'who lacks MFA at Northwind Dental Care?');
    assert.doesNotMatch(JSON.stringify(other), /northwinddental/);
    const ranking = await ask(customer, carl, 'which tenants need attention?');
    assert.doesNotMatch(textOf(ranking), /Northwind|Fabrikam/);
  });

  it('buttons and request ids of another tenant do nothing for a customer user', async () => {
    const megansCard = await ask(home, megan, 'who lacks MFA at Northwind Dental Care?');
    const fix = actionsIn(megansCard).find((a) => a.verb === 'vigil.fix')!;
    const before = vigil.demo!.requests.length;
    const res = await customer.click(carl, fix);
    assert.equal(res.body.value, 'This card is out of date. Ask me again for a fresh answer.');
    const page = await customer.click(carl, { verb: 'vigil.pick', data: { verb: 'vigil.pick', ref: actionsIn(await ask(home, megan, 'who lacks MFA?')).find((a) => a.verb === 'vigil.pick')!.data.ref as string } });
    assert.equal(page.body.value, 'This card is out of date. Ask me again for a fresh answer.');
    assert.equal(vigil.demo!.requests.filter((r) => r.method !== 'GET').length, vigil.demo!.requests.slice(0, before).filter((r) => r.method !== 'GET').length, 'no write');
  });

  it('the registry: only provider approvers add and remove tenants', async () => {
    const id = '0b6c3f2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
    assert.match(textOf(await ask(home, alex, `add tenant Litware ${id}`)), /Only the IT provider/);
    assert.match(textOf(await ask(customer, carl, `add tenant Litware ${id}`)), /Only the IT provider/);
    assert.match(textOf(await ask(home, megan, `add tenant Litware ${id}`)), /Added Litware/);
    assert.match(textOf(await ask(home, megan, 'list tenants')), /Litware/);
    assert.match(textOf(await ask(home, megan, 'remove tenant Litware')), /Removed Litware/);
    assert.doesNotMatch(textOf(await ask(home, megan, 'list tenants')), /Litware/);
  });

  it('a fix for a customer tenant: asked from the provider, approved by another provider approver, written in that tenant', async () => {
    const channel = home.channel('19:contoso-approvals@thread.tacv2');
    assert.match(textOf(await ask(home, megan, 'use this channel for approvals for Contoso', channel)), /now receives approvals/);
    const card = await ask(home, megan, 'who lacks MFA at Contoso?');
    const fix = actionsIn(card).find((a) => a.verb === 'vigil.fix')!;
    const sent = await home.click(megan, fix);
    assert.match(textOf(sent.body.value), /Sent for approval/);
    const request = (await vigil.store.approvals.open(contoso))[0];
    assert.ok(request, 'the request belongs to Contoso');
    const self = await home.click(megan, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId: request.id } }, channel);
    assert.match(JSON.stringify(self.body.value), /someone else has to approve/, 'the requester cannot approve');
    const customerTry = await customer.click(carl, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId: request.id } });
    assert.match(JSON.stringify(customerTry.body.value), /Only security approvers|cannot find/, 'a customer user who is no approver cannot');
    const ok = await home.click(patti, { verb: 'vigil.approve', data: { verb: 'vigil.approve', requestId: request.id } }, channel);
    assert.match(textOf(ok.body.value), /done/);
    const writes = vigil.demo!.requests.filter((r) => r.method === 'PATCH' && r.path.includes(request.targets[0].id));
    assert.equal(writes.length, 1);
    assert.equal(writes[0].tenantId?.toLowerCase(), contoso, 'written in Contoso');
  });

  it('alerts about a customer tenant reach its alerts channel; only approvers acknowledge', async () => {
    const channel = home.channel('19:contoso-alerts@thread.tacv2');
    assert.match(textOf(await ask(home, megan, 'use this channel for alerts for Contoso', channel)), /now receives alerts/);
    await vigil.watchman.tick(); // baseline for every tenant
    demoChanges.addJoinerWithoutMfa(vigil.demo!.tenant(contoso), new Date(), { displayName: 'Nadia Rahman', userPrincipalName: 'nadia@contoso.example' });
    await vigil.store.watch.makeDue(contoso, new Date());
    await vigil.watchman.tick();
    const alert = home.lastCard(channel.id)!;
    assertValidTeamsCard(alert);
    assert.match(textOf(alert), /new security finding.* at Contoso/);
    assert.match(textOf(alert), /Nadia Rahman/);
    const ack = actionsIn(alert).find((a) => a.verb === 'vigil.ack')!;
    const refused = await home.click(alex, ack, channel);
    assert.match(String(refused.body.value), /Only security approvers/);
    const done = await home.click(megan, ack, channel);
    assert.match(textOf(done.body.value), /Acknowledged by Megan Bowen/);
    const settings = await ask(home, megan, 'alert settings for Contoso');
    assert.match(textOf(settings), /Alert settings for Contoso/);
    assert.match(textOf(settings), /sent/);
    assert.match(textOf(settings), /All checks every hour; admins, missing MFA, baseline policies and audit logging every 15 minutes/, 'the schedule (SCAN_INTERVAL, SCAN_QUICK_INTERVAL)');
    const ranking = await ask(home, megan, 'which tenants need attention?');
    assert.match(textOf(ranking), /Contoso[\s\S]*Fabrikam|Fabrikam[\s\S]*Contoso/);
    assert.match(textOf(ranking), /Northwind Dental Care/);
  });

  it('pause and resume alerts are for approvers, per tenant', async () => {
    assert.match(textOf(await ask(home, alex, 'pause alerts')), /Only security approvers/);
    assert.match(textOf(await ask(home, megan, 'pause alerts for Fabrikam')), /Alerts paused for Fabrikam/);
    assert.equal((await vigil.directory.get(fabrikam))?.alertsPaused, true);
    assert.equal((await vigil.directory.get(contoso))?.alertsPaused, false);
    assert.match(textOf(await ask(home, megan, 'resume alerts for Fabrikam')), /Alerts resumed for Fabrikam/);
  });
});
