import template from './mfaRegistration.json';
import { gapLines } from './checkResult';
import { literal, plural, render, type Card } from './render';

export interface MfaCardPerson {
  displayName: string;
  userPrincipalName: string;
  daysSinceJoined: number | null;
  isAdmin: boolean;
  /** Card-ref id of this person's "Require MFA" button; empty when a request is already open. */
  fixRef: string;
  /** Shown instead of the button, e.g. "Awaiting approval in Security". */
  status: string;
}

export interface MfaCardView {
  enabledMembers: number | null;
  lackingCount: number;
  guestsLacking: number;
  source: 'report' | 'methods';
  people: MfaCardPerson[];
  /** 1-based index of the first person shown, for "Showing 11–20 of 34". */
  firstIndex: number;
  moreRef: string;
  gaps: Array<{ what: string; reason: string; permission?: string; licence?: string }>;
  /** The check could not read its data at all: say so instead of claiming everyone is fine. */
  unknown?: boolean;
}

export function mfaRegistrationCard(v: MfaCardView): Card {
  const total = v.enabledMembers;
  const withMfa = total === null ? null : Math.max(0, total - v.lackingCount);
  const headline = v.unknown
    ? 'I could not read who lacks MFA. See below for what is missing.'
    : v.lackingCount === 0
      ? 'Every enabled member account has MFA registered.'
      : `${v.lackingCount}${total !== null ? ` of ${total}` : ''} enabled member account${v.lackingCount === 1 && total === null ? '' : 's'} ${v.lackingCount === 1 ? 'has' : 'have'} no MFA.`;
  const last = v.firstIndex + v.people.length - 1;
  return render(template, {
    title: 'Who lacks MFA',
    headline,
    headlineColor: v.unknown ? 'Warning' : v.lackingCount ? 'Attention' : 'Good',
    chart: withMfa !== null && total! > 0,
    lackingCount: v.lackingCount,
    withMfaCount: withMfa ?? 0,
    chartText: withMfa !== null ? `Without MFA: ${v.lackingCount} · With MFA: ${withMfa}` : '',
    explanation:
      'Newest joiners first: people who joined after MFA was rolled out are the usual gap. ' +
      `Disabled accounts are not listed. ${v.guestsLacking ? `${plural(v.guestsLacking, 'guest')} without MFA ${v.guestsLacking === 1 ? 'is' : 'are'} counted separately.` : 'No guests lack MFA.'}`,
    sourceNote: v.source === 'methods' ? 'Read user by user (no Entra ID P1 for the registration report), which is slower.' : '',
    people: v.people.map((p) => ({
      name: literal(p.displayName) + (p.isAdmin ? ' · ADMIN' : ''),
      upn: literal(p.userPrincipalName),
      joined: joinedText(p.daysSinceJoined),
      joinedColor: p.daysSinceJoined !== null && p.daysSinceJoined <= 30 ? 'Warning' : 'Default',
      fixRef: p.fixRef,
      status: p.status,
    })),
    pageText: v.lackingCount > v.people.length ? `Showing ${v.firstIndex}–${last} of ${v.lackingCount}.` : '',
    moreRef: v.moreRef,
    gaps: gapLines(v.gaps),
  });
}

function joinedText(days: number | null): string {
  if (days === null) return 'Join date unknown';
  if (days === 0) return 'Joined today';
  return `Joined ${plural(days, 'day')} ago`;
}
