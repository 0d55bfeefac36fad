/**
 * The PDF report, read back as a person would: produced for the demo tenant through the real
 * engine (Graph SDK over HTTPS against the demo tenant, every registered check), its text
 * extracted with pdftotext, its fonts listed with pdffonts, and each page rendered to PNG under
 * test-artifacts/report/ (gitignored) for a person to look at.
 */
import { strict as assert } from 'node:assert';
import { CHECKS, CheckRunner, checkSettingsFor } from '../../bot/checks';
import { loadConfig } from '../../bot/config';
import { startDemoTenant, type DemoTenant } from '../../bot/demo';
import { DEMO_EXCLUDED_ACCOUNTS } from '../../bot/demo/seed';
import { connectGraph, type GraphConnection } from '../../bot/graph/connect';
import { readTenantInfo, runAudit } from '../../bot/report/audit';
import { PILL, renderPdf } from '../../bot/report/pdf';
import { gapsOf, topFindings } from '../../bot/report/rating';
import type { Audit, AuditedCheck } from '../../bot/report/types';
import { FULL_NAMES, fullAudit } from './fixtures';
import { pdfFonts, pdfInfo, pdfText, pdfToPng, pngSize, requirePoppler } from './tools';

/** Text in drawing order with whitespace collapsed: each row reads "PILL title reason". */
const pdfRaw = (bytes: Buffer) => pdfText(bytes, 'raw').replace(/\s+/g, ' ');

/** Every check is a row: its pill word (the colour), its title, then its first words. */
function assertRows(text: string, checks: AuditedCheck[]): void {
  for (const { check, rating, result } of checks) {
    const row = `${PILL[rating]} ${check.title}`;
    assert.ok(text.includes(row), `row "${row}" is on the report`);
    const reason = result.status === 'unknown' && result.gaps[0] ? 'Could not check.' : result.reason.split(/\s+/).slice(0, 3).join(' ');
    assert.ok(text.includes(`${row} ${reason}`), `row "${row}" explains itself: "${reason}…"`);
  }
}

/** The findings the report lists ("TOP N THINGS TO FIX") appear with their names. */
function assertTopFindings(text: string, audit: Audit): number {
  const m = /TOP (\d+) THINGS TO FIX/.exec(text);
  assert.ok(m, 'a "top things to fix" section');
  const n = Number(m[1]);
  assert.ok(n >= 5, `at least five top findings (got ${n})`);
  const top = topFindings(audit.checks, n);
  assert.equal(top.length, n);
  top.forEach(({ finding }, i) => {
    assert.ok(text.includes(`${i + 1} ${finding.subject.displayName}`), `finding ${i + 1}: ${finding.subject.displayName}`);
    if (finding.subject.userPrincipalName) assert.ok(text.includes(finding.subject.userPrincipalName), finding.subject.userPrincipalName);
  });
  return n;
}

