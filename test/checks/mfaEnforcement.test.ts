/**
 * mfa.enforcement: what counts as MFA being *required* — the policy judgement table (the tricky
 * cases the issue names: risk-only, report-only, legacy-only, few apps, skippable grants), user
 * scope (All, groups incl. excluded groups, roles, guests), and the per-user and tenant verdicts.
 */
import { strict as assert } from 'node:assert';
import type { ConditionalAccessPolicy } from '@microsoft/microsoft-graph-types';
import { coverageOf, judgePolicy, policyCovers } from '../../bot/checks/mfaCoverage';
import { evaluateMfaEnforcement, mfaEnforcement, type MfaEnforcementReads } from '../../bot/checks/mfaEnforcement';
import { caPolicy, NOW, ROLE } from './fixtures';

describe('mfa.enforcement: which Conditional Access policies count as requiring MFA', () => {
  const table: Array<[string, ConditionalAccessPolicy, boolean, RegExp?]> = [
    ['enabled, All users, All apps, grant mfa', caPolicy(), true],
    ['authentication strength instead of mfa', caPolicy({ grantControls: { builtInControls: [], authenticationStrength: { id: '00000000-0000-0000-0000-000000000002', displayName: 'Multifactor authentication' } } }), true],
    ['mfa AND compliant device', caPolicy({ grantControls: { operator: 'AND', builtInControls: ['mfa', 'compliantDevice'] } }), true],
    ['report-only', caPolicy({ state: 'enabledForReportingButNotEnforced' }), false, /report-only/],
    ['disabled', caPolicy({ state: 'disabled' }), false, /turned off/],
    ['sign-in risk only (the trap)', caPolicy({ conditions: { signInRiskLevels: ['high', 'medium'] } }), false, /sign-in risk high\/medium/],
    ['user risk only', caPolicy({ conditions: { userRiskLevels: ['high'] } }), false, /user risk/],
    ['legacy clients only', caPolicy({ conditions: { clientAppTypes: ['exchangeActiveSync', 'other'] } }), false, /legacy clients/],
    ['browser only', caPolicy({ conditions: { clientAppTypes: ['browser'] } }), false, /browsers/],
    ['both modern client types', caPolicy({ conditions: { clientAppTypes: ['browser', 'mobileAppsAndDesktopClients'] } }), true],
    ['a few apps', caPolicy({ apps: { includeApplications: ['00000003-0000-0ff1-ce00-000000000000', '00000002-0000-0ff1-ce00-000000000000'] } }), false, /2 apps/],
    ['Office 365 only', caPolicy({ apps: { includeApplications: ['Office365'] } }), false, /Office 365 apps/],
    ['user action only (register security info)', caPolicy({ apps: { includeApplications: [], includeUserActions: ['urn:user:registersecurityinfo'] } }), false, /user actions/],
    ['mfa OR compliant device', caPolicy({ grantControls: { operator: 'OR', builtInControls: ['mfa', 'compliantDevice'] } }), false, /compliant device/],
    ['block', caPolicy({ grantControls: { builtInControls: ['block'] } }), false, /blocks/],
    ['some platforms', caPolicy({ conditions: { platforms: { includePlatforms: ['iOS', 'android'], excludePlatforms: [] } } }), false, /platforms/],
    ['all locations except trusted: counts, with a note', caPolicy({ conditions: { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } }), true],
    ['some locations only', caPolicy({ conditions: { locations: { includeLocations: ['b1f5b8a9-1111-4222-8333-944455556666'], excludeLocations: [] } } }), false, /locations/],
  ];
  for (const [name, policy, counts, why] of table) {
    it(`${counts ? 'counts' : 'does not count'}: ${name}`, () => {
      const v = judgePolicy(policy);
      assert.equal(v.counts, counts, v.why);
      if (why) assert.match(v.why, why);
    });
  }

  it('notes the trusted-locations exception', () => {
    assert.match(judgePolicy(caPolicy({ conditions: { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } })).note, /trusted locations/);
  });
});

