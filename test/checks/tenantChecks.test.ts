/**
 * auth.methods, baseline.policies, securescore, risky.users, audit.log on Graph-shaped JSON
 * (userRegistrationDetails, microsoftAuthenticatorAuthenticationMethod, conditionalAccessPolicy,
 * secureScore, riskyUser): phone-only second factors, stale Authenticator phones, baseline
 * near-misses (report-only, risk-only, excluded groups), score trend and open controls, risk
 * states, and audit logging from Secure Score or the Exchange reader.
 */
import { strict as assert } from 'node:assert';
import { auditLog, evaluateAuditLog } from '../../bot/checks/auditLog';
import { authMethods, evaluateAuthMethods, type AuthMethodsReads } from '../../bot/checks/authMethods';
import { baselinePolicies, evaluateBaselinePolicies, type BaselinePoliciesReads } from '../../bot/checks/baselinePolicies';
import { evaluateRiskyUsers, riskyUsers, type RiskyUsersReads } from '../../bot/checks/riskyUsers';
import { evaluateSecureScore, secureScore, type SecureScoreReads } from '../../bot/checks/secureScore';
import { ALL_PRIVILEGED, caPolicy, daysAgo, NOW, ROLE } from './fixtures';

describe('auth.methods', () => {
  const reads = (over: Partial<AuthMethodsReads> = {}): AuthMethodsReads => ({
    source: 'report',
    users: ['sms', 'voice', 'rhys', 'app', 'admin', 'email', 'none', 'bg'].map((id) => ({ id, displayName: id === 'rhys' ? 'Rhys ${x}' : id, userPrincipalName: `${id}@contoso.com` })),
    registered: {
      sms: { methods: ['mobilePhone'], isAdmin: false },
      voice: { methods: ['officePhone', 'email'], isAdmin: false },
      rhys: { methods: ['microsoftAuthenticatorPush', 'mobilePhone'], isAdmin: false },
      app: { methods: ['microsoftAuthenticatorPush', 'mobilePhone'], isAdmin: false },
      admin: { methods: ['mobilePhone', 'alternateMobilePhone'], isAdmin: true },
      email: { methods: ['email'], isAdmin: false },
      none: { methods: [], isAdmin: false },
      bg: { methods: ['mobilePhone'], isAdmin: false },
    },
    authenticators: {
      rhys: [
        { id: 'm3', displayName: 'Pixel 7', createdDateTime: daysAgo(30) },
        { id: 'm1', displayName: 'iPhone 11', createdDateTime: daysAgo(700) },
        { id: 'm2', displayName: 'iPhone 13', createdDateTime: daysAgo(300) },
      ],
      app: [{ id: 'a1', displayName: 'iPhone 15', createdDateTime: daysAgo(90) }],
    },
    excludedAccounts: ['bg@contoso.com'],
    gaps: [],
    ...over,
  });
  const r = evaluateAuthMethods(reads(), NOW);
  const byId = (id: string) => r.findings.filter((f) => f.subject.id === id);

  it('phone-only (SMS, voice, office phone) is a finding; an admin’s is high', () => {
    assert.equal(byId('sms')[0].key, 'phone-only');
    assert.match(byId('voice')[0].detail, /office phone call/);
    assert.equal(byId('admin')[0].severity, 'high');
    assert.equal(byId('sms')[0].remediation, null);
  });
  it('several Authenticator apps: oldest first, and the fix removes the oldest', () => {
    const f = byId('rhys')[0];
    assert.match(f.detail, /^3 Authenticator registrations: iPhone 11 \(added .*\), iPhone 13 .*, Pixel 7/);
    assert.equal(f.remediation, 'authMethod.remove');
    assert.deepEqual(f.target, { id: 'm1', displayName: 'iPhone 11 (Authenticator)', detail: 'rhys@contoso.com', userId: 'rhys', params: { methodType: 'microsoftAuthenticator' } });
  });
  it('one app plus a phone, email only, nothing registered: not findings here; break-glass excluded', () => {
    for (const id of ['app', 'email', 'none', 'bg']) assert.equal(byId(id).length, 0, id);
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['bg']);
    assert.equal(r.data.phoneOnly, 3);
    assert.equal(r.data.severalAuthenticators, 1);
  });
  it('passes when everyone uses strong methods', () => assert.equal(evaluateAuthMethods(reads({ users: [{ id: 'app', displayName: 'app', userPrincipalName: 'app@contoso.com' }] }), NOW).status, 'pass'));
  it('answers SMS / authenticator questions', () => {
    for (const t of ['who only has sms for mfa', 'authentication methods', 'several authenticator apps', 'sms only']) assert.ok(authMethods.questions.some((q) => q.test(t)), t);
  });
});

