import { strict as assert } from 'node:assert';
import { evaluateMfaRegistration, type MfaRegistrationReads } from '../../bot/checks/mfaRegistration';

const NOW = new Date('2026-11-22T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();

function reads(over: Partial<MfaRegistrationReads> = {}): MfaRegistrationReads {
  return {
    source: 'report',
    enabledMembers: 40,
    gaps: [],
    lacking: [
      { id: 'u-old', userPrincipalName: 'old@contoso.com', userDisplayName: 'Old Timer', isAdmin: false, userType: 'member' },
      { id: 'u-new', userPrincipalName: 'new@contoso.com', userDisplayName: 'New Joiner', isAdmin: false, userType: 'member' },
      { id: 'u-admin', userPrincipalName: 'it@contoso.com', userDisplayName: 'IT Support', isAdmin: true, userType: 'member' },
      { id: 'u-disabled', userPrincipalName: 'gone@contoso.com', userDisplayName: 'Gone', isAdmin: false, userType: 'member' },
      { id: 'u-guest', userPrincipalName: 'g_x.com#EXT#@contoso.com', userDisplayName: 'Guest', isAdmin: false, userType: 'guest' },
      { id: 'u-deleted', userPrincipalName: 'deleted@contoso.com', userDisplayName: 'Deleted', isAdmin: false, userType: 'member' },
    ],
    accounts: {
      'u-old': { id: 'u-old', displayName: 'Old Timer', userPrincipalName: 'old@contoso.com', accountEnabled: true, userType: 'Member', createdDateTime: daysAgo(700) },
      'u-new': { id: 'u-new', displayName: 'New Joiner', userPrincipalName: 'new@contoso.com', accountEnabled: true, userType: 'Member', createdDateTime: daysAgo(3) },
      'u-admin': { id: 'u-admin', displayName: 'IT Support', userPrincipalName: 'it@contoso.com', accountEnabled: true, userType: 'Member', createdDateTime: daysAgo(400) },
      'u-disabled': { id: 'u-disabled', displayName: 'Gone', userPrincipalName: 'gone@contoso.com', accountEnabled: false, userType: 'Member', createdDateTime: daysAgo(1) },
      'u-guest': { id: 'u-guest', displayName: 'Guest', userPrincipalName: 'g_x.com#EXT#@contoso.com', accountEnabled: true, userType: 'Guest', createdDateTime: daysAgo(5) },
    },
    ...over,
  };
}

describe('mfa.registration evaluation (the join of the report with /users)', () => {
  const result = evaluateMfaRegistration(reads(), NOW);

  it('lists enabled members only, newest joiners first', () => {
    assert.deepEqual(result.findings.map((f) => f.subject.id), ['u-new', 'u-admin', 'u-old']);
  });

  it('leaves out disabled accounts and people no longer in the directory', () => {
    const ids = result.findings.map((f) => f.subject.id);
    assert.ok(!ids.includes('u-disabled'));
    assert.ok(!ids.includes('u-deleted'));
  });

  it('counts guests separately instead of listing them', () => {
    assert.equal(result.data.guestsLacking, 1);
    assert.ok(!result.findings.some((f) => f.subject.id === 'u-guest'));
  });

  it('marks days since joining and admins; admins are high severity', () => {
    const newJoiner = result.findings[0];
    assert.equal(newJoiner.facts?.daysSinceJoined, 3);
    assert.match(newJoiner.detail, /joined 3 days ago/);
    const admin = result.findings.find((f) => f.subject.id === 'u-admin')!;
    assert.equal(admin.severity, 'high');
    assert.match(admin.detail, /admin/);
  });

  it('offers the require-MFA fix for each person', () => {
    assert.ok(result.findings.every((f) => f.remediation === 'mfa.require'));
  });

  it('says how many of how many', () => {
    assert.equal(result.status, 'fail');
    assert.match(result.reason, /^3 of 40 enabled member accounts/);
  });

  it('passes when nobody lacks MFA, warns when only guests do', () => {
    assert.equal(evaluateMfaRegistration(reads({ lacking: [] }), NOW).status, 'pass');
    const guestsOnly = reads();
    guestsOnly.lacking = guestsOnly.lacking.filter((l) => l.id === 'u-guest');
    assert.equal(evaluateMfaRegistration(guestsOnly, NOW).status, 'warn');
  });

  it('keeps gaps (what could not be read) in the result', () => {
    const r = evaluateMfaRegistration(reads({ gaps: [{ what: 'x', reason: 'y', licence: 'Microsoft Entra ID P1' }] }), NOW);
    assert.equal(r.gaps.length, 1);
  });
});