describe('mfa.enforcement: who a policy covers', () => {
  const member = (id: string, roles: string[] = []) => ({ id, userType: 'Member', roles: new Set(roles) });
  const guest = (id: string) => ({ id, userType: 'Guest', roles: new Set<string>() });
  const groups = { 'g-finance': ['u-dana'], 'g-breakglass': ['u-bg'] };
  const table: Array<[string, ConditionalAccessPolicy, ReturnType<typeof member>, boolean]> = [
    ['All users includes a member', caPolicy(), member('u-a'), true],
    ['All users includes a guest', caPolicy(), guest('u-g'), true],
    ['excluded by id', caPolicy({ users: { excludeUsers: ['U-A'] } }), member('u-a'), false],
    ['excluded group (transitive member)', caPolicy({ users: { excludeGroups: ['g-breakglass'] } }), member('u-bg'), false],
    ['included group', caPolicy({ users: { includeUsers: [], includeGroups: ['g-finance'] } }), member('u-dana'), true],
    ['not in the included group', caPolicy({ users: { includeUsers: [], includeGroups: ['g-finance'] } }), member('u-a'), false],
    ['included role', caPolicy({ users: { includeUsers: [], includeRoles: [ROLE.global] } }), member('u-admin', [ROLE.global]), true],
    ['role not included', caPolicy({ users: { includeUsers: [], includeRoles: [ROLE.global] } }), member('u-a', [ROLE.helpdesk]), false],
    ['excluded role', caPolicy({ users: { excludeRoles: [ROLE.global] } }), member('u-admin', [ROLE.global]), false],
    ['GuestsOrExternalUsers includes guests', caPolicy({ users: { includeUsers: ['GuestsOrExternalUsers'] } }), guest('u-g'), true],
    ['GuestsOrExternalUsers does not include members', caPolicy({ users: { includeUsers: ['GuestsOrExternalUsers'] } }), member('u-a'), false],
    ['guest types exclusion', caPolicy({ users: { excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'internalGuest,b2bCollaborationGuest', externalTenants: { membershipKind: 'all' } } } }), guest('u-g'), false],
    ['None covers nobody', caPolicy({ users: { includeUsers: ['None'] } }), member('u-a'), false],
  ];
  for (const [name, policy, person, covered] of table) {
    it(`${name} → ${covered ? 'covered' : 'not covered'}`, () => assert.equal(policyCovers(policy, person, groups), covered));
  }

  it('security defaults cover everyone; per-user enabled/enforced count; disabled does not', () => {
    const base = { policies: [], verdicts: [], groupMembers: {}, perUser: {} };
    assert.equal(coverageOf(member('x'), { ...base, securityDefaults: true }).by, 'security defaults');
    assert.equal(coverageOf(member('x'), { ...base, securityDefaults: false, perUser: { x: 'enabled' } }).required, true);
    assert.equal(coverageOf(member('x'), { ...base, securityDefaults: false, perUser: { x: 'enforced' } }).by, 'per-user MFA (enforced)');
    assert.equal(coverageOf(member('x'), { ...base, securityDefaults: false, perUser: { x: 'disabled' } }).required, false);
  });
});

