/**
 * A full-posture audit built by hand: all thirteen checks the issue names, every rating, a Secure
 * Score with a 35-day history, gaps, unicode and template-looking names. It exercises the report
 * layout at its fullest, independently of which checks are registered today.
 */
import type { CheckResult, CheckStatus, Finding, Gap, Severity } from '../../bot/checks/types';
import { gradeOf, rate } from '../../bot/report/rating';
import type { Audit, AuditedCheck } from '../../bot/report/types';

export const NOW = new Date('2026-11-20T09:30:00Z');
const DAY = 86_400_000;

let n = 0;
function finding(severity: Severity, displayName: string, detail: string, remediation: string | null = null, upn: string | null = null, facts?: Finding['facts']): Finding {
  n++;
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return { severity, subject: { id, displayName, ...(upn ? { userPrincipalName: upn } : {}) }, detail, remediation, facts };
}

function check(id: string, title: string, status: CheckStatus, reason: string, findings: Finding[] = [], gaps: Gap[] = [], data: unknown = undefined): AuditedCheck {
  const result: CheckResult = { id, title, status, reason, findings, gaps, data, generatedAt: NOW.toISOString() };
  return { check: { id, title, why: `Why ${title} matters.` }, result, rating: rate(result) };
}

export function secureScoreHistory(days = 35, today = 41): Array<{ date: string; score: number; maxScore: number }> {
  return Array.from({ length: days }, (_, i) => {
    const d = days - 1 - i; // oldest first
    return { date: new Date(NOW.getTime() - d * DAY).toISOString(), score: today + Math.min(4, Math.floor(d / 8)), maxScore: 81 };
  });
}

export const FULL_NAMES = {
  zoe: 'Zoë Ångström',
  dmitri: 'Дмитрий Иванов',
  template: '${user.password} Mallory',
  markdown: '**Bob** [click](https://evil.example)',
};

export function fullAudit(): Audit {
  n = 0;
  const domain = 'contoso-pharmacy.co.uk';
  const checks: AuditedCheck[] = [
    check('mfa.registration', 'People without MFA', 'fail', '5 of 38 enabled member accounts have no MFA method registered.', [
      finding('high', 'Brightline IT Support', 'Global Administrator with no MFA · shared account', 'mfa.require', `itsupport@${domain}`),
      finding('medium', FULL_NAMES.zoe, 'joined 3 days ago', 'mfa.require', `zoe.angstrom@${domain}`, { daysSinceJoined: 3, isAdmin: false }),
      finding('medium', FULL_NAMES.dmitri, 'joined 9 days ago', 'mfa.require', `dmitri.ivanov@${domain}`, { daysSinceJoined: 9, isAdmin: false }),
      finding('medium', FULL_NAMES.template, 'joined 21 days ago', 'mfa.require', `mallory@${domain}`),
      finding('medium', FULL_NAMES.markdown, 'joined 45 days ago', 'mfa.require', `bob@${domain}`),
    ]),
    check('mfa.enforcement', 'Is MFA required?', 'fail', 'MFA is not required for everyone: no Conditional Access policy requires it, and security defaults are off.', [
      finding('high', 'All users', 'Only risky sign-ins must use MFA; normal sign-ins need just a password.', 'ca.requireMfaAll'),
    ]),
    check('admins.mfa', 'Admins without MFA', 'fail', '1 of 6 admins has no MFA method and is not covered by an MFA policy.', [
      finding('high', 'Brightline IT Support', 'Global Administrator · no MFA registered · excluded from "MFA for risky sign-ins"', 'mfa.require', `itsupport@${domain}`),
    ]),
    check('admins.count', 'Number of Global Admins', 'fail', '6 Global Administrators: keep between 2 and 4.', [
      finding('medium', 'Tom Okafor (Admin)', 'One of 6 Global Administrators', 'role.remove', `admin.tom@${domain}`),
    ]),
    check('admins.dedicated', 'Separate admin accounts', 'warn', '1 Global Administrator also uses the account for everyday email.', [
      finding('low', 'Dr Oliver Hastings', 'Global Administrator with a Microsoft 365 licence and a mailbox', null, `oliver.hastings@${domain}`),
    ]),
    check('mail.forwarding', 'Mail forwarding outside', 'fail', '1 inbox rule sends mail outside the company.', [
      finding('high', 'Dana Whitfield', 'Rule "Invoices" forwards messages with "invoice" to accounts-dept@outlook-mail.co', 'inboxRule.disable', `dana.whitfield@${domain}`, { rule: 'Invoices', forwardTo: 'accounts-dept@outlook-mail.co' }),
    ]),
    check('audit.log', 'Audit logging', 'fail', 'Unified audit logging is off: after a break-in there would be no record of what happened.'),
    check('signins.countries', 'Sign-ins from abroad', 'fail', '1 person signed in from a country outside your usual ones in the last 30 days.', [
      finding('high', 'Dana Whitfield', '3 successful sign-ins from Nigeria (last 5 days ago)', 'user.revokeSessions', `dana.whitfield@${domain}`),
    ]),
    check('signins.legacy', 'Old sign-in methods', 'warn', '2 people still sign in with old mail apps (IMAP/POP) that cannot use MFA.', [
      finding('medium', 'Lynne Robbins', 'IMAP sign-ins in the last 30 days', null, `lynne.robbins@${domain}`),
      finding('low', 'Rhys Morgan', 'POP3 sign-in 12 days ago', null, `rhys.morgan@${domain}`),
    ]),
    check('auth.methods', 'Weak second factors', 'warn', '2 people rely only on text messages, 1 has three authenticator phones.', [
      finding('low', 'Adele Vance', 'Only SMS registered as a second factor', null, `adele.vance@${domain}`),
    ]),
    check('baseline.policies', 'Baseline protections', 'pass', 'Security defaults or equivalent Conditional Access policies are in place.'),
    check('securescore', 'Microsoft Secure Score', 'warn', 'Secure Score is 41 of 81 (51%), down 4 points in 30 days.', [
      finding('info', 'Enable audit log search', 'Open control worth 3 points'),
      finding('info', 'Block legacy authentication', 'Open control worth 8 points'),
    ], [], { currentScore: 41, maxScore: 81, history: secureScoreHistory() }),
    check('risky.users', 'Risky users', 'unknown', 'Vigil could not read what this check needs.', [], [
      { what: 'Risky users', reason: 'The tenant lacks the licence this needs (Entra ID P2).', licence: 'Microsoft Entra ID P2' },
    ]),
  ];
  checks[3].result.gaps.push({ what: 'PIM-eligible admins', reason: "Vigil's app lacks the Graph permission RoleEligibilitySchedule.Read.Directory.", permission: 'RoleEligibilitySchedule.Read.Directory' });
  return {
    tenant: { tenantId: '9b6f1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', name: 'Contoso Pharmacy Ltd', domain, domains: [domain] },
    generatedAt: NOW,
    checks,
    grade: gradeOf(checks),
  };
}