describe('baseline.policies', () => {
  const reads = (over: Partial<BaselinePoliciesReads> = {}): BaselinePoliciesReads => ({ tenant: { id: 'tenant-1', displayName: 'Contoso' }, securityDefaults: false, policies: [], groupMembers: {}, excludedAccounts: ['bg'], gaps: [], ...over });
  const adminsPolicy = (over: Parameters<typeof caPolicy>[0] = {}) => caPolicy({ displayName: 'MFA for admins', users: { includeUsers: [], includeRoles: ALL_PRIVILEGED }, ...over });
  const blockLegacy = caPolicy({ displayName: 'Block legacy', grantControls: { builtInControls: ['block'] }, conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } });

  it('security defaults meet all three', () => {
    const r = evaluateBaselinePolicies(reads({ securityDefaults: true }), NOW);
    assert.equal(r.status, 'pass');
    assert.ok(r.data.baselines.every((b) => b.by === 'security defaults'));
  });
  it('nothing at all: fail, with security defaults offered (no CA policies exist)', () => {
    const r = evaluateBaselinePolicies(reads(), NOW);
    assert.equal(r.status, 'fail');
    assert.equal(r.findings.find((f) => f.subject.id === 'baseline:mfa-all')!.remediation, 'securityDefaults.enable');
    assert.equal(r.findings.find((f) => f.subject.id === 'baseline:mfa-admins')!.remediation, 'ca.requireMfaForAdmins');
    assert.deepEqual(r.findings[0].target, { id: 'tenant-1', displayName: 'Contoso' }, 'tenant-wide fixes act on the tenant');
  });
  it('the three CA equivalents, excluding only break-glass (directly or by a group of them): pass', () => {
    const r = evaluateBaselinePolicies(
      reads({ policies: [adminsPolicy({ users: { includeUsers: [], includeRoles: ALL_PRIVILEGED, excludeUsers: ['bg'] } }), caPolicy({ users: { excludeGroups: ['g-bg'] } }), blockLegacy], groupMembers: { 'g-bg': ['bg'] } }),
      NOW,
    );
    assert.equal(r.status, 'pass', JSON.stringify(r.findings));
  });
  it('report-only admins policy and risk-only "all users" policy are near-misses, not met', () => {
    const r = evaluateBaselinePolicies(reads({ policies: [adminsPolicy({ state: 'enabledForReportingButNotEnforced' }), caPolicy({ displayName: 'Risky', conditions: { signInRiskLevels: ['high'] } })] }), NOW);
    const admins = r.findings.find((f) => f.subject.id === 'baseline:mfa-admins')!;
    assert.match(admins.detail, /“MFA for admins”: it is in report-only mode/);
    assert.equal(admins.remediation, null, 'no second report-only policy: it exists, it only needs switching on');
    assert.match(r.findings.find((f) => f.subject.id === 'baseline:mfa-all')!.detail, /“Risky”: it only applies to sign-ins with sign-in risk high/);
    assert.equal(r.findings.find((f) => f.subject.id === 'baseline:mfa-all')!.remediation, null, 'security defaults cannot coexist with CA policies');
  });
  it('an admins policy covering only some admin roles is partial', () => {
    const r = evaluateBaselinePolicies(reads({ policies: [adminsPolicy({ users: { includeUsers: [], includeRoles: [ROLE.global, ROLE.security] } })] }), NOW);
    assert.match(r.findings.find((f) => f.subject.id === 'baseline:mfa-admins')!.detail, /covers 2 of the 10 admin roles/);
  });
  it('an excluded group with ordinary people in it does not meet the baseline', () => {
    const r = evaluateBaselinePolicies(reads({ policies: [caPolicy({ users: { excludeGroups: ['g-vip'] } })], groupMembers: { 'g-vip': ['ceo'] } }), NOW);
    assert.match(r.findings.find((f) => f.subject.id === 'baseline:mfa-all')!.detail, /excludes people who are not break-glass/);
  });
  it('one or two met: warn', () => assert.equal(evaluateBaselinePolicies(reads({ policies: [blockLegacy] }), NOW).status, 'warn'));
  it('answers "security defaults", "conditional access"', () => {
    for (const t of ['are security defaults on', 'baseline policies', 'conditional access', 'ca policies']) assert.ok(baselinePolicies.questions.some((q) => q.test(t)), t);
  });
});

