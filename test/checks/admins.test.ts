/**
 * admins.mfa, admins.count, admins.dedicated on Graph-shaped role holders: PIM-eligible admins,
 * role-assignable groups, disabled accounts, apps holding roles, break-glass exclusion,
 * the Global Admin thresholds, licences and mailboxes.
 */
import { strict as assert } from 'node:assert';
import { adminsCount, evaluateAdminsCount, type AdminsCountReads } from '../../bot/checks/adminsCount';
import { adminsDedicated, evaluateAdminsDedicated, type AdminsDedicatedReads } from '../../bot/checks/adminsDedicated';
import { adminsMfa, evaluateAdminsMfa, type AdminsMfaReads } from '../../bot/checks/adminsMfa';
import { caPolicy, holder, NOW, ROLE } from './fixtures';

const account = (id: string, over: Record<string, unknown> = {}) => ({ id, displayName: id.toUpperCase(), userPrincipalName: `${id}@contoso.com`, accountEnabled: true, userType: 'Member', ...over });

describe('admins.mfa', () => {
  const reads = (over: Partial<AdminsMfaReads> = {}): AdminsMfaReads => ({
    holders: [
      holder({ principalId: 'ga' }),
      holder({ principalId: 'nomfa', roleId: ROLE.exchange, roleName: 'Exchange Administrator' }),
      holder({ principalId: 'pim', kind: 'eligible' }),
      holder({ principalId: 'member-of-group', viaGroup: { id: 'g1', displayName: 'Tier 0 admins' }, roleId: ROLE.security, roleName: 'Security Administrator' }),
      holder({ principalId: 'gone' }),
      holder({ principalId: 'bg' }),
      holder({ principalId: 'backup-app', principalType: 'servicePrincipal', principalName: 'Backup app', principalUpn: null }),
    ],
    eligibilityRead: true,
    accounts: {
      ga: account('ga'),
      nomfa: account('nomfa'),
      pim: account('pim'),
      'member-of-group': account('member-of-group'),
      gone: account('gone', { accountEnabled: false }),
      bg: account('bg', { userPrincipalName: 'breakglass@contoso.onmicrosoft.com' }),
    },
    mfaRegistered: { ga: true, nomfa: false, pim: true, 'member-of-group': true, gone: false, bg: true },
    securityDefaults: false,
    policies: [caPolicy({ displayName: 'MFA for admins', users: { includeUsers: [], includeRoles: [ROLE.global] } })],
    groupMembers: {},
    perUser: {},
    perUserComplete: true,
    excludedAccounts: ['breakglass@contoso.onmicrosoft.com'],
    gaps: [],
    ...over,
  });

  const r = evaluateAdminsMfa(reads(), NOW);
  const ids = r.findings.map((f) => f.subject.id);

  it('a Global Admin covered by an enforced role policy and registered is clean', () => assert.ok(!ids.includes('ga')));
  it('a PIM-eligible Global Admin is judged as if active (covered by the role policy)', () => {
    assert.ok(!ids.includes('pim'));
    assert.ok(r.data.admins.find((a) => a.id === 'pim')!.roles.some((x) => /eligible/.test(x)));
  });
  it('an Exchange admin with no method and no enforcement is a finding, unregistered first', () => {
    assert.equal(ids[0], 'nomfa');
    assert.match(r.findings[0].detail, /no MFA method registered/);
    assert.match(r.findings[0].detail, /MFA not required/);
    assert.equal(r.findings[0].remediation, 'mfa.require');
  });
  it('members of a role-assignable group are admins too', () => {
    const f = r.findings.find((x) => x.subject.id === 'member-of-group')!;
    assert.match(f.detail, /via group Tier 0 admins/);
  });
  it('disabled accounts are not listed; break-glass is excluded; apps are noted', () => {
    assert.ok(!ids.includes('gone'));
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['bg']);
    assert.ok(r.data.notes.some((n) => /Backup app/.test(n)));
  });
  it('says PIM-eligible holders are included', () => assert.ok(r.data.notes.some((n) => /PIM-eligible/.test(n))));
  it('a report-only admin policy does not protect', () => {
    const ro = evaluateAdminsMfa(reads({ policies: [caPolicy({ state: 'enabledForReportingButNotEnforced', users: { includeUsers: [], includeRoles: [ROLE.global] } })] }), NOW);
    assert.ok(ro.findings.some((f) => f.subject.id === 'ga' && /report-only/.test(f.detail)));
  });
  it('no finding without evidence: unreadable policies leave only the unregistered admin', () => {
    const x = evaluateAdminsMfa(reads({ securityDefaults: null, policies: null, gaps: [{ what: 'Conditional Access', reason: 'denied', permission: 'Policy.Read.All' }] }), NOW);
    assert.deepEqual(x.findings.map((f) => f.subject.id), ['nomfa']);
    assert.ok(x.data.admins.filter((a) => a.required === null).length >= 3);
  });
  it('unreadable per-user state: admins nothing else covers are undetermined, not findings', () => {
    const x = evaluateAdminsMfa(reads({ policies: [], perUserComplete: false, mfaRegistered: { ga: true, nomfa: true, pim: true, 'member-of-group': true } }), NOW);
    assert.equal(x.findings.length, 0);
    assert.equal(x.status, 'unknown');
    assert.match(x.reason, /could not be fully checked/);
  });
  it('security defaults protect every admin who registered', () => {
    const sd = evaluateAdminsMfa(reads({ securityDefaults: true }), NOW);
    assert.deepEqual(sd.findings.map((f) => f.subject.id), ['nomfa']);
  });
  it('asked by admin + MFA phrases', () => {
    for (const t of ['do our admins have mfa', 'admins without mfa', 'which administrators lack 2fa', 'is mfa enforced for admins']) assert.ok(adminsMfa.questions.some((q) => q.test(t)), t);
  });
});

