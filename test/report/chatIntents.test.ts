import { strict as assert } from 'node:assert';
import { CHECKS, findCheck } from '../../bot/checks';
import { parseIntent } from '../../bot/chat/intents';
import { matchCheck } from '../../bot/chat/reports';
import { tenantMatches } from '../../bot/report/audit';

describe('chat: asking for reports and exports', () => {
  const cases: Array<[string, ReturnType<typeof parseIntent>]> = [
    ['report', { kind: 'report' }],
    ['Report.', { kind: 'report' }],
    ['security report', { kind: 'report' }],
    ['send me the PDF report', { kind: 'report' }],
    ['report for Contoso', { kind: 'report', tenant: 'contoso' }],
    ['give me a report on Northwind Dental Care please', { kind: 'report', tenant: 'northwind dental care' }],
    ['<at>Vigil</at> report for Contoso', { kind: 'report', tenant: 'contoso' }],
    ['export forwarding rules as CSV', { kind: 'export', what: 'forwarding rules' }],
    ['Export people without MFA to Excel', { kind: 'export', what: 'people without mfa' }],
    ['download risky users as a spreadsheet', { kind: 'export', what: 'risky users' }],
    ['csv of mail.forwarding', { kind: 'export', what: 'mail.forwarding' }],
  ];
  for (const [text, intent] of cases) it(`"${text}"`, () => assert.deepEqual(parseIntent(text), intent));

  it('"mfa report" is still the MFA check, not the PDF report', () => {
    assert.deepEqual(parseIntent('mfa report'), { kind: 'check', checkId: 'mfa.registration' });
  });

  it('"export audit log as CSV" stays the audit trail export', () => {
    assert.notEqual(parseIntent('export the audit log as csv').kind, 'export');
  });
});

describe('which check an export means', () => {
  it('by id, by title, or by the check\u2019s own chat phrases', () => {
    assert.equal(matchCheck('mfa.registration')?.id, 'mfa.registration');
    assert.equal(matchCheck('people without mfa')?.id, 'mfa.registration');
    assert.equal(matchCheck('the people without MFA findings')?.id, 'mfa.registration');
    for (const c of CHECKS) assert.equal(matchCheck(c.title)?.id, c.id, c.title);
  });

  it('"forwarding rules" is mail.forwarding', function () {
    if (!findCheck('mail.forwarding')) this.skip();
    assert.equal(matchCheck('forwarding rules')?.id, 'mail.forwarding');
  });

  it('nothing for words that name no check', () => {
    assert.equal(matchCheck('unicorns'), undefined);
    assert.equal(matchCheck(''), undefined);
  });
});

describe('which tenant a name means', () => {
  const info = { tenantId: '7f1c0a2e-4b6d-4e8f-9a1b-2c3d4e5f6a7b', name: 'Northwind Dental Care Ltd', domains: ['northwinddental.co.uk', 'northwinddental.onmicrosoft.com'] };
  for (const yes of ['Northwind Dental Care', 'northwind dental care ltd', 'northwind', 'northwinddental', 'NorthwindDental.co.uk', info.tenantId.toUpperCase()]) {
    it(`"${yes}" is this tenant`, () => assert.ok(tenantMatches(info, yes)));
  }
  for (const no of ['Contoso', 'north', 'dental', 'care', '', 'northwinddental.com']) {
    it(`"${no}" is not`, () => assert.ok(!tenantMatches(info, no)));
  }
});