describe('securescore', () => {
  const day = (n: number, score: number, controls: Array<[string, number]> = []) => ({
    createdDateTime: daysAgo(n),
    currentScore: score,
    maxScore: 80,
    averageComparativeScores: [{ basis: 'AllTenants', averageScore: 41.6 }, { basis: 'TotalSeats', averageScore: 38.9 }],
    controlScores: controls.map(([controlName, s]) => ({ controlName, controlCategory: 'Identity', description: controlName, score: s })),
  });
  const controls: Array<[string, number]> = [
    ['AdminMFAV2', 4],
    ['BlockLegacyAuthentication', 0],
    ['mip_search_auditlog', 0],
    ['OneAdmin', 1],
    ['Deprecated', 0],
  ];
  const reads = (over: Partial<SecureScoreReads> = {}): SecureScoreReads => ({
    // Any order, as pages arrive
    scores: [day(30, 42), day(0, 38, controls), day(15, 40)],
    profiles: [
      { id: 'AdminMFAV2', title: 'MFA for **admins**', maxScore: 10, rank: 1 },
      { id: 'BlockLegacyAuthentication', title: 'Block legacy authentication', maxScore: 8, rank: 2 },
      { id: 'mip_search_auditlog', title: 'Audit log search', maxScore: 3, rank: 3 },
      { id: 'OneAdmin', title: 'More than one admin', maxScore: 1, rank: 4 },
      { id: 'Deprecated', title: 'Old', maxScore: 50, rank: 5, deprecated: true },
    ],
    gaps: [],
    ...over,
  });
  const r = evaluateSecureScore(reads(), NOW);

  it('current score, percentage, and the 30-day trend oldest first', () => {
    assert.equal(r.data.current, 38);
    assert.equal(r.data.percent, 48);
    assert.deepEqual(r.data.trend.map((t) => t.score), [42, 40, 38]);
    assert.equal(r.data.change, -4);
    assert.match(r.reason, /Secure Score 38 of 80 \(48%\)\. Down 4 points over 30 days\./);
  });
  it('top open controls by points to gain; complete and deprecated controls left out', () => {
    assert.deepEqual(r.findings.map((f) => f.facts?.control), ['BlockLegacyAuthentication', 'AdminMFAV2', 'mip_search_auditlog']);
    assert.equal(r.findings[0].severity, 'high');
    assert.match(r.findings[1].detail, /\+6 points available \(4 of 10\)/);
  });
  it('status: under 40% fail, under 70% or a 5-point drop warn, else pass', () => {
    assert.equal(r.status, 'warn');
    assert.equal(evaluateSecureScore(reads({ scores: [day(0, 20, controls)] }), NOW).status, 'fail');
    assert.equal(evaluateSecureScore(reads({ scores: [day(0, 70, controls)] }), NOW).status, 'pass');
    assert.equal(evaluateSecureScore(reads({ scores: [day(10, 78), day(0, 70, controls)] }), NOW).status, 'warn');
  });
  it('no score yet: unknown', () => assert.equal(evaluateSecureScore(reads({ scores: [] }), NOW).status, 'unknown'));
  it('answers secure score questions', () => {
    for (const t of ["what's our secure score", 'secure score', 'security score']) assert.ok(secureScore.questions.some((q) => q.test(t)), t);
  });
});

