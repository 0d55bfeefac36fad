/**
 * Which card shows which check's answer. Most checks use the shared check card; a check with a
 * story of its own (who lacks MFA: newest joiners, a donut) registers its own renderer here.
 */
import { checkResultCard, mfaRegistrationCard, type Card } from '../../cards';
import { daysSince, type MfaRegistrationData } from '../checks/mfaRegistration';
import type { Check, CheckResult, Finding } from '../checks/types';

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
    return mfaRegistrationCard({
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
  },
};

export function renderCheckCard(check: Check, result: CheckResult, page: PageInfo): Card {
  const custom = RENDERERS[check.id];
  if (custom) return custom(check, result, page);
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