describe('PDF report', function () {
  this.timeout(120_000);

  describe('for the demo tenant (every registered check, real Graph reads)', () => {
    let demo: DemoTenant;
    let connection: GraphConnection;
    let audit: Audit;
    let bytes: Buffer;
    let pages: number;
    let renderMs: number;

    before(async function () {
      requirePoppler(this);
      demo = await startDemoTenant();
      const config = loadConfig({});
      connection = await connectGraph(config, { demoTenant: demo });
      const runner = new CheckRunner(connection.graphFor, () => new Date(), undefined, checkSettingsFor(config, DEMO_EXCLUDED_ACCOUNTS));
      audit = await runAudit(runner, await readTenantInfo(connection.graph));
      const started = process.hrtime.bigint();
      const pdf = await renderPdf(audit);
      renderMs = Number(process.hrtime.bigint() - started) / 1e6;
      bytes = pdf.bytes;
      pages = pdf.pages;
    });

    after(async () => {
      await connection?.close();
      await demo?.close();
    });

    it('covers every registered check', () => {
      assert.deepEqual(audit.checks.map((c) => c.check.id), CHECKS.map((c) => c.id));
    });

    it('is a one-page (two at most) A4 PDF with a title, made in well under the time anyone waits', () => {
      const info = pdfInfo(bytes);
      assert.equal(Number(info.Pages), pages);
      assert.ok(pages >= 1 && pages <= 2, `${pages} pages`);
      assert.match(info['Page size'], /595\.2\d* x 841\.8\d* pts \(A4\)/);
      assert.match(info.Title, /^Security report: Northwind Dental Care, /);
      assert.ok(renderMs < 15_000, `rendering took ${renderMs} ms`);
    });

    it('embeds every font it uses (no network, no system fonts)', () => {
      const fonts = pdfFonts(bytes);
      assert.ok(fonts.length >= 2, JSON.stringify(fonts));
      for (const f of fonts) {
        assert.ok(f.embedded, `${f.name} is embedded`);
        assert.match(f.name, /DejaVuSans/);
      }
    });

    it('names the tenant, the date and the overall grade', () => {
      const text = pdfRaw(bytes);
      assert.match(text, /MICROSOFT 365 SECURITY REPORT Northwind Dental Care \d{1,2} [A-Z][a-z]+ 20\d\d · northwinddental\.co\.uk/);
      assert.ok(text.includes(`${audit.grade.letter} OVERALL GRADE`), 'grade badge');
      assert.ok(text.includes(audit.grade.summary.split('.')[0]), 'the grade in one sentence');
    });

    it('has every check as a red/amber/green row with its one-line explanation', () => {
      assertRows(pdfRaw(bytes), audit.checks);
    });

    it('lists the top findings with names', () => {
      assertTopFindings(pdfRaw(bytes), audit);
    });

    it('shows the Secure Score with its trend, or says it is unavailable', () => {
      const text = pdfRaw(bytes);
      assert.ok(text.includes('MICROSOFT SECURE SCORE'));
      assert.ok(/\d+ ?\/ ?\d+ \(\d+%\) (▼ Down|▲ Up|No change)/.test(text) || text.includes('Secure Score unavailable'), 'score and trend');
    });

    it('says what Vigil could not check', () => {
      const text = pdfRaw(bytes);
      assert.ok(text.includes('WHAT VIGIL COULD NOT CHECK'));
      for (const gap of gapsOf(audit).slice(0, 2)) assert.ok(text.includes(`${gap.what}.`), gap.what);
    });

    it('renders to PNG for a person to look at (test-artifacts/report/demo-report-*.png)', () => {
      const pngs = pdfToPng(bytes, 'demo-report');
      assert.equal(pngs.length, pages);
      for (const png of pngs) {
        const { width, height } = pngSize(png);
        assert.ok(Math.abs(width - 910) <= 1 && Math.abs(height - 1286) <= 1, `A4 at 110 dpi: ${width}x${height}`);
      }
    });
  });

  describe('for a full posture (all thirteen checks, every colour, unicode names)', () => {
    let audit: Audit;
    let bytes: Buffer;
    let pages: number;

    before(async function () {
      requirePoppler(this);
      audit = fullAudit();
      ({ bytes, pages } = await renderPdf(audit));
    });

    it('fits on one page', () => assert.equal(pages, 1));

    it('has every row with its colour: informational rows are blue, not red', () => {
      const text = pdfRaw(bytes);
      assertRows(text, audit.checks);
      assert.ok(text.includes('INFO Microsoft Secure Score'));
      assert.ok(text.includes('NOT CHECKED Risky users Could not check. The tenant lacks the licence'));
      assert.ok(text.includes('GOOD Baseline protections'));
    });

    it('prints names as written, in any script, and never evaluates them', () => {
      const text = pdfRaw(bytes);
      const n = assertTopFindings(text, audit);
      const shown = topFindings(audit.checks, n).map((t) => t.finding.subject.displayName);
      assert.ok(shown.includes(FULL_NAMES.zoe) && text.includes(FULL_NAMES.zoe));
      if (shown.includes(FULL_NAMES.dmitri)) assert.ok(text.includes(FULL_NAMES.dmitri));
      if (shown.includes(FULL_NAMES.template)) assert.ok(text.includes(FULL_NAMES.template));
    });

    it('shows the score, out of its maximum, and the 30-day trend', () => {
      assert.match(pdfRaw(bytes), /41 ?\/ 81 \(51%\) ▼ Down 3 points in 30 days/);
    });

    it('renders to PNG (test-artifacts/report/full-posture-*.png)', () => {
      assert.equal(pdfToPng(bytes, 'full-posture').length, 1);
    });
  });

  describe('edge cases', () => {
    before(function () {
      requirePoppler(this);
    });

    it('says "Secure Score unavailable" when the Secure Score check is absent', async () => {
      const audit = fullAudit();
      audit.checks = audit.checks.filter((c) => c.check.id !== 'securescore');
      const text = pdfRaw((await renderPdf(audit)).bytes);
      assert.ok(text.includes('Secure Score unavailable'));
      assert.ok(text.includes('The Secure Score check did not run in this report.'));
    });

    it('never runs past two pages, however much there is to say', async () => {
      const audit = fullAudit();
      const many: AuditedCheck[] = [];
      for (let i = 0; i < 40; i++) {
        const base = audit.checks[i % audit.checks.length];
        many.push({
          ...base,
          check: { ...base.check, id: `extra.c${i}`, title: `${base.check.title} ${i} with a rather long title that wraps` },
          result: { ...base.result, gaps: [{ what: `Gap ${i}`, reason: 'A long reason. '.repeat(12), permission: `Perm.${i}` }] },
        });
      }
      audit.checks = many;
      const pdf = await renderPdf(audit);
      assert.equal(pdf.pages, 2);
      assert.equal(Number(pdfInfo(pdf.bytes).Pages), 2);
    });

    it('says so when there is nothing to fix and nothing it could not check', async () => {
      const audit = fullAudit();
      for (const c of audit.checks) {
        c.result = { ...c.result, status: 'pass', findings: [], gaps: [] };
        c.rating = 'green';
      }
      audit.grade = { letter: 'A', summary: 'Good: nothing dangerous found.' };
      const text = pdfRaw((await renderPdf(audit)).bytes);
      assert.ok(text.includes('Nothing to fix: Vigil found no risky accounts or settings.'));
      assert.ok(text.includes('Nothing: Vigil could read everything it needed.'));
      assert.ok(text.includes('A OVERALL GRADE'));
    });
  });
});
