/**
 * Findings as CSV (RFC 4180: comma-separated, CRLF, fields quoted when needed): one row per
 * finding, with the check it came from, the person or object, the detail, the fix, and one
 * `fact:<name>` column per check-specific fact (the forwarding address of a rule, days since a
 * person joined…). Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) are
 * prefixed with an apostrophe: names come from the tenant and must never execute in Excel.
 */
import type { AuditedCheck } from './types';

export interface CsvOptions {
  /** Start with a UTF-8 byte-order mark so Excel opens accented names correctly (chat downloads). */
  bom?: boolean;
}

const BASE_COLUMNS = [
  'check_id',
  'check_title',
  'rating',
  'severity',
  'subject_id',
  'display_name',
  'user_principal_name',
  'detail',
  'remediation',
  'target_id',
  'target_name',
  'target_detail',
] as const;

export function findingsCsv(checks: AuditedCheck[], opts: CsvOptions = {}): string {
  const factKeys = [...new Set(checks.flatMap((c) => c.result.findings.flatMap((f) => Object.keys(f.facts ?? {}))))].sort();
  const header = [...BASE_COLUMNS, ...factKeys.map((k) => `fact:${k}`)];
  const rows: string[][] = [header];
  for (const { check, result, rating } of checks) {
    for (const f of result.findings) {
      rows.push([
        check.id,
        check.title,
        rating,
        f.severity,
        f.subject.id,
        f.subject.displayName,
        f.subject.userPrincipalName ?? '',
        f.detail,
        f.remediation ?? '',
        f.target?.id ?? '',
        f.target?.displayName ?? '',
        f.target?.detail ?? '',
        ...factKeys.map((k) => {
          const v = f.facts?.[k];
          return v === null || v === undefined ? '' : String(v);
        }),
      ]);
    }
  }
  return (opts.bom ? '\uFEFF' : '') + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One CSV field: neutralised against formula injection, quoted when it holds , " CR or LF. */
export function csvCell(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