describe('mfa.enforcement evaluation (per user and tenant verdict)', () => {
  const users: MfaEnforcementReads['users'] = [
    { id: 'u-alex', displayName: 'Alex', userPrincipalName: 'alex@contoso.com', userType: 'Member' },
    { id: 'u-admin', displayName: 'IT ${secret}', userPrincipalName: 'it@contoso.com', userType: 'Member' },
    { id: 'u-patti', displayName: 'Patti', userPrincipalName: 'patti@contoso.com', userType: 'Member' },
    { id: 'u-bg', displayName: 'Break glass', userPrincipalName: 'bg@contoso.onmicrosoft.com', userType: 'Member' },
    { id: 'u-guest', displayName: 'Guest', userPrincipalName: 'g_x.com#EXT#@contoso.onmicrosoft.com', userType: 'Guest' },
  ];
  const reads = (over: Partial<MfaEnforcementReads> = {}): MfaEnforcementReads => ({
    users,
    securityDefaults: false,
    policies: [],
    groupMembers: {},
    rolesByUser: { 'u-admin': [ROLE.global] },
    perUser: {},
    perUserComplete: true,
    excludedAccounts: ['bg@contoso.onmicrosoft.com'],
    gaps: [],
    ...over,
  });

  it('risk-only and report-only policies leave everyone unprotected — and the card says why', () => {
    const r = evaluateMfaEnforcement(
      reads({
        policies: [
          caPolicy({ displayName: 'MFA for risky sign-ins', conditions: { signInRiskLevels: ['high'] } }),
          caPolicy({ displayName: 'Require MFA for admins', state: 'enabledForReportingButNotEnforced', users: { includeUsers: [], includeRoles: [ROLE.global] } }),
        ],
      }),
      NOW,
    );
    assert.equal(r.status, 'fail');
    assert.equal(r.data.verdict, 'nobody');
    assert.equal(r.findings.length, 3, 'three enabled members, break-glass excluded, guest counted apart');
    const admin = r.findings[0];
    assert.equal(admin.subject.id, 'u-admin', 'admins first');
    assert.equal(admin.severity, 'high');
    assert.match(admin.detail, /report-only/);
    assert.match(admin.detail, /risky sign-ins only/);
    assert.ok(r.findings.every((f) => f.remediation === 'mfa.require'));
    assert.deepEqual(r.data.excluded.map((e) => e.id), ['u-bg']);
    assert.ok(r.data.notes.some((n) => /MFA for risky sign-ins.*only applies to sign-ins with sign-in risk/.test(n)));
  });

  it('per-user enforced counts for that person only: "some"', () => {
    const r = evaluateMfaEnforcement(reads({ perUser: { 'u-patti': 'enforced' } }), NOW);
    assert.equal(r.data.verdict, 'some');
    assert.equal(r.data.membersRequired, 1);
    assert.match(r.reason, /only 1 of 3/);
    assert.ok(!r.findings.some((f) => f.subject.id === 'u-patti'));
  });

  it('an enforced policy for All users excluding only break-glass: everyone, pass', () => {
    const r = evaluateMfaEnforcement(reads({ policies: [caPolicy({ users: { excludeUsers: ['u-bg'] } })] }), NOW);
    assert.equal(r.data.verdict, 'everyone');
    assert.equal(r.status, 'pass');
    assert.equal(r.findings.length, 0);
  });

  it('an excluded group leaves its members out', () => {
    const r = evaluateMfaEnforcement(reads({ policies: [caPolicy({ users: { excludeGroups: ['g-exempt'] } })], groupMembers: { 'g-exempt': ['u-alex'] } }), NOW);
    assert.deepEqual(r.findings.map((f) => f.subject.id), ['u-alex']);
    assert.match(r.findings[0].detail, /No policy covers them/);
  });

  it('security defaults: everyone, with a note on what they do', () => {
    const r = evaluateMfaEnforcement(reads({ securityDefaults: true }), NOW);
    assert.equal(r.status, 'pass');
    assert.match(r.reason, /security defaults/);
    assert.match(r.data.notes[0], /Security defaults are on/);
  });

  it('guests not covered make an otherwise good tenant "warn"', () => {
    const r = evaluateMfaEnforcement(reads({ policies: [caPolicy({ users: { excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'b2bCollaborationGuest' } } })] }), NOW);
    assert.equal(r.status, 'warn');
    assert.match(r.reason, /1 of 1 guests/);
  });

  it('unknown — and no findings — when security defaults or Conditional Access could not be read', () => {
    for (const over of [{ securityDefaults: null, policies: null }, { securityDefaults: false, policies: null }, { securityDefaults: null, policies: [] }]) {
      const r = evaluateMfaEnforcement(reads({ ...over, gaps: [{ what: 'x', reason: 'y', permission: 'Policy.Read.All' }] }), NOW);
      assert.equal(r.status, 'unknown', JSON.stringify(over));
      assert.equal(r.findings.length, 0, 'never a finding without the evidence');
      assert.equal(r.gaps.length, 1);
    }
  });

  it('per-user state unreadable: the people nothing else covers are "could not tell", not findings', () => {
    const r = evaluateMfaEnforcement(reads({ policies: [caPolicy({ users: { includeUsers: ['u-alex'] } })], perUserComplete: false, perUser: {} }), NOW);
    assert.deepEqual(r.findings, []);
    assert.equal(r.data.membersRequired, 1);
    assert.equal(r.data.membersUnknown, 2);
    assert.match(r.reason, /For 2 I could not tell/);
  });

  it('is asked by "is MFA enforced?" phrases', () => {
    for (const t of ['is mfa enforced', 'is mfa required for everyone', 'do we enforce mfa', 'is mfa on', 'is 2fa mandatory']) {
      assert.ok(mfaEnforcement.questions.some((q) => q.test(t)), t);
    }
  });
});
