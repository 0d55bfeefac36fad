/**
 * auth.methods — accounts whose only second factor is a phone (SMS or voice: SIM swap and
 * real-time phishing beat it), and accounts with several Microsoft Authenticator registrations
 * (old phones never removed: whoever has one of them can approve sign-ins).
 *
 * Reads: enabled members (one paged list); the authentication methods registration report (one
 * paged read, Entra ID P1) for every person's registered method types; then, only for people
 * with the Authenticator app registered, their Authenticator registrations in $batch (20 per
 * request) to count devices. Without P1 the methods of every enabled member are read in $batch.
 *
 * The report is read page by page, and each page's Authenticator reads go out as it arrives (while
 * the next page is read, which the reports budget makes slow), not after the last page. The read
 * keeps only what the check reports: people with a phone as their only second factor, and people
 * with several Authenticator registrations.
 */
import type { AuthenticationMethod, MicrosoftAuthenticatorAuthenticationMethod, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import { readAhead, type GraphApi } from '../graph/api';
import { GraphRequestError } from '../graph/errors';
import { allOf, must, mustEach, ReadFailed, type UserFacts } from './graphReads';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

type Member = Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName'>;
type Registration = { methods: string[]; isAdmin: boolean };
type AuthenticatorApp = Pick<MicrosoftAuthenticatorAuthenticationMethod, 'id' | 'displayName' | 'createdDateTime' | 'deviceTag'>;

export interface AuthMethodsReads {
  source: 'report' | 'methods';
  /** Enabled members; as read, only those the check may report (phone only, or several Authenticator apps). */
  users: Member[];
  /** Registered method types per user id (lower-cased), report vocabulary. */
  registered: Record<string, Registration>;
  /** Authenticator registrations per user id (lower-cased), for people who have the app (as read: only those with several). */
  authenticators: Record<string, AuthenticatorApp[]>;
  excludedAccounts: string[];
  gaps: Gap[];
}

export interface AuthMethodsData {
  source: 'report' | 'methods';
  people: number;
  phoneOnly: number;
  severalAuthenticators: number;
  excluded: Subject[];
  notes: string[];
}

const PHONE = new Set(['mobilePhone', 'alternateMobilePhone', 'officePhone']);
/** Registered but not a second factor. */
const NOT_SECOND_FACTOR = new Set(['email', 'securityQuestion', 'password', 'appPassword']);
const AUTHENTICATOR = new Set(['microsoftAuthenticatorPush', 'microsoftAuthenticatorPasswordless', 'passKeyDeviceBoundAuthenticator']);

/** Method object type → report vocabulary (for the fallback without P1). */
const TYPE_TO_METHOD: Record<string, string> = {
  '#microsoft.graph.passwordAuthenticationMethod': 'password',
  '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod': 'microsoftAuthenticatorPush',
  '#microsoft.graph.phoneAuthenticationMethod': 'mobilePhone',
  '#microsoft.graph.softwareOathAuthenticationMethod': 'softwareOneTimePasscode',
  '#microsoft.graph.fido2AuthenticationMethod': 'fido2SecurityKey',
  '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod': 'windowsHelloForBusiness',
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': 'temporaryAccessPass',
  '#microsoft.graph.emailAuthenticationMethod': 'email',
  '#microsoft.graph.platformCredentialAuthenticationMethod': 'macOsSecureEnclaveKey',
  '#microsoft.graph.hardwareOathAuthenticationMethod': 'hardwareOneTimePasscode',
};

export const authMethods: Check<AuthMethodsReads, AuthMethodsData> = {
  id: 'auth.methods',
  title: 'Weak or cluttered MFA methods',
  why: 'SMS and voice codes fall to SIM swaps and phishing; an old phone still registered for Authenticator can approve sign-ins for whoever has it.',
  ask: 'who only has SMS for MFA?',
  questions: [
    /\bauth(?:entication)?\s+methods?\b/,
    /\b(?:sms|text(?:\s+message)?|voice|phone call)[\s-]*only\b/,
    /\bonly\b.*\b(?:sms|text messages?|phone calls?|voice)\b/,
    /\b(?:sms|text messages?|voice calls?)\b.*\b(?:mfa|2fa|second factor|multi[\s-]?factor)\b/,
    /\b(?:several|multiple|many|old|extra|too many)\s+(?:authenticator|authenticators|phones|devices)\b/,
    /\bauthenticator apps?\b/,
    /\bweak\s+(?:mfa|2fa|methods?|second factors?)\b/,
  ],
  reads: [
    { request: 'GET /reports/authenticationMethods/userRegistrationDetails', permission: 'AuditLog.Read.All', licence: 'Microsoft Entra ID P1' },
    { request: 'GET /users?$filter=accountEnabled eq true and userType eq \'Member\'', permission: 'User.Read.All' },
    { request: 'GET /users/{id}/authentication/microsoftAuthenticatorMethods (in $batch, Authenticator users only)', permission: 'UserAuthenticationMethod.Read.All' },
  ],
  read: async (ctx) => {
    const graph = ctx.graph;
    const gaps: Gap[] = [];
    // Every enabled member, by id: the report also lists disabled accounts and guests, who are not judged here.
    const members = new Map<string, Member>();
    for await (const page of mustEach(
      graph.pages<UserFacts>('/users', { query: { $filter: "accountEnabled eq true and userType eq 'Member'", $select: 'id,displayName,userPrincipalName', $top: 999 } }),
      'Enabled members',
      'User.Read.All',
    )) {
      for (const u of page) members.set(u.id!.toLowerCase(), u);
    }
    const keep = new Keeper(graph, gaps);
    let source: AuthMethodsReads['source'] = 'report';
    try {
      const report = readAhead(graph.pages<UserRegistrationDetails>('/reports/authenticationMethods/userRegistrationDetails', { query: { $select: 'id,methodsRegistered,isAdmin', $top: 999 } }));
      for await (const rows of report) {
        // This page's Authenticator reads go out while the next page is read.
        await keep.judge(rows.flatMap((r) => {
          const user = members.get(r.id!.toLowerCase());
          return user ? [{ user, reg: { methods: r.methodsRegistered ?? [], isAdmin: r.isAdmin === true } }] : [];
        }));
      }
    } catch (err) {
      if (!(err instanceof GraphRequestError && err.isMissingLicence)) throw new ReadFailed(gapFor(err, 'Authentication methods registration report', 'AuditLog.Read.All'));
      source = 'methods';
      gaps.push({ what: 'Authentication methods registration report', reason: 'The tenant has no Microsoft Entra ID P1, so I read each person\u2019s methods in batches instead (slower).', licence: 'Microsoft Entra ID P1' });
      keep.clear();
      const users = [...members.values()];
      const judged: Array<{ user: Member; reg: Registration }> = [];
      await graph.batchEach<{ value: AuthenticationMethod[] }>(
        users.map((u, i) => ({ id: String(i), method: 'GET', url: `/users/${u.id}/authentication/methods` })),
        async (res) => {
          const user = users[Number(res.id)];
          const methods = (await must(allOf<AuthenticationMethod>(graph, res), 'Authentication methods', 'UserAuthenticationMethod.Read.All')).map((m) => TYPE_TO_METHOD[String((m as Record<string, unknown>)['@odata.type'])] ?? 'other');
          judged.push({ user, reg: { methods: [...new Set(methods)], isAdmin: false } });
        },
      );
      const order = new Map(users.map((u, i) => [u, i]));
      await keep.judge(judged.sort((a, b) => order.get(a.user)! - order.get(b.user)!));
    }
    // In the members' order, as if every member were judged.
    const users = [...members.values()].filter((u) => keep.registered[u.id!.toLowerCase()]);
    return { source, users, registered: keep.registered, authenticators: keep.authenticators, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateAuthMethods,
};

/** The second factors among registered methods, and whether a phone is the only one. */
function secondFactorsOf(reg: Registration | undefined): { secondFactors: string[]; isPhoneOnly: boolean } {
  const secondFactors = (reg?.methods ?? []).filter((m) => !NOT_SECOND_FACTOR.has(m));
  return { secondFactors, isPhoneOnly: secondFactors.length > 0 && secondFactors.every((m) => PHONE.has(m)) };
}

/**
 * Keeps, of the people judged, only what evaluate reports on: a phone as the only second factor,
 * or several Authenticator registrations (read in $batch for the people with the app). When a
 * read of Authenticator registrations fails, no one's are used (and no more are read): the gap says so.
 */
class Keeper {
  readonly registered: AuthMethodsReads['registered'] = {};
  authenticators: AuthMethodsReads['authenticators'] = {};
  private failed = false;

  constructor(
    private readonly graph: GraphApi,
    private readonly gaps: Gap[],
  ) {}

  async judge(people: Array<{ user: Member; reg: Registration }>): Promise<void> {
    const withApp: Array<{ user: Member; reg: Registration }> = [];
    for (const p of people) {
      if (secondFactorsOf(p.reg).isPhoneOnly) this.registered[p.user.id!.toLowerCase()] = p.reg;
      if (p.reg.methods.some((m) => AUTHENTICATOR.has(m))) withApp.push(p);
    }
    if (this.failed || !withApp.length) return;
    try {
      await this.graph.batchEach<{ value: MicrosoftAuthenticatorAuthenticationMethod[] }>(
        withApp.map((p, i) => ({ id: String(i), method: 'GET', url: `/users/${p.user.id}/authentication/microsoftAuthenticatorMethods` })),
        async (res) => {
          if (res.error?.isNotFound || this.failed) return;
          const { user, reg } = withApp[Number(res.id)];
          const apps = await allOf<AuthenticatorApp>(this.graph, res);
          // (A $batch still in flight when another failed: its answers are not used.)
          if (apps.length < 2 || this.failed) return;
          const id = user.id!.toLowerCase();
          this.authenticators[id] = apps.map(({ id, displayName, createdDateTime, deviceTag }) => ({ id, displayName, createdDateTime, deviceTag }));
          this.registered[id] = reg;
        },
      );
    } catch (err) {
      this.failed = true;
      this.gaps.push(gapFor(err, 'How many Authenticator apps each person has', 'UserAuthenticationMethod.Read.All'));
      // Keep only the people reported for their phone.
      for (const id of Object.keys(this.authenticators)) if (!secondFactorsOf(this.registered[id]).isPhoneOnly) delete this.registered[id];
      this.authenticators = {};
    }
  }

  /** Start again (the report turned out to be unavailable). */
  clear(): void {
    for (const id of Object.keys(this.registered)) delete this.registered[id];
    this.authenticators = {};
    this.failed = false;
  }
}

export function evaluateAuthMethods(reads: AuthMethodsReads, now: Date): CheckResult<AuthMethodsData> {
  const isExcluded = excludedMatcher(reads.excludedAccounts);
  const excluded: Subject[] = [];
  const findings: Finding[] = [];
  let phoneOnly = 0;
  let several = 0;
  for (const u of reads.users) {
    const subject: Subject = { id: u.id!, displayName: u.displayName ?? '', userPrincipalName: u.userPrincipalName ?? '' };
    const reg = reads.registered[u.id!.toLowerCase()];
    const apps = reads.authenticators[u.id!.toLowerCase()] ?? [];
    const { secondFactors, isPhoneOnly } = secondFactorsOf(reg);
    if (!isPhoneOnly && apps.length < 2) continue;
    if (isExcluded(u)) {
      excluded.push(subject);
      continue;
    }
    if (isPhoneOnly) {
      phoneOnly++;
      findings.push({
        severity: reg?.isAdmin ? 'high' : 'medium',
        subject,
        detail: `Only second factor: ${secondFactors.includes('officePhone') && !secondFactors.includes('mobilePhone') ? 'office phone call' : 'SMS or voice call to a phone'}${reg?.isAdmin ? ' · admin' : ''} — ask them to set up the Authenticator app or a passkey`,
        remediation: null,
        key: 'phone-only',
        facts: { isAdmin: reg?.isAdmin === true },
      });
    }
    if (apps.length >= 2) {
      several++;
      const oldestFirst = [...apps].sort((a, b) => (a.createdDateTime ?? '').localeCompare(b.createdDateTime ?? ''));
      const oldest = oldestFirst[0];
      const list = oldestFirst.map((a) => `${a.displayName || 'unnamed device'}${a.createdDateTime ? ` (added ${a.createdDateTime.slice(0, 10)})` : ''}`).join(', ');
      findings.push({
        severity: reg?.isAdmin ? 'high' : 'medium',
        subject,
        detail: `${apps.length} Authenticator registrations: ${list} — remove the phones no longer in use`,
        remediation: 'authMethod.remove',
        target: { id: oldest.id!, displayName: `${oldest.displayName || 'Authenticator'} (Authenticator)`, detail: subject.userPrincipalName, userId: subject.id, params: { methodType: 'microsoftAuthenticator' } },
        key: 'several-authenticators',
        facts: { authenticators: apps.length, isAdmin: reg?.isAdmin === true },
      });
    }
  }
  findings.sort((a, b) => ['high', 'medium', 'low', 'info'].indexOf(a.severity) - ['high', 'medium', 'low', 'info'].indexOf(b.severity) || a.subject.displayName.localeCompare(b.subject.displayName));
  const people = findings.length ? new Set(findings.map((f) => f.subject.id)).size : 0;
  const parts = [phoneOnly ? `${phoneOnly} ${phoneOnly === 1 ? 'person relies' : 'people rely'} on SMS or voice alone` : '', several ? `${several} ${several === 1 ? 'has' : 'have'} several Authenticator apps registered` : '']
    .filter(Boolean)
    .join('; ');
  return {
    id: authMethods.id,
    title: authMethods.title,
    status: findings.some((f) => f.severity === 'high') ? 'fail' : findings.length ? 'warn' : 'pass',
    reason: findings.length ? `${parts}.` : 'Everyone with MFA uses a strong method, with no stale Authenticator registrations.',
    findings,
    gaps: reads.gaps,
    data: {
      source: reads.source,
      people,
      phoneOnly,
      severalAuthenticators: several,
      excluded,
      notes: reads.source === 'methods' ? ['Read person by person (no Entra ID P1 for the registration report).'] : [],
    },
    generatedAt: now.toISOString(),
  };
}
