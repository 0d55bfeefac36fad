/**
 * Judging an audit for people: each check's red/amber/green rating, the overall grade, the top
 * findings and "what we could not check". Pure functions, the same for PDF, table, CSV and JSON.
 */
import type { CheckResult, Severity } from '../checks/types';
import type { Audit, AuditedCheck, Grade, GradeLetter, RankedFinding, Rating, ReportGap, SecureScoreView } from './types';

/** Words the owner reads next to each colour. */
export const RATING_LABEL: Record<Rating, string> = {
  red: 'Danger',
  amber: 'Needs attention',
  green: 'Good',
  info: 'For information',
  unknown: 'Not checked',
};

/** Order rows are listed in: danger first. */
export const RATING_ORDER: Rating[] = ['red', 'amber', 'unknown', 'info', 'green'];

const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2, info: 3 };

/**
 * A check's colour. `fail` is red only when something dangerous was found (a high or medium
 * finding, or a failed tenant-wide setting with no per-person findings); a check whose findings
 * are all informational is never red, whatever its status.
 */
export function rate(result: Pick<CheckResult, 'status' | 'findings'>): Rating {
  if (result.status === 'unknown') return 'unknown';
  if (result.status === 'pass') return 'green';
  const severities = result.findings.map((f) => f.severity);
  if (severities.length > 0 && severities.every((s) => s === 'info')) return 'info';
  if (result.status === 'fail') {
    if (severities.length > 0 && severities.every((s) => s === 'low' || s === 'info')) return 'amber';
    return 'red';
  }
  return 'amber';
}

export function countRatings(checks: Array<{ rating: Rating }>): Record<Rating, number> {
  const counts: Record<Rating, number> = { red: 0, amber: 0, green: 0, info: 0, unknown: 0 };
  for (const c of checks) counts[c.rating]++;
  return counts;
}

/**
 * The overall grade: 3 points per red row, 1 per amber. 0 → A, 1–2 → B, 3–5 → C, 6–8 → D,
 * 9 or more → F; any red row caps the grade at C. Checks that could not run do not count,
 * and the summary says how many there were.
 */
export function gradeOf(checks: Array<{ rating: Rating }>): Grade {
  const n = countRatings(checks);
  const ran = checks.length - n.unknown;
  const notRun = n.unknown ? ` ${n.unknown} ${plural(n.unknown, 'check')} could not run.` : '';
  if (ran === 0) return { letter: null, summary: `No grade: Vigil could not run any check.${notRun}` };
  const points = 3 * n.red + n.amber;
  let letter: GradeLetter = points === 0 ? 'A' : points <= 2 ? 'B' : points <= 5 ? 'C' : points <= 8 ? 'D' : 'F';
  if (n.red > 0 && (letter === 'A' || letter === 'B')) letter = 'C';
  const dangers = `${n.red} dangerous ${plural(n.red, 'issue')}`;
  const attention = `${n.amber} ${plural(n.amber, 'thing')} to tidy up`;
  const summary: Record<GradeLetter, string> = {
    A: 'Good: nothing dangerous found.',
    B: `Fair: nothing dangerous, ${attention}.`,
    C: n.red ? `Needs attention: ${dangers} to fix.` : `Needs attention: ${attention}.`,
    D: n.red ? `Poor: ${dangers} to fix soon.` : `Poor: ${attention}.`,
    F: `Serious risk: ${dangers} to fix this week.`,
  };
  return { letter, summary: summary[letter] + notRun };
}

/**
 * The most important findings across checks: informational ones left out, most severe first.
 * Within one severity the checks take turns (one long list does not crowd out the rest) and people
 * or objects not yet listed come before a second finding about someone already listed.
 */
export function topFindings(checks: AuditedCheck[], limit: number): RankedFinding[] {
  const out: RankedFinding[] = [];
  const listed = new Set<string>();
  for (const severity of ['high', 'medium', 'low'] as Severity[]) {
    const queues = checks.map((c) =>
      c.result.findings.filter((f) => f.severity === severity).map((finding) => ({ checkId: c.check.id, checkTitle: c.check.title, finding })),
    );
    const turns: RankedFinding[] = [];
    for (let i = 0; queues.some((q) => i < q.length); i++) for (const q of queues) if (i < q.length) turns.push(q[i]);
    const fresh: RankedFinding[] = [];
    const repeats: RankedFinding[] = [];
    for (const r of turns) {
      const who = r.finding.subject.id || r.finding.subject.displayName;
      (listed.has(who) ? repeats : fresh).push(r);
      listed.add(who);
    }
    for (const r of [...fresh, ...repeats]) {
      if (out.length >= limit) return out;
      out.push(r);
    }
  }
  return out;
}

