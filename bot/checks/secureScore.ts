/**
 * securescore — Microsoft Secure Score today, its top open controls (most points still to gain),
 * and the 30-day trend.
 *
 * Reads: the last 31 daily secureScores (one request) and the control profiles (max score, title,
 * rank) to tell how many points each control still has to give.
 */
import type { SecureScore, SecureScoreControlProfile } from '@microsoft/microsoft-graph-types';
import type { Check, CheckResult, Finding, Gap } from './types';

export interface SecureScoreReads {
  scores: Array<Pick<SecureScore, 'createdDateTime' | 'currentScore' | 'maxScore' | 'controlScores' | 'averageComparativeScores'>>;
  profiles: Array<Pick<SecureScoreControlProfile, 'id' | 'title' | 'maxScore' | 'rank' | 'controlCategory' | 'userImpact' | 'implementationCost' | 'deprecated' | 'actionUrl'>>;
  gaps: Gap[];
}

export interface OpenControl {
  name: string;
  title: string;
  category: string;
  score: number;
  maxScore: number;
  points: number;
}

export interface SecureScoreData {
  current: number | null;
  max: number | null;
  percent: number | null;
  asOf: string | null;
  /** Oldest first, one point per day available. */
  trend: Array<{ date: string; score: number }>;
  /** Change over the window (latest minus oldest), null without history. */
  change: number | null;
  changeDays: number;
  comparisons: Array<{ basis: string; averageScore: number }>;
  topControls: OpenControl[];
  notes: string[];
}

const TOP = 5;
/** Today and the 30 days before. */
const HISTORY = 31;

export const secureScore: Check<SecureScoreReads, SecureScoreData> = {
  id: 'securescore',
  title: 'Secure Score',
  why: 'Microsoft Secure Score sums up how many of Microsoft’s recommended protections are in place; the open controls say what to do next.',
  ask: "what's our secure score?",
  questions: [/\bsecure\s*score\b/, /\bsecurity\s+score\b/, /\bour\s+score\b/, /\bscore\b.*\b(?:security|trend|microsoft)\b/],
  reads: [
    { request: 'GET /security/secureScores?$top=31', permission: 'SecurityEvents.Read.All' },
    { request: 'GET /security/secureScoreControlProfiles', permission: 'SecurityEvents.Read.All' },
  ],
  read: async (ctx) => {
    const gaps: Gap[] = [];
    // Newest first; pages may be smaller than $top, so follow next links until 31 days are in.
    const scores: SecureScoreReads['scores'] = [];
    for await (const page of ctx.graph.pages<SecureScoreReads['scores'][number]>('/security/secureScores', { query: { $top: HISTORY } })) {
      scores.push(...page);
      if (scores.length >= HISTORY) break;
    }
    const profiles = await ctx.graph.all<SecureScoreReads['profiles'][number]>('/security/secureScoreControlProfiles').catch(() => {
      gaps.push({ what: 'Secure Score control details', reason: 'The control profiles could not be read, so points still to gain are estimated.' });
      return [];
    });
    return { scores, profiles, gaps };
  },
  evaluate: evaluateSecureScore,
};

export function evaluateSecureScore(reads: SecureScoreReads, now: Date): CheckResult<SecureScoreData> {
  const sorted = [...reads.scores].filter((s) => s.createdDateTime).sort((a, b) => a.createdDateTime!.localeCompare(b.createdDateTime!));
  const latest = sorted.at(-1);
  const base = { id: secureScore.id, title: secureScore.title, gaps: reads.gaps, generatedAt: now.toISOString() };
  if (!latest) {
    return {
      ...base,
      status: 'unknown',
      reason: 'Microsoft has not computed a Secure Score for this tenant yet.',
      findings: [],
      data: { current: null, max: null, percent: null, asOf: null, trend: [], change: null, changeDays: 0, comparisons: [], topControls: [], notes: [] },
    };
  }
  const windowStart = Date.parse(latest.createdDateTime!) - 30 * 86_400_000 - 12 * 3600_000;
  const inWindow = sorted.filter((s) => Date.parse(s.createdDateTime!) >= windowStart);
  const trend = inWindow.map((s) => ({ date: s.createdDateTime!.slice(0, 10), score: round(s.currentScore ?? 0) }));
  const oldest = inWindow[0];
  const change = inWindow.length > 1 ? round((latest.currentScore ?? 0) - (oldest.currentScore ?? 0)) : null;
  const changeDays = inWindow.length > 1 ? Math.round((Date.parse(latest.createdDateTime!) - Date.parse(oldest.createdDateTime!)) / 86_400_000) : 0;
  const current = round(latest.currentScore ?? 0);
  const max = round(latest.maxScore ?? 0);
  const percent = max > 0 ? Math.round((current / max) * 100) : null;
  const profiles = new Map(reads.profiles.map((p) => [p.id!, p]));
  const open: OpenControl[] = [];
  for (const c of latest.controlScores ?? []) {
    const p = profiles.get(c.controlName ?? '');
    if (p?.deprecated) continue;
    const extra = c as typeof c & { scoreInPercentage?: number };
    const maxScore = p?.maxScore ?? (typeof extra.scoreInPercentage === 'number' && extra.scoreInPercentage > 0 ? ((c.score ?? 0) * 100) / extra.scoreInPercentage : null);
    if (maxScore === null || maxScore === undefined) continue;
    const points = round(maxScore - (c.score ?? 0));
    if (points <= 0) continue;
    open.push({ name: c.controlName ?? '', title: p?.title ?? c.description ?? c.controlName ?? '', category: c.controlCategory ?? p?.controlCategory ?? '', score: round(c.score ?? 0), maxScore: round(maxScore), points });
  }
  open.sort((a, b) => b.points - a.points || (profiles.get(a.name)?.rank ?? 999) - (profiles.get(b.name)?.rank ?? 999));
  const topControls = open.slice(0, TOP);
  const findings: Finding[] = topControls.map((c) => ({
    severity: c.points >= 8 ? 'high' : c.points >= 4 ? 'medium' : 'low',
    subject: { id: `securescore:${c.name}`, displayName: c.title },
    detail: `+${c.points} point${c.points === 1 ? '' : 's'} available (${c.score} of ${c.maxScore})${c.category ? ` · ${c.category}` : ''}`,
    remediation: null,
    facts: { points: c.points, control: c.name },
  }));
  const comparisons = (latest.averageComparativeScores ?? []).filter((a) => typeof a.averageScore === 'number').map((a) => ({ basis: a.basis ?? '', averageScore: round(a.averageScore!) }));
  const notes: string[] = [];
  const similar = comparisons.find((c) => c.basis === 'TotalSeats');
  if (similar) notes.push(`Organisations of a similar size average ${similar.averageScore}.`);
  if (open.length > TOP) notes.push(`${open.length - TOP} more open controls in the Microsoft Defender portal.`);
  const dropped = change !== null && change <= -5;
  const status = percent === null ? 'unknown' : percent < 40 ? 'fail' : percent < 70 || dropped ? 'warn' : 'pass';
  const trendText = change === null ? '' : change === 0 ? ` Unchanged over ${changeDays} days.` : ` ${change > 0 ? 'Up' : 'Down'} ${Math.abs(change)} point${Math.abs(change) === 1 ? '' : 's'} over ${changeDays} days.`;
  return {
    ...base,
    status,
    reason: `Secure Score ${current} of ${max}${percent !== null ? ` (${percent}%)` : ''}.${trendText}`,
    findings,
    data: { current, max, percent, asOf: latest.createdDateTime ?? null, trend, change, changeDays, comparisons, topControls, notes },
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
