/**
 * signins.countries — successful sign-ins in the last N days (SIGNIN_LOOKBACK_DAYS, default 30)
 * from countries outside the allowed list (ALLOWED_COUNTRIES, default: the tenant's own country
 * from /organization), one finding per person with every country, never one per sign-in.
 *
 * Reads: /organization (country), and the sign-in log filtered server-side to successful
 * sign-ins in the window (status/errorCode eq 0), paged 1,000 at a time with only the fields
 * needed. The sign-in log API needs Entra ID P1. Sign-ins are counted per person and country as
 * the pages arrive; no page is held after it is counted.
 */
import type { Organization, SignIn } from '@microsoft/microsoft-graph-types';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export type SignInRow = Pick<SignIn, 'id' | 'createdDateTime' | 'userId' | 'userDisplayName' | 'userPrincipalName' | 'appDisplayName' | 'ipAddress' | 'location' | 'clientAppUsed' | 'status'>;

export interface SigninsCountriesReads {
  /** From ALLOWED_COUNTRIES; empty = use the tenant's country. */
  configuredCountries: string[];
  tenantCountry: string | null;
  days: number;
  since: string;
  /** The sign-ins, or (as read) what counting them as they arrived gave; null = could not be read (see gaps). */
  signIns: SignInRow[] | SignInCounts | null;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface CountryVisit {
  country: string;
  countryName: string;
  count: number;
  cities: string[];
  first: string;
  last: string;
}

export interface SigninsCountriesData {
  allowed: string[];
  days: number;
  signIns: number;
  people: Array<{ id: string; displayName: string; countries: CountryVisit[] }>;
  excluded: Subject[];
  notes: string[];
}

/** Sign-ins counted against the allowed countries, without the rows. */
export interface SignInCounts {
  /** Rows read (pages may overlap) and distinct sign-ins among them. */
  rows: number;
  distinct: number;
  unknownLocation: number;
  /** Per person (in the order first seen), their sign-ins from countries not allowed. */
  people: Array<{ subject: Subject; visits: Map<string, CountryVisit> }>;
  excluded: Subject[];
}

const SELECT = 'id,createdDateTime,userId,userDisplayName,userPrincipalName,appDisplayName,ipAddress,location,clientAppUsed,status';

export const signinsCountries: Check<SigninsCountriesReads, SigninsCountriesData> = {
  id: 'signins.countries',
  title: 'Sign-ins from unexpected countries',
  why: 'A successful sign-in from a country nobody works in usually means a stolen password that worked.',
  ask: 'any strange sign-ins?',
  questions: [
    /\b(?:strange|suspicious|unusual|weird|odd|foreign|unexpected|dodgy|impossible)\b.*\b(?:sign[\s-]?ins?|log[\s-]?ins?|logons?|access)\b/,
    /\b(?:sign[\s-]?ins?|log[\s-]?ins?|logons?|signed in|logged in)\b.*\b(?:abroad|overseas|countr(?:y|ies)|foreign|outside|elsewhere|locations?)\b/,
    /\bwho\b.*\b(?:signed|logged)\s+in\s+from\b/,
  ],
  reads: [
    { request: 'GET /auditLogs/signIns?$filter=createdDateTime ge … and status/errorCode eq 0', permission: 'AuditLog.Read.All', licence: 'Microsoft Entra ID P1' },
    { request: 'GET /organization?$select=countryLetterCode', permission: 'Organization.Read.All' },
  ],
  read: async (ctx) => {
    const gaps: Gap[] = [];
    const days = ctx.settings?.signInLookbackDays ?? 30;
    const since = new Date(ctx.now.getTime() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const tenantCountry = await ctx.graph
      .get<{ value: Organization[] }>('/organization', { query: { $select: 'id,countryLetterCode' } })
      .then((r) => r.value?.[0]?.countryLetterCode?.toUpperCase() ?? null)
      .catch((err) => {
        if (!ctx.settings?.allowedCountries.length) gaps.push(gapFor(err, "The tenant's country", 'Organization.Read.All'));
        return null;
      });
    const configuredCountries = ctx.settings?.allowedCountries ?? [];
    const excludedAccounts = ctx.settings?.excludedAccounts ?? [];
    const counter = new SignInCounter(allowedCountries(configuredCountries, tenantCountry), excludedAccounts);
    let signIns: SignInCounts | null;
    try {
      for await (const page of ctx.graph.pages<SignInRow>('/auditLogs/signIns', { query: { $filter: `createdDateTime ge ${since} and status/errorCode eq 0`, $select: SELECT, $top: 1000 } })) {
        counter.add(page);
      }
      signIns = counter.result();
    } catch (err) {
      gaps.push(gapFor(err, 'Sign-in logs', 'AuditLog.Read.All', 'Microsoft Entra ID P1'));
      signIns = null;
    }
    return { configuredCountries, tenantCountry, days, since, signIns, excludedAccounts, gaps };
  },
  evaluate: evaluateSigninsCountries,
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
export function countryName(code: string): string {
  try {
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** ALLOWED_COUNTRIES, or else the tenant's own country (upper-case). */
function allowedCountries(configured: string[], tenantCountry: string | null): string[] {
  return configured.length ? configured.map((c) => c.toUpperCase()) : tenantCountry ? [tenantCountry] : [];
}

/** Counts sign-ins per person and country outside the allowed ones, a page at a time. */
class SignInCounter {
  private readonly allowed: Set<string>;
  private readonly isExcluded: ReturnType<typeof excludedMatcher>;
  private readonly excluded = new Map<string, Subject>();
  private readonly byUser = new Map<string, { subject: Subject; visits: Map<string, CountryVisit> }>();
  /** Ids seen: pages can overlap while new sign-ins arrive, and each sign-in counts once. */
  private readonly seen = new Set<string>();
  private rows = 0;
  private unknownLocation = 0;

  constructor(allowed: string[], excludedAccounts: string[]) {
    this.allowed = new Set(allowed);
    this.isExcluded = excludedMatcher(excludedAccounts);
  }

  add(rows: readonly SignInRow[]): void {
    this.rows += rows.length;
    // Without allowed countries nothing is judged (evaluate says so); only the rows are counted.
    if (!this.allowed.size) return;
    for (const s of rows) {
      if (s.id && this.seen.has(s.id)) continue;
      if (s.id) this.seen.add(s.id);
      if ((s.status?.errorCode ?? 0) !== 0) continue;
      const country = (s.location?.countryOrRegion ?? '').toUpperCase();
      if (!country) {
        this.unknownLocation++;
        continue;
      }
      if (this.allowed.has(country) || !s.userId) continue;
      const subject: Subject = { id: s.userId, displayName: s.userDisplayName ?? '', userPrincipalName: s.userPrincipalName ?? '' };
      if (this.isExcluded({ id: s.userId, userPrincipalName: s.userPrincipalName })) {
        this.excluded.set(s.userId.toLowerCase(), subject);
        continue;
      }
      const entry = this.byUser.get(s.userId.toLowerCase()) ?? { subject, visits: new Map<string, CountryVisit>() };
      const at = s.createdDateTime ?? '';
      const v = entry.visits.get(country) ?? { country, countryName: countryName(country), count: 0, cities: [], first: at, last: at };
      v.count++;
      if (s.location?.city && !v.cities.includes(s.location.city)) v.cities.push(s.location.city);
      if (at && (!v.first || at < v.first)) v.first = at;
      if (at && at > v.last) v.last = at;
      entry.visits.set(country, v);
      this.byUser.set(s.userId.toLowerCase(), entry);
    }
  }

  result(): SignInCounts {
    return { rows: this.rows, distinct: this.seen.size, unknownLocation: this.unknownLocation, people: [...this.byUser.values()], excluded: [...this.excluded.values()] };
  }
}

export function evaluateSigninsCountries(reads: SigninsCountriesReads, now: Date): CheckResult<SigninsCountriesData> {
  const allowed = allowedCountries(reads.configuredCountries, reads.tenantCountry);
  const base = { id: signinsCountries.id, title: signinsCountries.title, gaps: reads.gaps, generatedAt: now.toISOString() };
  let counts: SignInCounts | null = null;
  if (Array.isArray(reads.signIns)) {
    const counter = new SignInCounter(allowed, reads.excludedAccounts);
    counter.add(reads.signIns);
    counts = counter.result();
  } else counts = reads.signIns;
  if (counts === null || allowed.length === 0) {
    return {
      ...base,
      status: 'unknown',
      reason: counts === null ? 'I could not read the sign-in logs.' : 'I do not know which countries are expected: set ALLOWED_COUNTRIES.',
      findings: [],
      data: { allowed, days: reads.days, signIns: counts?.rows ?? 0, people: [], excluded: [], notes: [] },
    };
  }
  const { people: byUser, unknownLocation } = counts;
  const findings: Finding[] = [];
  const people: SigninsCountriesData['people'] = [];
  for (const { subject, visits } of byUser) {
    const countries = [...visits.values()].sort((a, b) => b.last.localeCompare(a.last));
    people.push({ id: subject.id, displayName: subject.displayName, countries });
    const total = countries.reduce((n, c) => n + c.count, 0);
    const last = countries[0].last;
    findings.push({
      severity: 'high',
      subject,
      detail: `${total} successful sign-in${total === 1 ? '' : 's'} from ${countries
        .map((c) => `${c.countryName}${c.cities.length ? ` (${c.cities.slice(0, 3).join(', ')})` : ''}${countries.length > 1 ? ` ×${c.count}` : ''}`)
        .join(', ')} · last ${ago(last, now)}`,
      remediation: 'user.revokeSessions',
      key: countries.map((c) => c.country).sort().join(','),
      facts: { countries: countries.map((c) => c.country).join(','), lastSignIn: last, count: total },
    });
  }
  findings.sort((a, b) => String(b.facts?.lastSignIn).localeCompare(String(a.facts?.lastSignIn)));
  const names = allowed.map(countryName).join(', ');
  const notes = [`Allowed: ${names}${reads.configuredCountries.length ? ' (ALLOWED_COUNTRIES)' : " (the tenant's country; set ALLOWED_COUNTRIES to change)"}.`];
  if (unknownLocation) notes.push(`${unknownLocation} sign-in${unknownLocation === 1 ? '' : 's'} had no location.`);
  return {
    ...base,
    status: findings.length ? 'fail' : 'pass',
    reason: findings.length
      ? `${findings.length} ${findings.length === 1 ? 'person' : 'people'} signed in successfully from outside ${names} in the last ${reads.days} days.`
      : `Every successful sign-in in the last ${reads.days} days came from ${names}.`,
    findings,
    data: { allowed, days: reads.days, signIns: counts.distinct, people, excluded: counts.excluded, notes },
  };
}

export function ago(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'at an unknown time';
  const days = Math.floor((now.getTime() - t) / 86_400_000);
  if (days <= 0) return 'today';
  return days === 1 ? 'yesterday' : `${days} days ago`;
}
