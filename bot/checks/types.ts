/**
 * The shape every security check shares: what it reads from Graph (and which permission and
 * licence that needs), and a pure function from those reads to findings. Reading and judging
 * are separate so the judging can be tested on Graph-shaped JSON alone.
 */
import type { GraphApi } from '../graph/api';
import type { CheckSettings } from './settings';

export type Severity = 'high' | 'medium' | 'low' | 'info';
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface Subject {
  id: string;
  displayName: string;
  userPrincipalName?: string;
}

/** What a fix acts on, when it is not simply the subject (an inbox rule inside a mailbox, a role assignment). */
export interface FixTarget {
  id: string;
  displayName: string;
  detail?: string;
  /** Owner of a nested object (the mailbox user of an inbox rule) */
  userId?: string;
  /** What the fix needs beyond the ids (e.g. an authentication method's type); see ActionTarget.params. */
  params?: Record<string, string | string[]>;
}

export interface Finding {
  severity: Severity;
  subject: Subject;
  detail: string;
  /** Id of the remediation action that fixes this finding, or null when none exists. */
  remediation: string | null;
  /** What the fix acts on; defaults to the subject. */
  target?: FixTarget;
  /**
   * What makes this finding the same one from scan to scan, when the subject alone does not
   * (e.g. the country of a sign-in, the rule id). Never something that changes by itself, like a day count.
   */
  key?: string;
  /** Check-specific facts the card shows (e.g. days since joined). */
  facts?: Record<string, string | number | boolean | null>;
}

/** Something a check could not see, and what would let it see it. */
export interface Gap {
  what: string;
  reason: string;
  /**
   * True when the gap does not make the findings incomplete (an optional extra source that is not
   * configured). Any other gap means findings may be missing, so scans never treat their absence as "fixed".
   */
  informational?: boolean;
  permission?: string;
  licence?: string;
}

/** A Graph read a check makes, with what it needs: documented in the README and shown when missing. */
export interface GraphRead {
  request: string;
  permission: string;
  licence?: string;
}

export interface CheckResult<D = unknown> {
  id: string;
  title: string;
  status: CheckStatus;
  reason: string;
  findings: Finding[];
  gaps: Gap[];
  /** Extra, check-specific figures for its card (totals, chart data). */
  data: D;
  generatedAt: string;
}

export interface CheckContext {
  graph: GraphApi;
  tenantId: string;
  now: Date;
  /** Configuration for this tenant (excluded accounts, countries, Exchange reader); defaults when absent. */
  settings?: CheckSettings;
}

export interface Check<R = unknown, D = unknown> {
  id: string;
  title: string;
  /** One sentence: why this matters, for cards and reports. */
  why: string;
  /** The question the help card suggests, e.g. "who lacks MFA?" */
  ask: string;
  /** Phrases (on lower-cased, punctuation-free text) that ask for this check in chat. */
  questions: RegExp[];
  reads: GraphRead[];
  /**
   * Cheap enough to run between full scans (SCAN_QUICK_INTERVAL): a few requests whatever the
   * tenant's size, and at most a page or two of the reports budget. Quick scans run only these.
   */
  frequent?: boolean;
  /** Fetch what the check needs; failures of optional reads become gaps inside R, never a thrown error. */
  read(ctx: CheckContext): Promise<R>;
  /** Pure: the same reads give the same result. */
  evaluate(reads: R, now: Date): CheckResult<D>;
}