describe('admins.count: Global Administrator thresholds', () => {
  const reads = (n: number, over: Partial<AdminsCountReads> = {}): AdminsCountReads => {
    const ids = Array.from({ length: n }, (_, i) => `ga${i}`);
    return {
      holders: [...ids.map((id) => holder({ principalId: id })), holder({ principalId: 'sec', roleId: ROLE.security, roleName: 'Security Administrator', principalName: 'Megan **Sec**' })],
      eligibilityRead: true,
      accounts: Object.fromEntries([...ids, 'sec'].map((id) => [id, account(id)])),
      excludedAccounts: [],
      gaps: [],
      ...over,
    };
  };
  const table: Array<[number, string]> = [
    [0, 'fail'],
    [1, 'fail'],
    [2, 'pass'],
    [4, 'pass'],
    [5, 'warn'],
    [6, 'fail'],
    [9, 'fail'],
  ];
  for (const [n, status] of table) {
    it(`${n} Global Admins → ${status}`, () => assert.equal(evaluateAdminsCount(reads(n), NOW).status, status));
  }

  it('too many: each active GA gets the remove button, targeting its assignment', () => {
    const r = evaluateAdminsCount(reads(6), NOW);
    assert.equal(r.findings.length, 6);
    const f = r.findings[0];
    assert.equal(f.remediation, 'role.removeGlobalAdmin');
    assert.equal(f.target!.id, 'assign-ga0-62e90394-69f5-4237-9190-012177145e10');
    assert.equal(f.target!.userId, 'ga0');
  });
  it('within limits: listed for information, no removal offered', () => {
    const r = evaluateAdminsCount(reads(3), NOW);
    assert.ok(r.findings.every((f) => f.severity === 'info' && f.remediation === null));
  });
  it('one person with an active and an eligible assignment counts once; disabled ones not at all', () => {
    const base = reads(2);
    base.holders.push(holder({ principalId: 'ga0', kind: 'eligible', assignmentId: 'elig-1' }), holder({ principalId: 'off' }));
    base.accounts.off = account('off', { accountEnabled: false });
    const r = evaluateAdminsCount(base, NOW);
    assert.equal(r.data.globalAdmins, 2);
    assert.match(r.findings.find((f) => f.subject.id === 'ga0')!.detail, /active, eligible/);
  });
  it('break-glass counts but is excluded from the list; other roles are summarised', () => {
    const r = evaluateAdminsCount(reads(3, { excludedAccounts: ['ga0'] }), NOW);
    assert.equal(r.data.globalAdmins, 3);
    assert.equal(r.findings.length, 2);
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['ga0']);
    assert.ok(r.data.otherRoles.some((x) => x === 'Security Administrator: Megan **Sec**'));
  });
  it('answers "who are the admins?"', () => {
    for (const t of ['who are the admins', 'how many global admins do we have', 'list admins', 'global admins', 'admins']) assert.ok(adminsCount.questions.some((q) => q.test(t)), t);
  });
});

