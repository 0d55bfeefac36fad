/**
 * "How are we doing?": every check at once, summed up as red / amber / green, the Secure Score,
 * and the three findings most worth fixing first — with the same fix buttons (card refs of kind
 * "offer", made by the Assistant) a check's own card has, so a click goes through the one
 * approval path.
 */
import { postureCard, type Card, type PostureTopRow } from '../../cards';
import { CHECKS, type CheckRunner } from '../checks';
import type { SecureScoreData } from '../checks/secureScore';
import type { CheckResult, Finding } from '../checks/types';
import { findAction } from '../remediation/catalogue';

/** How many checks read Graph at once (each is a handful of requests). */
const CONCURRENCY = 4;
/** Must match the Assistant's page size: a fix offer remembers the page its finding is on. */
export const POSTURE_PAGE_SIZE = 10;

/** Which check's findings matter first when severities tie: active compromise before hygiene. */
const URGENCY = [
  'risky.users',
  'mail.forwarding',
  'signins.countries',
  'admins.mfa',
  'mfa.registration',
  'mfa.enforcement',
  'signins.legacy',
  'baseline.policies',
  'audit.log',
  'admins.count',
  'admins.dedicated',
  'auth.methods',
  'securescore',
];
const SEVERITY = ['high', 'medium', 'low', 'info'];

/** Run every check for a tenant (cached by the runner), a few at a time; results in CHECKS order. */
export async function runAllChecks(runner: CheckRunner, tenantId: string): Promise<CheckResult[]> {
  return runner.runAll(CHECKS, tenantId, { concurrency: CONCURRENCY });
}

export interface TopFinding {
  checkId: string;
  checkTitle: string;
  finding: Finding;
  /** The page of the check's card this finding is on. */
  page: number;
}

/**
 * The three findings to fix first: by severity, then those Vigil can fix, then by how urgent
 * their check is; at most one per check and per person while others have something to offer.
 */
export function topFindings(results: CheckResult[], n = 3): TopFinding[] {
  const candidates: Array<TopFinding & { rank: number[] }> = [];
  for (const r of results) {
    r.findings.forEach((finding, index) => {
      if (finding.severity === 'info') return;
      const fixable = finding.remediation && findAction(finding.remediation) ? 0 : 1;
      const urgency = URGENCY.indexOf(r.id) === -1 ? URGENCY.length : URGENCY.indexOf(r.id);
      candidates.push({ checkId: r.id, checkTitle: r.title, finding, page: Math.floor(index / POSTURE_PAGE_SIZE), rank: [SEVERITY.indexOf(finding.severity), fixable, urgency, index] });
    });
  }
  candidates.sort((a, b) => {
    for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
    return 0;
  });
  const chosen: typeof candidates = [];
  const usedChecks = new Set<string>();
  const usedSubjects = new Set<string>();
  // First pass: one per check and per person (the same admin lacking MFA shows up in three checks).
  for (const c of candidates) {
    if (chosen.length >= n) break;
    if (usedChecks.has(c.checkId) || usedSubjects.has(c.finding.subject.id)) continue;
    chosen.push(c);
    usedChecks.add(c.checkId);
    usedSubjects.add(c.finding.subject.id);
  }
  for (const c of candidates) {
    if (chosen.length >= n) break;
    if (!chosen.includes(c)) chosen.push(c);
  }
  chosen.sort((a, b) => candidates.indexOf(a) - candidates.indexOf(b));
  return chosen.map(({ rank: _rank, ...t }) => t);
}

export interface PostureDeps {
  /** Card ref that opens a check's own card (kind "view", page 0). */
  viewRef(checkId: string): Promise<string>;
  /** The fix button for a finding, exactly as the check's card offers it. */
  offer(top: TopFinding): Promise<{ fixRef: string; fixTitle: string; status: string }>;
}

export async function renderPosture(results: CheckResult[], deps: PostureDeps): Promise<Card> {
  const score = results.find((r) => r.id === 'securescore');
  const s = score?.status !== 'unknown' ? (score?.data as SecureScoreData | undefined) : undefined;
  const top: PostureTopRow[] = [];
  for (const t of topFindings(results)) {
    const fix = await deps.offer(t);
    const who = t.finding.subject.displayName + (t.finding.subject.userPrincipalName && !t.finding.subject.id.includes(':') ? ` (${t.finding.subject.userPrincipalName})` : '');
    top.push({ severity: t.finding.severity, name: who, detail: t.finding.detail, checkTitle: t.checkTitle, ...fix });
  }
  const checks = [];
  for (const r of results) checks.push({ title: r.title, status: r.status, reason: r.reason, viewRef: await deps.viewRef(r.id) });
  const gaps = results.flatMap((r) => r.gaps.map((g) => ({ ...g, check: r.title })));
  // The same gap (no P2 for PIM, say) shows once, under the first check that hit it.
  const seen = new Set<string>();
  const unique = gaps.filter((g) => !seen.has(`${g.what}|${g.reason}`) && Boolean(seen.add(`${g.what}|${g.reason}`)));
  return postureCard({
    checks,
    top,
    secureScore: s && s.current !== null && s.max !== null ? { current: s.current, max: s.max, percent: s.percent, change: s.change, changeDays: s.changeDays } : null,
    gaps: unique,
  });
}