/** How many findings are worth listing (not informational). */
export function countActionableFindings(checks: AuditedCheck[]): number {
  return checks.reduce((n, c) => n + c.result.findings.filter((f) => SEVERITY_RANK[f.severity] < SEVERITY_RANK.info).length, 0);
}

/**
 * Everything Vigil could not check: one entry per distinct gap (the same missing licence seen by
 * three checks is one line naming the three), the tenant's own gap (its name) first.
 */
export function gapsOf(audit: Pick<Audit, 'checks' | 'tenant'>): ReportGap[] {
  const byKey = new Map<string, ReportGap>();
  const out: ReportGap[] = audit.tenant.gap ? [{ ...audit.tenant.gap, checkIds: [], checkTitles: [] }] : [];
  for (const c of audit.checks) {
    for (const g of c.result.gaps) {
      const key = [g.what, g.reason, g.permission ?? '', g.licence ?? ''].join('|');
      const seen = byKey.get(key);
      if (seen) {
        if (!seen.checkIds.includes(c.check.id)) {
          seen.checkIds.push(c.check.id);
          seen.checkTitles.push(c.check.title);
        }
        continue;
      }
      const gap: ReportGap = { ...g, checkIds: [c.check.id], checkTitles: [c.check.title] };
      byKey.set(key, gap);
      out.push(gap);
    }
  }
  return out;
}

/** Ratings in the order rows are shown: danger first, registry order within a colour. */
export function byRating(checks: AuditedCheck[]): AuditedCheck[] {
  return RATING_ORDER.flatMap((r) => checks.filter((c) => c.rating === r));
}

// --- Secure Score, read defensively from whatever the `securescore` check exposes ---------------

const CURRENT_KEYS = ['currentScore', 'current', 'score', 'value'];
const MAX_KEYS = ['maxScore', 'max', 'maximum', 'outOf'];
const HISTORY_KEYS = ['history', 'trend', 'scores', 'series', 'daily', 'points'];
const DATE_KEYS = ['date', 'day', 'createdDateTime', 'at', 'when', 'timestamp'];

/** The Secure Score check's current score and history, or undefined when it has none. */
export function secureScoreOf(checks: AuditedCheck[]): SecureScoreView | undefined {
  const c = checks.find((x) => x.check.id === 'securescore');
  if (!c || c.result.status === 'unknown') return undefined;
  return secureScoreFromData(c.result.data);
}

export function secureScoreFromData(data: unknown): SecureScoreView | undefined {
  if (!isRecord(data)) return undefined;
  const nested = isRecord(data.secureScore) ? data.secureScore : data;
  const history = historyOf(nested);
  let current = numberAt(nested, CURRENT_KEYS);
  let max = numberAt(nested, MAX_KEYS);
  // `current` may itself be an object ({ score, max }).
  for (const key of ['current', 'latest', 'today']) {
    const obj = nested[key];
    if (isRecord(obj)) {
      current ??= numberAt(obj, CURRENT_KEYS);
      max ??= numberAt(obj, MAX_KEYS);
    }
  }
  if (current === undefined && history.points.length) current = history.points[history.points.length - 1].score;
  max ??= history.max;
  if (current === undefined) return undefined;
  return { current, max: max ?? null, history: history.points };
}

function historyOf(data: Record<string, unknown>): { points: Array<{ date: string; score: number }>; max?: number } {
  for (const key of HISTORY_KEYS) {
    const arr = data[key];
    if (!Array.isArray(arr)) continue;
    let max: number | undefined;
    const points: Array<{ date: string; score: number }> = [];
    for (const item of arr) {
      if (!isRecord(item)) continue;
      const score = numberAt(item, CURRENT_KEYS);
      const date = DATE_KEYS.map((k) => item[k]).find((v) => typeof v === 'string' && !Number.isNaN(Date.parse(v))) as string | undefined;
      if (score === undefined || !date) continue;
      points.push({ date, score });
      max ??= numberAt(item, MAX_KEYS);
    }
    points.sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
    if (points.length) return { points, max };
  }
  return { points: [] };
}

function numberAt(obj: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