describe('admins.dedicated: admins with licences or a mailbox', () => {
  const reads = (over: Partial<AdminsDedicatedReads> = {}): AdminsDedicatedReads => ({
    holders: [
      holder({ principalId: 'owner' }),
      holder({ principalId: 'clean' }),
      holder({ principalId: 'p2only', roleId: ROLE.security, roleName: 'Security Administrator' }),
      holder({ principalId: 'shared-mbx', roleId: ROLE.helpdesk, roleName: 'Helpdesk Administrator' }),
      holder({ principalId: 'bg' }),
    ],
    accounts: {
      owner: account('owner', { assignedLicenses: [{ skuId: 'sku-spb', disabledPlans: [] }] }),
      clean: account('clean', { assignedLicenses: [] }),
      p2only: account('p2only', { assignedLicenses: [{ skuId: 'sku-p2', disabledPlans: [] }] }),
      'shared-mbx': account('shared-mbx', { assignedLicenses: [] }),
      bg: account('bg', { assignedLicenses: [{ skuId: 'sku-spb', disabledPlans: [] }] }),
    },
    skus: { 'sku-spb': 'SPB', 'sku-p2': 'AAD_PREMIUM_P2' },
    mailbox: { owner: true, clean: false, p2only: false, 'shared-mbx': true, bg: false },
    excludedAccounts: ['bg'],
    gaps: [],
    ...over,
  });
  const r = evaluateAdminsDedicated(reads(), NOW);

  it('a licensed Global Admin with a mailbox is high, with the remove-licences fix', () => {
    const f = r.findings[0];
    assert.equal(f.subject.id, 'owner');
    assert.equal(f.severity, 'high');
    assert.match(f.detail, /Microsoft 365 Business Premium/);
    assert.match(f.detail, /has a mailbox/);
    assert.equal(f.remediation, 'licences.removeFromAdmin');
  });
  it('an unlicensed admin with a mailbox has no licence fix', () => {
    const f = r.findings.find((x) => x.subject.id === 'shared-mbx')!;
    assert.equal(f.remediation, null);
    assert.equal(f.severity, 'medium');
  });
  it('Entra ID P2 alone is fine; unlicensed without mailbox is clean; break-glass excluded', () => {
    assert.deepEqual(r.findings.map((f) => f.subject.id).sort(), ['owner', 'shared-mbx']);
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['bg']);
    assert.equal(r.data.admins, 4);
  });
  it('unknown SKU names fall back to the id; unknown mailboxes are said', () => {
    const x = evaluateAdminsDedicated(reads({ skus: null, mailbox: {} }), NOW);
    assert.match(x.findings.find((f) => f.subject.id === 'owner')!.detail, /sku-spb/);
    assert.ok(x.data.notes.some((n) => /could not be checked/.test(n)));
  });
  it('passes when every admin is dedicated', () => {
    const clean = evaluateAdminsDedicated(reads({ holders: [holder({ principalId: 'clean' })] }), NOW);
    assert.equal(clean.status, 'pass');
  });
  it('asked by licence / mailbox / separate-account phrases', () => {
    for (const t of ['do admins use separate accounts', 'admins with licences', 'are admin accounts licensed', 'admin mailboxes']) assert.ok(adminsDedicated.questions.some((q) => q.test(t)), t);
  });
});
