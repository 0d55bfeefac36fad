/**
 * Test helpers for reports: poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm; Debian package
 * `poppler-utils`, installed by .ci/run) to read a PDF back as a person would, and the JSON Schema
 * validator for the audit contract.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { AUDIT_REPORT_SCHEMA } from '../../bot/report/contract';

export const ROOT = path.join(__dirname, '..', '..');

/** The check ids the issue names: the JSON contract promises these ids. */
export const CONTRACT_CHECK_IDS = [
  'mfa.registration',
  'mfa.enforcement',
  'admins.mfa',
  'admins.count',
  'admins.dedicated',
  'mail.forwarding',
  'audit.log',
  'signins.countries',
  'signins.legacy',
  'auth.methods',
  'baseline.policies',
  'securescore',
  'risky.users',
];
/** Where pictures of reports are kept for people to look at (gitignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'report');

export function hasPoppler(): boolean {
  return ['pdftotext', 'pdfinfo', 'pdffonts', 'pdftoppm'].every((tool) => spawnSync(tool, ['-v'], { stdio: 'ignore' }).error === undefined);
}

/** Skips the suite locally when poppler-utils is missing; in CI (CI set) a missing tool fails. */
export function requirePoppler(ctx: Mocha.Context): void {
  if (hasPoppler()) return;
  if (process.env.CI) throw new Error('poppler-utils (pdftotext, pdftoppm) is not installed: apt-get install poppler-utils');
  ctx.skip();
}

function withPdf<T>(bytes: Buffer, fn: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pdf-'));
  const file = path.join(dir, 'report.pdf');
  fs.writeFileSync(file, bytes);
  try {
    return fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The text of a PDF. `raw` keeps the order things were drawn in (a row's pill, title, then its
 * explanation), `layout` the visual columns.
 */
export function pdfText(bytes: Buffer, mode: 'raw' | 'layout' = 'raw'): string {
  return withPdf(bytes, (file) => execFileSync('pdftotext', [`-${mode}`, '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }));
}

export function pdfInfo(bytes: Buffer): Record<string, string> {
  const out = withPdf(bytes, (file) => execFileSync('pdfinfo', [file], { encoding: 'utf8' }));
  return Object.fromEntries(out.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** Rows of `pdffonts`: name, type, embedded (yes/no). */
export function pdfFonts(bytes: Buffer): Array<{ name: string; type: string; embedded: boolean }> {
  const out = withPdf(bytes, (file) => execFileSync('pdffonts', [file], { encoding: 'utf8' }));
  return out
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      // name type… encoding emb sub uni object ID
      return { name: cols[0], type: cols.slice(1, -6).join(' '), embedded: cols[cols.length - 5] === 'yes' };
    });
}

/** Render every page to PNG under test-artifacts/report/<name>-<page>.png; returns the files. */
export function pdfToPng(bytes: Buffer, name: string, dpi = 110): string[] {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const old of fs.readdirSync(ARTIFACTS)) if (old.startsWith(`${name}-`) && old.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, old));
  fs.writeFileSync(path.join(ARTIFACTS, `${name}.pdf`), bytes);
  withPdf(bytes, (file) => execFileSync('pdftoppm', ['-png', '-r', String(dpi), file, path.join(ARTIFACTS, name)]));
  return fs
    .readdirSync(ARTIFACTS)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.png'))
    .sort()
    .map((f) => path.join(ARTIFACTS, f));
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(file: string): { width: number; height: number } {
  const buf = fs.readFileSync(file);
  if (buf.toString('ascii', 1, 4) !== 'PNG') throw new Error(`${file} is not a PNG`);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Validates against bot/report/schema/audit-report.v1.schema.json; returns readable errors (empty = valid). */
export function validateAuditReport(value: unknown): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(AUDIT_REPORT_SCHEMA);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
