import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUDIT_REPORT_SCHEMA, toAuditReport } from '../../bot/report/contract';
import { fullAudit } from './fixtures';
import { CONTRACT_CHECK_IDS, ROOT, validateAuditReport } from './tools';

describe('the JSON contract (schemaVersion 1)', () => {
  it('is kept in the repository as a JSON Schema (draft 2020-12)', () => {
    const file = path.join(ROOT, 'bot', 'report', 'schema', 'audit-report.v1.schema.json');
    assert.ok(fs.existsSync(file));
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), AUDIT_REPORT_SCHEMA);
    assert.equal(AUDIT_REPORT_SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
  });

  it('a full audit validates, with every documented field', () => {
    const report = toAuditReport(fullAudit());
    assert.deepEqual(validateAuditReport(report), []);
    assert.equal(report.schemaVersion, 1);
    assert.deepEqual(Object.keys(report), ['schemaVersion', 'tenantId', 'tenantName', 'generatedAt', 'grade', 'checks']);
    assert.deepEqual(report.checks.map((c) => c.id), CONTRACT_CHECK_IDS);
    assert.deepEqual(Object.keys(report.checks[0]), ['id', 'title', 'status', 'rating', 'reason', 'findings', 'gaps']);
    assert.deepEqual(Object.keys(report.checks[0].findings[0]), ['severity', 'subject', 'detail', 'remediation']);
    assert.deepEqual(Object.keys(report.checks[0].findings[0].subject), ['id', 'displayName', 'userPrincipalName']);
  });

  it('remediation is an action id or null, userPrincipalName a string or null; facts and data stay out', () => {
    const report = toAuditReport(fullAudit());
    const all = report.checks.flatMap((c) => c.findings);
    assert.ok(all.some((x) => x.remediation === 'mfa.require'));
    assert.ok(all.some((x) => x.remediation === null));
    assert.ok(all.some((x) => x.subject.userPrincipalName === null), 'a non-user subject');
    assert.ok(!JSON.stringify(report).includes('daysSinceJoined'), 'check-specific facts are not part of the contract');
    assert.ok(!JSON.stringify(report).includes('"history"'), 'check-specific data is not part of the contract');
  });

  it('the schema really validates: it refuses missing, extra and wrongly typed fields', () => {
    const good = () => JSON.parse(JSON.stringify(toAuditReport(fullAudit())));
    const broken: Array<[string, (r: any) => void]> = [
      ['no schemaVersion', (r) => delete r.schemaVersion],
      ['schemaVersion 2', (r) => (r.schemaVersion = 2)],
      ['an extra top-level field', (r) => (r.extra = true)],
      ['a bad status', (r) => (r.checks[0].status = 'red')],
      ['a bad rating', (r) => (r.checks[0].rating = 'crimson')],
      ['a finding without a subject', (r) => delete r.checks[0].findings[0].subject],
      ['remediation missing (must be null, not absent)', (r) => delete r.checks[0].findings[0].remediation],
      ['a numeric detail', (r) => (r.checks[0].findings[0].detail = 3)],
      ['generatedAt not a date-time', (r) => (r.generatedAt = 'yesterday')],
      ['a check id that is not an id', (r) => (r.checks[0].id = 'MFA Registration')],
    ];
    for (const [name, breakIt] of broken) {
      const r = good();
      breakIt(r);
      assert.ok(validateAuditReport(r).length > 0, `${name} should be refused`);
    }
  });
});
