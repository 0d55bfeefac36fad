/**
 * The audit as plain text for a terminal: the grade, one line per check (danger first), the top
 * findings and what could not be checked. Colour only when asked (an interactive terminal
 * without NO_COLOR); the words carry the meaning either way.
 */
import { RATING_LABEL, byRating, countRatings, gapsOf, topFindings } from './rating';
import type { Audit, Rating } from './types';

export interface TableOptions {
  color?: boolean;
  /** Terminal width; long lines are cut with an ellipsis. */
  width?: number;
  topFindings?: number;
}

const ANSI: Record<Rating, string> = { red: '\x1b[31m', amber: '\x1b[33m', green: '\x1b[32m', info: '\x1b[36m', unknown: '\x1b[90m' };
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export function auditTable(audit: Audit, opts: TableOptions = {}): string {
  const width = Math.max(60, opts.width ?? 120);
  const paint = (text: string, code: string): string => (opts.color ? `${code}${text}${RESET}` : text);
  const lines: string[] = [];
  const t = audit.tenant;
  lines.push(paint(`${t.name}`, BOLD) + `  (${t.domain ? `${t.domain}, ` : ''}${t.tenantId})`);
  lines.push(`Audited ${audit.generatedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`);
  lines.push(paint(`Grade ${audit.grade.letter ?? '-'}: ${audit.grade.summary}`, BOLD));
  const n = countRatings(audit.checks);
  lines.push(`${n.red} danger, ${n.amber} needs attention, ${n.green} good, ${n.info} for information, ${n.unknown} not checked`);
  lines.push('');

  const rows = byRating(audit.checks);
  const idWidth = Math.max(5, ...rows.map((r) => r.check.id.length));
  const labelWidth = Math.max(...Object.values(RATING_LABEL).map((l) => l.length));
  lines.push(`${'STATUS'.padEnd(labelWidth)}  ${'CHECK'.padEnd(idWidth)}  FINDINGS  WHAT VIGIL FOUND`);
  for (const { check, result, rating } of rows) {
    const head = `${RATING_LABEL[rating].padEnd(labelWidth)}  ${check.id.padEnd(idWidth)}  ${String(result.findings.length).padStart(8)}  `;
    const line = head + cut(`${check.title}: ${result.reason}`, width - head.length);
    lines.push(opts.color ? paint(head.slice(0, labelWidth), ANSI[rating]) + line.slice(labelWidth) : line);
  }

  const top = topFindings(audit.checks, opts.topFindings ?? 10);
  if (top.length) {
    lines.push('', paint('Top findings', BOLD));
    top.forEach(({ finding, checkTitle }, i) => {
      const who = finding.subject.userPrincipalName ? `${finding.subject.displayName} <${finding.subject.userPrincipalName}>` : finding.subject.displayName;
      lines.push(cut(`${String(i + 1).padStart(2)}. [${finding.severity}] ${who}: ${finding.detail} (${checkTitle})`, width));
    });
  }

  const gaps = gapsOf(audit);
  lines.push('', paint('What Vigil could not check', BOLD));
  if (!gaps.length) lines.push('Nothing: Vigil could read everything it needed.');
  for (const g of gaps) {
    const need = [g.permission && `permission ${g.permission}`, g.licence && `licence ${g.licence}`].filter(Boolean).join(', ');
    const where = g.checkTitles.length ? `${g.checkTitles.join(', ')}: ` : '';
    lines.push(cut(`- ${where}${g.what}: ${g.reason}${need ? ` (needs ${need})` : ''}`, width));
  }
  return lines.join('\n') + '\n';
}

function cut(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(1, width - 1))}…`;
}
