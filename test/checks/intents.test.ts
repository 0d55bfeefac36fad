/**
 * Natural questions reach the right check (CHECKS order: the more specific first), the posture
 * summary, or help — and the phrases of other features are left to them.
 */
import { strict as assert } from 'node:assert';
import { parseIntent } from '../../bot/chat/intents';
import { CHECKS } from '../../bot/checks';

describe('posture questions reach the right check', () => {
  const table: Array<[string, string]> = [
    ['who lacks MFA?', 'mfa.registration'],
    ['which users don’t have MFA', 'mfa.registration'],
    ['mfa status', 'mfa.registration'],
    ['is MFA enforced?', 'mfa.enforcement'],
    ['Is MFA required for everyone?', 'mfa.enforcement'],
    ['do we enforce 2FA', 'mfa.enforcement'],
    ['is mfa on?', 'mfa.enforcement'],
    ['do our admins have MFA?', 'admins.mfa'],
    ['admins without MFA', 'admins.mfa'],
    ['is MFA enforced for admins?', 'admins.mfa'],
    ['who are the admins?', 'admins.count'],
    ['how many global admins do we have?', 'admins.count'],
    ['list admins', 'admins.count'],
    ['do admins use separate accounts?', 'admins.dedicated'],
    ['which admins have licences?', 'admins.dedicated'],
    ['any forwarding rules?', 'mail.forwarding'],
    ['is anyone forwarding email outside?', 'mail.forwarding'],
    ['show inbox rules', 'mail.forwarding'],
    ['is audit logging on?', 'audit.log'],
    ['is auditing enabled', 'audit.log'],
    ['any strange sign-ins?', 'signins.countries'],
    ['suspicious logins', 'signins.countries'],
    ['sign-ins from abroad?', 'signins.countries'],
    ['legacy auth?', 'signins.legacy'],
    ['is legacy authentication blocked?', 'signins.legacy'],
    ['who uses IMAP', 'signins.legacy'],
    ['who only has SMS for MFA?', 'auth.methods'],
    ['anyone with several authenticator apps?', 'auth.methods'],
    ['are security defaults on?', 'baseline.policies'],
    ['conditional access policies', 'baseline.policies'],
    ["what's our secure score?", 'securescore'],
    ['any risky users?', 'risky.users'],
    ['is anyone compromised?', 'risky.users'],
    ['<at>Vigil</at> any forwarding rules?', 'mail.forwarding'],
  ];
  for (const [text, checkId] of table) {
    it(`"${text}" → ${checkId}`, () => assert.deepEqual(parseIntent(text), { kind: 'check', checkId }));
  }

  for (const text of ['how are we doing?', 'How are we doing', 'posture', 'security posture', 'how secure are we?', 'show me the overview', 'how is our security looking?']) {
    it(`"${text}" → the posture summary`, () => assert.deepEqual(parseIntent(text), { kind: 'posture' }));
  }

  it('"help" still gets help; other features keep their phrases', () => {
    assert.deepEqual(parseIntent('help'), { kind: 'help' });
    assert.deepEqual(parseIntent('audit log'), { kind: 'audit-log' });
    assert.equal(parseIntent('posture report').kind, 'report');
  });

  it('every check has an ask that reaches it, and a title', () => {
    for (const c of CHECKS) {
      assert.ok(c.title && c.why, c.id);
      assert.deepEqual(parseIntent(c.ask), { kind: 'check', checkId: c.id }, `${c.id}: "${c.ask}"`);
    }
  });

  it('ids are exactly the issue’s', () => {
    assert.deepEqual(CHECKS.map((c) => c.id).sort(), [
      'admins.count',
      'admins.dedicated',
      'admins.mfa',
      'audit.log',
      'auth.methods',
      'baseline.policies',
      'mail.forwarding',
      'mfa.enforcement',
      'mfa.registration',
      'risky.users',
      'securescore',
      'signins.countries',
      'signins.legacy',
    ]);
  });
});
