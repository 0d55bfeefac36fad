/**
 * The versioned JSON contract of `vigil audit --format json` (schemaVersion 1). Its JSON Schema is
 * kept beside this file (schema/audit-report.v1.schema.json) and the tests validate real output
 * against it. Only documented fields are emitted: check-specific `data` and `facts` stay out of the
 * contract so a check's internals can change without breaking a pipeline.
 */
import schema from './schema/audit-report.v1.schema.json';
import type { Audit } from './types';

export const SCHEMA_VERSION = 1 as const;
export const AUDIT_REPORT_SCHEMA: Record<string, unknown> = schema;

export interface AuditReportV1 {
  schemaVersion: typeof SCHEMA_VERSION;
  tenantId: string;
  tenantName: string;
  generatedAt: string;
  grade: 'A' | 'B' | 'C' | 'D' | 'F' | null;
  checks: Array<{
    id: string;
    title: string;
    status: 'pass' | 'warn' | 'fail' | 'unknown';
    rating: 'red' | 'amber' | 'green' | 'info' | 'unknown';
    reason: string;
    findings: Array<{
      severity: 'high' | 'medium' | 'low' | 'info';
      subject: { id: string; displayName: string; userPrincipalName: string | null };
      detail: string;
      remediation: string | null;
    }>;
    gaps: Array<{ what: string; reason: string; permission: string | null; licence: string | null }>;
  }>;
}

export function toAuditReport(audit: Audit): AuditReportV1 {
  return {
    schemaVersion: SCHEMA_VERSION,
    tenantId: audit.tenant.tenantId,
    tenantName: audit.tenant.name,
    generatedAt: audit.generatedAt.toISOString(),
    grade: audit.grade.letter,
    checks: audit.checks.map(({ check, result, rating }) => ({
      id: check.id,
      title: check.title,
      status: result.status,
      rating,
      reason: result.reason,
      findings: result.findings.map((f) => ({
        severity: f.severity,
        subject: { id: f.subject.id, displayName: f.subject.displayName, userPrincipalName: f.subject.userPrincipalName ?? null },
        detail: f.detail,
        remediation: f.remediation ?? null,
      })),
      gaps: result.gaps.map((g) => ({ what: g.what, reason: g.reason, permission: g.permission ?? null, licence: g.licence ?? null })),
    })),
  };
}
