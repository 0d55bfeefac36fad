import { strict as assert } from 'node:assert';
import type { CheckResult, Finding, Severity } from '../../bot/checks/types';
import { byRating, gapsOf, gradeOf, rate, secureScoreFromData, secureScoreOf, topFindings } from '../../bot/report/rating';
import type { AuditedCheck, Rating } from '../../bot/report/types';
import { fullAudit, secureScoreHistory } from './fixtures';

const f = (severity: Severity, id = `id-${severity}`, displayName = id): Finding => ({ severity, subject: { id, displayName }, detail: 'x', remediation: null });
const result = (status: CheckResult['status'], findings: Finding[] = []): CheckResult => ({ id: 'c', title: 'C', status, reason: 'r', findings, gaps: [], data: undefined, generatedAt: '' });
const audited = (id: string, rating: Rating, findings: Finding[] = []): AuditedCheck => ({ check: { id, title: id.toUpperCase(), why: '' }, result: { ...result('fail', findings), id }, rating });

describe('report rating: red means danger, and only danger', () => {
  const cases: Array<[string, CheckResult, Rating]> = [
    ['pass is green', result('pass'), 'green'],
    ['pass with informational findings stays green', result('pass', [f('info')]), 'green'],
    ['unknown is not checked', result('unknown'), 'unknown'],
    ['fail with a high finding is red', result('fail', [f('high'), f('low')]), 'red'],
    ['fail with a medium finding is red', result('fail', [f('medium')]), 'red'],
    ['fail of a tenant-wide setting (no findings) is red', result('fail'), 'red'],
    ['fail with only low findings is amber, not red', result('fail', [f('low'), f('low')]), 'amber'],
    ['fail with only informational findings is info, never red', result('fail', [f('info'), f('info')]), 'info'],
    ['warn with only informational findings is info', result('warn', [f('info')]), 'info'],
    ['warn is amber', result('warn', [f('high')]), 'amber'],
    ['warn without findings is amber', result('warn'), 'amber'],
  ];
  for (const [name, r, expected] of cases) it(name, () => assert.equal(rate(r), expected));
});

describe('report grade', () => {
  const g = (...ratings: Rating[]) => gradeOf(ratings.map((rating) => ({ rating })));
  it('A when nothing is red or amber', () => assert.equal(g('green', 'green', 'info').letter, 'A'));
  it('B for one or two amber rows', () => assert.equal(g('green', 'amber', 'amber').letter, 'B'));
  it('a single red row caps the grade at C', () => assert.equal(g('red', 'green', 'green').letter, 'C'));
  it('D from 6 points, F from 9', () => {
    assert.equal(g('red', 'red').letter, 'D');
    assert.equal(g('red', 'red', 'red').letter, 'F');
  });
  it('checks that could not run do not count, but the summary says so', () => {
    const grade = g('green', 'unknown', 'unknown');
    assert.equal(grade.letter, 'A');
    assert.match(grade.summary, /2 checks could not run/);
  });
  it('no grade when nothing could run', () => assert.equal(g('unknown').letter, null));
  it('the summary is plain English with counts', () => assert.equal(g('red', 'red', 'red', 'amber').summary, 'Serious risk: 3 dangerous issues to fix this week.'));
});

describe('top findings', () => {
  it('leave out informational findings and list the most severe first', () => {
    const checks = [audited('a', 'red', [f('low', 'l1'), f('info', 'i1')]), audited('b', 'red', [f('medium', 'm1'), f('high', 'h1')])];
    assert.deepEqual(topFindings(checks, 10).map((t) => t.finding.subject.id), ['h1', 'm1', 'l1']);
  });
  it('let the checks take turns so one long list does not crowd out the rest', () => {
    const many = Array.from({ length: 6 }, (_, i) => f('high', `a${i}`));
    const checks = [audited('a', 'red', many), audited('b', 'red', [f('high', 'b0')]), audited('c', 'red', [f('high', 'c0')])];
    assert.deepEqual(topFindings(checks, 4).map((t) => t.finding.subject.id), ['a0', 'b0', 'c0', 'a1']);
  });
  it('prefer someone not yet listed over a second finding about the same person', () => {
    const checks = [audited('a', 'red', [f('high', 'same'), f('high', 'x')]), audited('b', 'red', [f('high', 'same'), f('high', 'y')])];
    assert.deepEqual(topFindings(checks, 3).map((t) => `${t.checkId}:${t.finding.subject.id}`), ['a:same', 'a:x', 'b:y']);
  });
});

describe('what could not be checked', () => {
  it('one entry per distinct gap, naming every check it affected, the tenant name first', () => {
    const audit = fullAudit();
    const gap = { what: 'PIM-eligible admins', reason: 'No P2.', licence: 'Microsoft Entra ID P2' };
    audit.checks[2].result.gaps.push(gap);
    audit.checks[4].result.gaps.push(gap);
    audit.tenant.gap = { what: 'Tenant name', reason: 'No permission', permission: 'Organization.Read.All' };
    const gaps = gapsOf(audit);
    assert.equal(gaps[0].what, 'Tenant name');
    const pim = gaps.filter((g) => g.what === 'PIM-eligible admins' && g.reason === 'No P2.');
    assert.equal(pim.length, 1);
    assert.deepEqual(pim[0].checkIds, ['admins.mfa', 'admins.dedicated']);
  });
});

describe('rows order', () => {
  it('danger first, then attention, not checked, information, good; registry order within a colour', () => {
    const rows = byRating(fullAudit().checks).map((c) => c.rating);
    const order: Rating[] = ['red', 'amber', 'unknown', 'info', 'green'];
    for (let i = 1; i < rows.length; i++) assert.ok(order.indexOf(rows[i - 1]) <= order.indexOf(rows[i]), rows.join(','));
  });
});

describe('Secure Score, read defensively from the securescore check', () => {
  it('reads current, max and history in the documented shape', () => {
    const s = secureScoreFromData({ currentScore: 41, maxScore: 81, history: secureScoreHistory(5) })!;
    assert.equal(s.current, 41);
    assert.equal(s.max, 81);
    assert.equal(s.history.length, 5);
    assert.ok(Date.parse(s.history[0].date) < Date.parse(s.history[4].date), 'oldest first');
  });
  it('accepts other plausible shapes', () => {
    assert.deepEqual(secureScoreFromData({ current: { score: 12, max: 40 } }), { current: 12, max: 40, history: [] });
    const fromTrend = secureScoreFromData({ trend: [{ createdDateTime: '2026-11-02T00:00:00Z', currentScore: 30, maxScore: 50 }, { createdDateTime: '2026-11-01T00:00:00Z', currentScore: 28 }] })!;
    assert.equal(fromTrend.current, 30, 'latest point when no current score is given');
    assert.equal(fromTrend.max, 50);
    assert.equal(secureScoreFromData({ secureScore: { score: 7 } })!.current, 7);
  });
  it('gives up quietly on anything else', () => {
    for (const data of [undefined, null, 42, 'x', [], {}, { history: [{ when: 'never', score: 'a' }] }]) assert.equal(secureScoreFromData(data), undefined);
  });
  it('is absent when the check is absent or could not run', () => {
    const audit = fullAudit();
    assert.ok(secureScoreOf(audit.checks));
    const ss = audit.checks.find((c) => c.check.id === 'securescore')!;
    ss.result = { ...ss.result, status: 'unknown' };
    assert.equal(secureScoreOf(audit.checks), undefined);
    assert.equal(secureScoreOf(audit.checks.filter((c) => c.check.id !== 'securescore')), undefined);
  });
});
