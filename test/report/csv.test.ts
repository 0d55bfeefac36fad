import { strict as assert } from 'node:assert';
import { csvCell, findingsCsv } from '../../bot/report/csv';
import { FULL_NAMES, fullAudit } from './fixtures';

/** A small RFC 4180 parser, to read back what we wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

describe('CSV export of findings', () => {
  const audit = fullAudit();
  const csv = findingsCsv(audit.checks);
  const rows = parseCsv(csv);
  const header = rows[0];
  const col = (name: string) => header.indexOf(name);

  it('has one row per finding, with the check, the person and the fix', () => {
    const total = audit.checks.reduce((n, c) => n + c.result.findings.length, 0);
    assert.equal(rows.length, total + 1);
    assert.deepEqual(header.slice(0, 9), ['check_id', 'check_title', 'rating', 'severity', 'subject_id', 'display_name', 'user_principal_name', 'detail', 'remediation']);
    const dana = rows.find((r) => r[col('check_id')] === 'mail.forwarding')!;
    assert.equal(dana[col('display_name')], 'Dana Whitfield');
    assert.equal(dana[col('remediation')], 'inboxRule.disable');
    assert.equal(dana[col('fact:forwardTo')], 'accounts-dept@outlook-mail.co', 'check-specific facts get their own columns');
    assert.ok(rows.every((r) => r.length === header.length), 'every row has every column');
  });

  it('uses CRLF line ends and quotes fields with commas, quotes or line breaks', () => {
    assert.ok(csv.endsWith('\r\n'));
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.match(csv, /"Rule ""Invoices"" forwards/);
  });

  it('keeps unicode and template-looking names literally', () => {
    const names = rows.map((r) => r[col('display_name')]);
    for (const n of [FULL_NAMES.zoe, FULL_NAMES.dmitri, FULL_NAMES.template, FULL_NAMES.markdown]) assert.ok(names.includes(n), n);
  });

  it('never lets a spreadsheet run a cell as a formula', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) assert.ok(csvCell(evil).replace(/^"/, '').startsWith("'"), evil);
    const withEvil = fullAudit();
    withEvil.checks[0].result.findings[0].subject.displayName = '=cmd|" /C calc"!A0';
    const parsed = parseCsv(findingsCsv(withEvil.checks));
    assert.equal(parsed[1][5], `'=cmd|" /C calc"!A0`);
  });

  it('starts with a byte-order mark only when asked (files for Excel)', () => {
    assert.ok(!csv.startsWith('\uFEFF'));
    assert.ok(findingsCsv(audit.checks, { bom: true }).startsWith('\uFEFFcheck_id,'));
  });
});
