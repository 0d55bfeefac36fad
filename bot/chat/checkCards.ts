/**
 * Which card shows which check's answer. Most checks use the shared check card; a check with a
 * story of its own (who lacks MFA: newest joiners, a donut) registers its own renderer here.
 */
import { checkResultCard, literal, mfaRegistrationCard, type Card } from '../../cards';
import type { MfaEnforcementData } from '../checks/mfaEnforcement';
import { daysSince, type MfaRegistrationData } from '../checks/mfaRegistration';
import type { SecureScoreData } from '../checks/secureScore';
import type { Check, CheckResult, Finding, Subject } from '../checks/types';

export interface RenderedFinding {
  finding: Finding;
  /** Card-ref id of the fix button; empty when there is no fix or one is already in flight. */
  fixRef: string;
  fixTitle: string;
  /** Shown instead of the button ("Awaiting approval in Security"). */
  status: string;
}

export interface PageInfo {
  rows: RenderedFinding[];
  firstIndex: number;
  moreRef: string;
  now: Date;
}

type Renderer = (check: Check, result: CheckResult, page: PageInfo) => Card;

const RENDERERS: Record<string, Renderer> = {
  'mfa.registration': (_check, result, page) => {
    const data = result.data as MfaRegistrationData | undefined;
    const card = mfaRegistrationCard({
      enabledMembers: data?.enabledMembers ?? null,
      lackingCount: result.findings.length,
      guestsLacking: data?.guestsLacking ?? 0,
      source: data?.source ?? 'report',
      people: page.rows.map(({ finding, fixRef, status }) => ({
        displayName: finding.subject.displayName,
        userPrincipalName: finding.subject.userPrincipalName ?? '',
        daysSinceJoined: daysSince(finding.facts?.createdDateTime as string | null, page.now),
        isAdmin: finding.facts?.isAdmin === true,
        fixRef,
        status,
      })),
      firstIndex: page.firstIndex,
      moreRef: page.moreRef,
      gaps: result.gaps,
      unknown: result.status === 'unknown',
    });
    return withExtras(card, extrasFor(result));
  },
  // Is MFA enforced: a donut of required / not required among enabled members.
  'mfa.enforcement': (check, result, page) => {
    const d = result.data as MfaEnforcementData | undefined;
    const chart =
      d && d.members > 0
        ? [
            {
              type: 'Chart.Donut',
              title: 'Enabled members',
              data: [
                { legend: 'MFA required', value: d.membersRequired },
                { legend: 'Not required', value: d.members - d.membersRequired },
              ],
              fallback: { type: 'TextBlock', text: `MFA required: ${d.membersRequired} · Not required: ${d.members - d.membersRequired}`, wrap: true },
            },
          ]
        : [];
    return withExtras(genericCard(check, result, page), [...chart, ...extrasFor(result)]);
  },
  // Secure Score: the 30-day trend as a line chart.
  securescore: (check, result, page) => {
    const d = result.data as SecureScoreData | undefined;
    const trend = d?.trend ?? [];
    const chart =
      trend.length > 1
        ? [
            {
              type: 'Chart.Line',
              title: `Secure Score, last ${d!.changeDays} days`,
              data: [{ legend: 'Secure Score', values: trend.map((t) => ({ x: t.date, y: t.score })) }],
              fallback: { type: 'TextBlock', text: `Secure Score ${trend[0].date}: ${trend[0].score} → ${trend.at(-1)!.date}: ${trend.at(-1)!.score}`, wrap: true },
            },
          ]
        : [];
    return withExtras(genericCard(check, result, page), [...chart, ...extrasFor(result)]);
  },
};

/** A check's notes and the accounts EXCLUDED_ACCOUNTS kept out of its findings, as card elements. */
export function extrasFor(result: CheckResult): unknown[] {
  const data = (result.data ?? {}) as { notes?: string[]; excluded?: Subject[] };
  const out: unknown[] = [];
  const notes = (data.notes ?? []).filter(Boolean);
  if (notes.length) {
    out.push({ type: 'Container', spacing: 'Small', items: notes.map((n) => ({ type: 'TextBlock', text: literal(n), wrap: true, isSubtle: true, size: 'Small', spacing: 'None' })) });
  }
  if (data.excluded?.length) {
    const who = data.excluded.map((e) => `${e.displayName}${e.userPrincipalName ? ` (${e.userPrincipalName})` : ''}`).join(', ');
    out.push({ type: 'TextBlock', text: literal(`Excluded (break-glass, EXCLUDED_ACCOUNTS), not listed: ${who}.`), wrap: true, size: 'Small', color: 'Accent', spacing: 'Small' });
  }
  return out;
}

/** Insert elements after a card's header and its leading text (before the findings). */
export function withExtras(card: Card, extras: unknown[]): Card {
  if (!extras.length) return card;
  const body = Array.isArray(card.body) ? [...(card.body as unknown[])] : [];
  let i = Math.min(1, body.length);
  while (i < body.length && (body[i] as { type?: string }).type === 'TextBlock') i++;
  body.splice(i, 0, ...extras);
  return { ...card, body };
}

export function renderCheckCard(check: Check, result: CheckResult, page: PageInfo): Card {
  const custom = RENDERERS[check.id];
  if (custom) return custom(check, result, page);
  return withExtras(genericCard(check, result, page), extrasFor(result));
}

/** The shared check card (cards/checkResult). */
function genericCard(check: Check, result: CheckResult, page: PageInfo): Card {
  return checkResultCard({
    title: check.title,
    status: result.status,
    reason: result.reason,
    why: check.why,
    rows: page.rows.map(({ finding, fixRef, fixTitle, status }) => ({
      severity: finding.severity,
      name: finding.subject.displayName,
      upn: finding.subject.userPrincipalName,
      detail: finding.detail,
      fixRef,
      fixTitle,
      status,
    })),
    total: result.findings.length,
    firstIndex: page.firstIndex,
    moreRef: page.moreRef,
    gaps: result.gaps,
  });
}
