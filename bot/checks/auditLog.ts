/**
 * audit.log — is unified audit logging on? Without it there is no record of who read, forwarded
 * or deleted what: a breach cannot be investigated afterwards.
 *
 * Graph has no direct read of the setting. Two sources, best first:
 *  1. the Exchange Online reader (Get-AdminAuditLogConfig → UnifiedAuditLogIngestionEnabled), when
 *     EXCHANGE_READER=on — live;
 *  2. the Secure Score control `mip_search_auditlog` ("Ensure Microsoft 365 audit log search is
 *     Enabled") in the latest secureScore — refreshed about daily, so it can lag a recent change.
 * Unknown when neither is available.
 */
import type { SecureScore, SecureScoreControlProfile } from '@microsoft/microsoft-graph-types';
import { exchangeGap, EXCHANGE_NOT_CONFIGURED } from './mailForwarding';
import { gapFor } from './mfaRegistration';
import type { Check, CheckResult, Finding, Gap } from './types';

export const AUDIT_CONTROL = 'mip_search_auditlog';

export interface AuditLogReads {
  /** From the Exchange reader; undefined = not configured or failed. */
  exchangeEnabled?: boolean;
  exchangeConfigured: boolean;
  /** The control's score in the latest Secure Score, and when that was computed; null = not present/readable. */
  control: { score: number; maxScore: number | null; scoreInPercentage: number | null; asOf: string } | null;
  gaps: Gap[];
}

export interface AuditLogData {
  state: 'on' | 'off' | 'unknown';
  source: 'exchange' | 'securescore' | 'none';
  asOf: string | null;
  notes: string[];
}

export const auditLog: Check<AuditLogReads, AuditLogData> = {
  id: 'audit.log',
  title: 'Audit logging',
  why: 'Without the unified audit log nobody can tell afterwards who read, forwarded or deleted what.',
  ask: 'is audit logging on?',
  questions: [
    /\baudit(?:ing)?\s*log(?:ging|s)?\b.*\b(?:on|enabled|off|disabled|turned on|switched on|working|recording|status)\b/,
    /\b(?:is|are)\s+(?:the\s+)?(?:unified\s+)?audit(?:ing)?(?:\s*log(?:ging|s)?)?\s+(?:on|enabled|working|recording|turned on|switched on)\b/,
    /\baudit logging\b/,
    /\bunified audit\b/,
  ],
  // A few requests at any size: checked between full scans too.
  frequent: true,
  reads: [
    { request: 'GET /security/secureScores?$top=1 (control mip_search_auditlog)', permission: 'SecurityEvents.Read.All' },
    { request: 'GET /security/secureScoreControlProfiles', permission: 'SecurityEvents.Read.All' },
    { request: 'Exchange admin API: Get-AdminAuditLogConfig (optional)', permission: 'Exchange.ManageAsApp (Office 365 Exchange Online)' },
  ],
  read: async (ctx) => {
    const gaps: Gap[] = [];
    let exchangeEnabled: boolean | undefined;
    if (ctx.settings?.exchange) {
      exchangeEnabled = await ctx.settings.exchange.unifiedAuditLogEnabled().catch((err) => {
        gaps.push(exchangeGap(err, 'Audit log setting (Exchange Online)'));
        return undefined;
      });
    }
    let control: AuditLogReads['control'] = null;
    try {
      const latest = (await ctx.graph.get<{ value: SecureScore[] }>('/security/secureScores', { query: { $top: 1 } })).value?.[0];
      const c = latest?.controlScores?.find((x) => x.controlName === AUDIT_CONTROL) as (NonNullable<SecureScore['controlScores']>[number] & { scoreInPercentage?: number }) | undefined;
      if (latest && c) {
        const profiles = await ctx.graph.all<SecureScoreControlProfile>('/security/secureScoreControlProfiles', { query: { $select: 'id,maxScore' } }).catch(() => []);
        const max = profiles.find((p) => p.id === AUDIT_CONTROL)?.maxScore ?? null;
        control = { score: c.score ?? 0, maxScore: max, scoreInPercentage: typeof c.scoreInPercentage === 'number' ? c.scoreInPercentage : null, asOf: latest.createdDateTime ?? '' };
      }
    } catch (err) {
      // Only a real gap when the reader did not answer either.
      if (exchangeEnabled === undefined) gaps.push(gapFor(err, 'Secure Score (audit log search control)', 'SecurityEvents.Read.All'));
    }
    if (!ctx.settings?.exchange && control === null) gaps.push({ ...EXCHANGE_NOT_CONFIGURED, what: 'The audit log setting itself' });
    return { exchangeEnabled, exchangeConfigured: Boolean(ctx.settings?.exchange), control, gaps };
  },
  evaluate: evaluateAuditLog,
};

export function evaluateAuditLog(reads: AuditLogReads, now: Date): CheckResult<AuditLogData> {
  let state: AuditLogData['state'] = 'unknown';
  let source: AuditLogData['source'] = 'none';
  let asOf: string | null = null;
  const notes: string[] = [];
  if (reads.exchangeEnabled !== undefined) {
    state = reads.exchangeEnabled ? 'on' : 'off';
    source = 'exchange';
    asOf = now.toISOString();
  } else if (reads.control) {
    const c = reads.control;
    const on = c.maxScore !== null ? c.score >= c.maxScore && c.maxScore > 0 : c.scoreInPercentage !== null ? c.scoreInPercentage >= 100 : c.score > 0;
    state = on ? 'on' : 'off';
    source = 'securescore';
    asOf = c.asOf || null;
    notes.push(`From Secure Score (control ${AUDIT_CONTROL}) as of ${asOf ? asOf.slice(0, 10) : 'its last refresh'}; Secure Score refreshes about once a day, so a change made today may not show yet.`);
    if (!reads.exchangeConfigured) notes.push('With the Exchange Online reader configured (EXCHANGE_READER=on) I would read the setting itself.');
  }
  const findings: Finding[] =
    state === 'off'
      ? [
          {
            severity: 'high',
            subject: { id: 'tenant:audit-log', displayName: 'Unified audit log' },
            detail: 'Audit logging is off. Turn it on in Microsoft Purview → Audit → “Start recording user and admin activity”.',
            remediation: null,
          },
        ]
      : [];
  return {
    id: auditLog.id,
    title: auditLog.title,
    status: state === 'on' ? 'pass' : state === 'off' ? 'fail' : 'unknown',
    reason:
      state === 'on'
        ? 'Unified audit logging is on: activity is being recorded.'
        : state === 'off'
          ? 'Unified audit logging is off: nothing people or attackers do is being recorded.'
          : 'I cannot tell whether unified audit logging is on: neither Secure Score nor the Exchange Online reader answered.',
    findings,
    gaps: reads.gaps,
    data: { state, source, asOf, notes },
    generatedAt: now.toISOString(),
  };
}
