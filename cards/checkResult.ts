/**
 * The card for any check's answer: status, reason, the findings (paged) with their fix buttons,
 * and "what I could not check". Checks with a story of their own (who lacks MFA) have their own card.
 */
import template from './checkResult.json';
import { literal, render, type Card } from './render';

export interface CheckCardRow {
  severity: string;
  name: string;
  upn?: string;
  detail: string;
  fixRef: string;
  fixTitle: string;
  status: string;
}

export interface GapLine {
  what: string;
  reason: string;
  permission?: string;
  licence?: string;
}

export interface CheckCardView {
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'unknown';
  reason: string;
  why: string;
  note?: string;
  rows: CheckCardRow[];
  total: number;
  firstIndex: number;
  moreRef: string;
  gaps: GapLine[];
}

const STATUS = {
  pass: { text: '● Good', style: 'good' },
  warn: { text: '● Needs attention', style: 'warning' },
  fail: { text: '● At risk', style: 'attention' },
  unknown: { text: '● Could not check', style: 'default' },
} as const;

const SEVERITY: Record<string, { text: string; color: string }> = {
  high: { text: 'HIGH', color: 'Attention' },
  medium: { text: 'MEDIUM', color: 'Warning' },
  low: { text: 'LOW', color: 'Default' },
  info: { text: 'INFO', color: 'Accent' },
};

export function gapLines(gaps: GapLine[]): Array<{ line: string }> {
  return gaps.map((g) => ({
    line: `• ${literal(g.what)}: ${literal(g.reason)}${g.permission ? ` Add the application permission ${g.permission}.` : ''}${g.licence ? ` Needs ${g.licence}.` : ''}`,
  }));
}

export function checkResultCard(v: CheckCardView): Card {
  const last = v.firstIndex + v.rows.length - 1;
  return render(template, {
    title: literal(v.title),
    statusText: STATUS[v.status].text,
    statusStyle: STATUS[v.status].style,
    reason: literal(v.reason),
    why: literal(v.why),
    note: v.note ?? '',
    rows: v.rows.map((r) => ({
      severityText: SEVERITY[r.severity]?.text ?? r.severity.toUpperCase(),
      severityColor: SEVERITY[r.severity]?.color ?? 'Default',
      name: literal(r.name),
      upn: literal(r.upn ?? ''),
      detail: literal(r.detail),
      fixRef: r.fixRef,
      fixTitle: r.fixTitle,
      status: r.status,
    })),
    pageText: v.total > v.rows.length ? `Showing ${v.firstIndex}–${last} of ${v.total}.` : '',
    moreRef: v.moreRef,
    gaps: gapLines(v.gaps),
  });
}
