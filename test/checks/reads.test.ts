/**
 * The checks' Graph reads against the demo tenant (real Graph SDK over HTTPS): paging over
 * several pages, $batch instead of one request per user, at most one request in flight per
 * mailbox, inner 429s retried after their Retry-After, accounts without a mailbox skipped
 * silently, and missing licences or permissions turned into gaps that name them while the
 * rest of the answer still comes.
 */
import { strict as assert } from 'node:assert';
import { CHECKS, CheckRunner, findCheck } from '../../bot/checks';
import type { CheckSettings } from '../../bot/checks/settings';
import type { CheckResult } from '../../bot/checks/types';
import { DEMO_USERS, ROLE_TEMPLATE_IDS, startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DEMO_EXCLUDED_ACCOUNTS } from '../../bot/demo/seed';
import { GraphApi } from '../../bot/graph/api';
import { createCredential, createGraphClient } from '../../bot/graph/client';

describe('check reads against the demo tenant', function () {
  this.timeout(60_000);
  let demo: DemoTenant;
  let graph: GraphApi;
  const waits: number[] = [];
  const settings: CheckSettings = { excludedAccounts: DEMO_EXCLUDED_ACCOUNTS, allowedCountries: [], signInLookbackDays: 30 };
  const run = async (id: string, s: CheckSettings = settings): Promise<CheckResult> => new CheckRunner(() => graph, () => new Date(), 0, s).run(findCheck(id)!, demo.tenantId);
  const since = () => demo.requests.length;

  before(async () => {
    demo = await startDemoTenant();
    const credential = createCredential({ tenantId: demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl }, demo.caCertPem);
    graph = new GraphApi(createGraphClient({ baseUrl: demo.baseUrl, credential, trustedCaPem: demo.caCertPem, retryDelaySeconds: 0 }), demo.tenantId, {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
  });
  beforeEach(() => {
    demo.reset();
    waits.length = 0;
  });
  after(async () => demo?.close());

  it('every check answers on the demo tenant with at least one finding (risky users needs P2)', async () => {
    demo.knobs.licences.entraP2 = true;
    for (const check of CHECKS) {
      const r = await run(check.id);
      assert.notEqual(r.status, 'unknown', `${check.id}: ${r.reason} ${JSON.stringify(r.gaps)}`);
      assert.ok(r.findings.length > 0, `${check.id} has a finding`);
    }
  });

  it('reads per-user data in $batch, never one top-level request per user', async () => {
    const start = since();
    for (const id of ['mfa.enforcement', 'admins.mfa', 'admins.dedicated', 'mail.forwarding', 'auth.methods']) await run(id);
    const top = demo.requests.slice(start).filter((r) => !r.inBatch && r.method === 'GET' && /^\/users\/[^/]+\/./.test(r.path));
    assert.deepEqual(top.map((r) => r.path), []);
    const batched = demo.requests.slice(start).filter((r) => r.inBatch);
    assert.ok(batched.some((r) => /messageRules$/.test(r.path)));
    assert.ok(batched.some((r) => /authentication\/requirements$/.test(r.path) && r.version === 'beta'));
  });

  it('pages over several pages (3 items a page)', async () => {
    demo.knobs.maxPageSize = 3;
    const r = await run('mfa.enforcement');
    assert.equal((r.data as { members: number }).members, 39, 'all enabled members (the break-glass account excluded)');
    const pages = demo.requests.filter((x) => x.path === '/users' && x.query.$skiptoken);
    assert.ok(pages.length >= 10, `followed ${pages.length} next links`);
    const legacy = await run('signins.legacy');
    assert.equal(legacy.findings.find((f) => f.subject.id === DEMO_USERS.lynne.id)!.facts?.successful, 18, 'every legacy sign-in, across pages of a batched read');
  });

  it('mail: one request per mailbox at a time, no 429s, mailboxes without a mailbox skipped silently', async () => {
    demo.knobs.latencyMs = 20;
    const start = since();
    const r = await run('mail.forwarding');
    const rules = demo.requests.slice(start).filter((x) => /messageRules$/.test(x.path));
    assert.ok(rules.every((x) => x.inBatch && x.status !== 429));
    const perMailbox = new Map<string, number>();
    for (const x of rules) perMailbox.set(x.path, (perMailbox.get(x.path) ?? 0) + 1);
    assert.ok([...perMailbox.values()].every((n) => n === 1));
    assert.ok(rules.some((x) => x.status === 404), 'some accounts have no mailbox');
    assert.ok(!r.gaps.some((g) => /Inbox rules/.test(g.what)), 'no gap for accounts without a mailbox');
    assert.deepEqual(r.findings.map((f) => f.subject.id).sort(), [DEMO_USERS.dana.id, DEMO_USERS.harry.id, DEMO_USERS.isaiah.id].sort());
  });

  it('an inner 429 is retried after its Retry-After and the answer is complete', async () => {
    demo.knobs.faults.push({ match: /^GET \/v1\.0\/users\/[^/]+\/mailFolders\/inbox\/messageRules$/, kind: 'throttle', retryAfterSeconds: 7, count: 3, inBatch: true });
    const r = await run('mail.forwarding');
    assert.ok(waits.includes(7000), `waited ${waits}`);
    assert.equal(r.findings.length, 3);
  });

  it('without Entra ID P1: sign-in checks say which licence; Conditional Access reads as none', async () => {
    demo.knobs.licences.entraP1 = false;
    const countries = await run('signins.countries');
    assert.equal(countries.status, 'unknown');
    assert.equal(countries.gaps[0].licence, 'Microsoft Entra ID P1');
    const legacy = await run('signins.legacy');
    assert.ok(legacy.gaps.some((g) => g.licence === 'Microsoft Entra ID P1'));
    assert.ok(legacy.findings.some((f) => f.subject.id === 'tenant:block-legacy-auth'), 'still says nothing blocks legacy auth');
    const methods = await run('auth.methods');
    assert.ok(methods.gaps.some((g) => g.licence === 'Microsoft Entra ID P1'));
    assert.ok(methods.findings.some((f) => f.subject.id === DEMO_USERS.dana.id), 'falls back to reading methods');
  });

  it('without Entra ID P2: risky users and PIM say so; with P2, PIM-eligible admins are included', async () => {
    const risky = await run('risky.users');
    assert.equal(risky.status, 'unknown');
    assert.equal(risky.gaps[0].licence, 'Microsoft Entra ID P2');
    assert.ok((await run('admins.mfa')).gaps.some((g) => g.what === 'PIM-eligible admins' && g.licence === 'Microsoft Entra ID P2'));

    demo.knobs.licences.entraP2 = true;
    demo.tenant().roleEligibilities.push({ id: 'elig-zoe-ga', principalId: DEMO_USERS.zoe.id, roleDefinitionId: ROLE_TEMPLATE_IDS.globalAdministrator, directoryScopeId: '/', memberType: 'Direct', startDateTime: new Date().toISOString(), endDateTime: null, roleEligibilityScheduleId: 'x' });
    const admins = await run('admins.mfa');
    assert.equal(admins.gaps.length, 0);
    const zoe = admins.findings.find((f) => f.subject.id === DEMO_USERS.zoe.id)!;
    assert.match(zoe.detail, /Global Administrator \(eligible\)/);
    assert.equal((await run('admins.count')).findings.length, 6, 'six listed, the break-glass one excluded: seven Global Admins');
    assert.deepEqual((await run('risky.users')).findings.map((f) => f.subject.id), [DEMO_USERS.dana.id]);
  });

  it('a role held through a role-assignable group counts its members', async () => {
    const t = demo.tenant();
    t.groups.set('00000000-0000-4000-8000-000000000abc', { id: '00000000-0000-4000-8000-000000000abc', displayName: 'Helpdesk team', mailEnabled: false, securityEnabled: true, members: [DEMO_USERS.alex.id] });
    t.roleAssignments.set('grp-helpdesk', { id: 'grp-helpdesk', principalId: '00000000-0000-4000-8000-000000000abc', roleDefinitionId: ROLE_TEMPLATE_IDS.helpdeskAdministrator, directoryScopeId: '/' });
    const r = await run('admins.mfa');
    assert.match(r.findings.find((f) => f.subject.id === DEMO_USERS.alex.id)!.detail, /Helpdesk Administrator via group Helpdesk team/);
  });

  it('a missing permission becomes a gap naming it; the rest of the answer still comes', async () => {
    demo.knobs.grantedRoles = ['User.Read.All', 'RoleManagement.Read.Directory', 'Policy.Read.All', 'AuditLog.Read.All', 'Domain.Read.All', 'GroupMember.Read.All', 'LicenseAssignment.Read.All'];
    const admins = await run('admins.mfa');
    assert.ok(admins.gaps.some((g) => g.permission === 'UserAuthenticationMethod.Read.All'), JSON.stringify(admins.gaps));
    assert.ok(admins.findings.length > 0, 'enforcement is still judged');
    const dedicated = await run('admins.dedicated');
    assert.ok(dedicated.gaps.some((g) => g.permission === 'MailboxSettings.Read'));
    assert.ok(dedicated.findings.some((f) => f.subject.id === DEMO_USERS.oliver.id), 'licences still reported');
    const mail = await run('mail.forwarding');
    assert.ok(mail.gaps.some((g) => g.permission === 'MailboxSettings.Read'));
    const score = await run('securescore');
    assert.equal(score.status, 'unknown');
    assert.equal(score.gaps[0].permission, 'SecurityEvents.Read.All');
  });

  it('a check that cannot read at all names the permission its essential read needs', async () => {
    demo.knobs.grantedRoles = ['Policy.Read.All', 'RoleManagement.Read.Directory', 'AuditLog.Read.All', 'SecurityEvents.Read.All'];
    const expected: Record<string, string> = {
      'mfa.enforcement': 'User.Read.All',
      'admins.count': 'User.Read.All',
      'mail.forwarding': 'Domain.Read.All',
      'auth.methods': 'User.Read.All',
    };
    for (const [id, permission] of Object.entries(expected)) {
      const r = await run(id);
      assert.equal(r.status, 'unknown', id);
      assert.equal(r.findings.length, 0, id);
      assert.equal(r.gaps[0].permission, permission, `${id}: ${JSON.stringify(r.gaps)}`);
    }
  });

  it('EXCLUDED_ACCOUNTS by object id works as well as by UPN', async () => {
    const r = await run('admins.count', { ...settings, excludedAccounts: [DEMO_USERS.itsupport.id.toUpperCase()] });
    assert.deepEqual(((r.data as { excluded: Array<{ id: string }> }).excluded).map((e) => e.id), [DEMO_USERS.itsupport.id]);
  });

  it('ALLOWED_COUNTRIES replaces the tenant country; the Exchange reader gap is there when not configured', async () => {
    const ng = await run('signins.countries', { ...settings, allowedCountries: ['GB', 'NG'] });
    assert.equal(ng.status, 'pass');
    const mail = await run('mail.forwarding');
    assert.ok(mail.gaps.some((g) => /Exchange Online reader is not configured/.test(g.reason) && !g.permission && !g.licence));
  });
});
