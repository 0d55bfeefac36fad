/**
 * The report's model: one audit of one tenant (every check's result, rated red/amber/green),
 * from which the PDF, the CSV, the terminal table and the versioned JSON contract are all made.
 * Nothing here knows Teams.
 */
import type { Check, CheckResult, Finding, Gap, Severity } from '../checks/types';

/**
 * How a check's row is coloured. `red` means danger and only danger: a check whose findings are
 * all informational is `info`, never red; `unknown` is a check Vigil could not run.
 */
export type Rating = 'red' | 'amber' | 'green' | 'info' | 'unknown';

export type GradeLetter = 'A' | 'B' | 'C' | 'D' | 'F';

export interface Grade {
  /** null when not a single check could run. */
  letter: GradeLetter | null;
  /** One plain-English sentence for the owner ("Serious risk: 4 dangerous issues …"). */
  summary: string;
}

export interface AuditedCheck {
  check: Pick<Check, 'id' | 'title' | 'why'>;
  result: CheckResult;
  rating: Rating;
}

export interface TenantInfo {
  tenantId: string;
  /** The organisation's display name, or the tenant id when Vigil may not read it. */
  name: string;
  /** Default verified domain, when known. */
  domain?: string;
  domains: string[];
  /** Set when the name could not be read (missing permission). */
  gap?: Gap;
}

export interface Audit {
  tenant: TenantInfo;
  generatedAt: Date;
  /** In registry order. */
  checks: AuditedCheck[];
  grade: Grade;
}

/** A finding with the check it came from, for "top findings" lists. */
export interface RankedFinding {
  checkId: string;
  checkTitle: string;
  finding: Finding;
}

/** Something Vigil could not check, with the checks it affected (none for the tenant's own name). */
export interface ReportGap extends Gap {
  checkIds: string[];
  checkTitles: string[];
}

/** Secure Score as far as the `securescore` check exposes it. */
export interface SecureScoreView {
  current: number;
  max: number | null;
  /** Oldest first. */
  history: Array<{ date: string; score: number }>;
}

export type { Severity };
