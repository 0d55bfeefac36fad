/**
 * The posture summary ("how are we doing?"): every check as red / amber / green, the Secure
 * Score, a donut of the statuses (with a text fallback: charts do not render on Teams iOS), the
 * top three things to fix with their fix buttons, and what could not be checked.
 * Text from Graph (names, reasons that quote them) is inserted through `literal`.
 */
import template from './posture.json';
import { gapLines, type GapLine } from './checkResult';
import { literal, render, type Card } from './render';

export type PostureStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface PostureCheckRow {
  title: string;
  status: PostureStatus;
  reason: string;
  /** Card ref of the check's own card ("Details"); '' for none. */
  viewRef: string;
}

export interface PostureTopRow {
  severity: string;
  name: string;
  detail: string;
  checkTitle: string;
  fixRef: string;
  fixTitle: string;
  status: string;
}

export interface PostureCardView {
  checks: PostureCheckRow[];
  top: PostureTopRow[];
  secureScore: { current: number; max: number; percent: number | null; change: number | null; changeDays: number } | null;
  gaps: Array<GapLine & { check: string }>;
}

const LABEL: Record<PostureStatus, { legend: string; color: string }> = {
  fail: { legend: 'At risk', color: 'Attention' },
  warn: { legend: 'Needs attention', color: 'Warning' },
  pass: { legend: 'Good', color: 'Good' },
  unknown: { legend: 'Could not check', color: 'Default' },
};
const SEVERITY_COLOR: Record<string, string> = { high: 'Attention', medium: 'Warning', low: 'Default', info: 'Accent' };
const MAX_GAP_LINES = 8;

export function postureCard(v: PostureCardView): Card {
  const counts = (['fail', 'warn', 'pass', 'unknown'] as const).map((s) => ({ status: s, n: v.checks.filter((c) => c.status === s).length }));
  const chart = counts.filter((c) => c.n > 0).map((c) => ({ legend: LABEL[c.status].legend, value: c.n }));
  const fail = counts[0].n;
  const warn = counts[1].n;
  const headline = fail
    ? `${fail} of ${v.checks.length} checks at risk${warn ? `, ${warn} ${warn === 1 ? 'needs' : 'need'} attention` : ''}.`
    : warn
      ? `Nothing at risk; ${warn} of ${v.checks.length} checks ${warn === 1 ? 'needs' : 'need'} attention.`
      : `All ${counts[2].n} checks I could run look good.`;
  const s = v.secureScore;
  const gapRows = v.gaps.slice(0, MAX_GAP_LINES).map((g) => ({ ...g, what: `${g.check} — ${g.what}` }));
  const gapTexts = gapLines(gapRows);
  if (v.gaps.length > MAX_GAP_LINES) gapTexts.push({ line: `• …and ${v.gaps.length - MAX_GAP_LINES} more: open each check for details.` });
  return render(template, {
    title: 'Security posture',
    headline,
    headlineStyle: fail ? 'attention' : warn ? 'warning' : 'good',
    chart: chart.length ? chart : [{ legend: 'No checks', value: 1 }],
    chartText: counts.filter((c) => c.n > 0).map((c) => `${LABEL[c.status].legend}: ${c.n}`).join(' · '),
    scoreText: s ? `${s.current} / ${s.max}` : 'Unavailable',
    scoreColor: s && s.percent !== null ? (s.percent >= 70 ? 'Good' : s.percent >= 40 ? 'Warning' : 'Attention') : 'Default',
    scoreDetail: s
      ? [s.percent !== null ? `${s.percent}%` : '', s.change === null ? '' : s.change === 0 ? `unchanged over ${s.changeDays} days` : `${s.change > 0 ? 'up' : 'down'} ${Math.abs(s.change)} over ${s.changeDays} days`].filter(Boolean).join(' · ')
      : 'Secure Score could not be read.',
    topTitle: v.top.length ? `Top ${v.top.length} thing${v.top.length === 1 ? '' : 's'} to fix` : 'Nothing urgent to fix',
    top: v.top.map((t, i) => ({
      rank: String(i + 1),
      severityColor: SEVERITY_COLOR[t.severity] ?? 'Default',
      name: literal(t.name),
      detail: literal(t.detail),
      checkTitle: literal(t.checkTitle),
      fixRef: t.fixRef,
      fixTitle: t.fixTitle,
      status: t.status,
    })),
    checks: v.checks.map((c) => ({ title: literal(c.title), reason: literal(c.reason), color: LABEL[c.status].color, viewRef: c.viewRef })),
    gaps: gapTexts,
    footer: 'Red: at risk · Amber: needs attention · Green: good · Grey: could not check. Fixes go to your security approvers first.',
  });
}