describe('risky.users', () => {
  const reads = (over: Partial<RiskyUsersReads> = {}): RiskyUsersReads => ({
    users: [
      { id: 'dana', userDisplayName: 'Dana', userPrincipalName: 'dana@contoso.com', riskLevel: 'high', riskState: 'atRisk', riskDetail: 'none', riskLastUpdatedDateTime: daysAgo(5), isDeleted: false },
      { id: 'dana', userDisplayName: 'Dana', userPrincipalName: 'dana@contoso.com', riskLevel: 'high', riskState: 'atRisk', riskDetail: 'none', riskLastUpdatedDateTime: daysAgo(5), isDeleted: false },
      { id: 'cfo', userDisplayName: 'CFO **x**', userPrincipalName: 'cfo@contoso.com', riskLevel: 'medium', riskState: 'confirmedCompromised', riskDetail: 'adminConfirmedUserCompromised', isDeleted: false },
      { id: 'adele', userDisplayName: 'Adele', userPrincipalName: 'adele@contoso.com', riskLevel: 'medium', riskState: 'remediated', isDeleted: false },
      { id: 'old', userDisplayName: 'Old', userPrincipalName: 'old@contoso.com', riskLevel: 'high', riskState: 'atRisk', isDeleted: true },
      { id: 'low', userDisplayName: 'Low', userPrincipalName: 'low@contoso.com', riskLevel: 'low', riskState: 'atRisk', isDeleted: false },
    ],
    excludedAccounts: [],
    gaps: [],
    ...over,
  });
  const r = evaluateRiskyUsers(reads(), NOW);
  it('medium and high users still at risk, once each; remediated, deleted and low left out', () => {
    assert.deepEqual(r.findings.map((f) => f.subject.id), ['dana', 'cfo']);
    assert.equal(r.status, 'fail');
  });
  it('confirmed compromised → block; at risk → revoke sessions', () => {
    assert.equal(r.findings[0].remediation, 'user.revokeSessions');
    assert.equal(r.findings[1].remediation, 'user.block');
  });
  it('without Entra ID P2: unknown, and the licence is named', () => {
    const x = evaluateRiskyUsers(reads({ users: null, gaps: [{ what: 'Risky users', reason: 'no P2', licence: 'Microsoft Entra ID P2' }] }), NOW);
    assert.equal(x.status, 'unknown');
    assert.equal(x.gaps[0].licence, 'Microsoft Entra ID P2');
  });
  it('answers risky-user questions', () => {
    for (const t of ['any risky users', 'users at risk', 'compromised accounts', 'is anyone compromised']) assert.ok(riskyUsers.questions.some((q) => q.test(t)), t);
  });
});

describe('audit.log', () => {
  const control = (score: number, maxScore: number | null = 3) => ({ score, maxScore, scoreInPercentage: null, asOf: daysAgo(0) });
  it('from Secure Score: off when the control scores 0, on at full marks', () => {
    const off = evaluateAuditLog({ control: control(0), exchangeConfigured: false, gaps: [] }, NOW);
    assert.equal(off.status, 'fail');
    assert.equal(off.data.source, 'securescore');
    assert.equal(off.findings[0].subject.id, 'tenant:audit-log');
    assert.ok(off.data.notes.some((n) => /EXCHANGE_READER/.test(n)));
    assert.equal(evaluateAuditLog({ control: control(3), exchangeConfigured: false, gaps: [] }, NOW).status, 'pass');
  });
  it('the Exchange reader wins over Secure Score when configured', () => {
    const r = evaluateAuditLog({ exchangeEnabled: true, exchangeConfigured: true, control: control(0), gaps: [] }, NOW);
    assert.equal(r.status, 'pass');
    assert.equal(r.data.source, 'exchange');
  });
  it('unknown when neither is available', () => assert.equal(evaluateAuditLog({ control: null, exchangeConfigured: false, gaps: [] }, NOW).status, 'unknown'));
  it('answers "is audit logging on?" but leaves "audit log" (the approvals trail) alone', () => {
    for (const t of ['is audit logging on', 'is auditing enabled', 'unified audit log', 'is the audit log on']) assert.ok(auditLog.questions.some((q) => q.test(t)), t);
    for (const t of ['audit log', 'show the audit trail', 'export audit log']) assert.ok(!auditLog.questions.some((q) => q.test(t)), t);
  });
});
