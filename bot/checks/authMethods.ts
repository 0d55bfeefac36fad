/**
 * auth.methods — accounts whose only second factor is a phone (SMS or voice: SIM swap and
 * real-time phishing beat it), and accounts with several Microsoft Authenticator registrations
 * (old phones never removed: whoever has one of them can approve sign-ins).
 *
 * Reads: enabled members (one paged list); the authentication methods registration report (one
 * paged read, Entra ID P1) for every person's registered method types; then, only for people
 * with the Authenticator app registered, their Authenticator registrations in $batch (20 per
 * request) to count devices. Without P1 the methods of every enabled member are read in $batch.
 */
import type { AuthenticationMethod, MicrosoftAuthenticatorAuthenticationMethod, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import { GraphRequestError } from '../graph/errors';
import { allOf, must, ReadFailed, type UserFacts } from './graphReads';
import { gapFor } from './mfaRegistration';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap, Subject } from './types';

export interface AuthMethodsReads {
  source: 'report' | 'methods';
  users: Array<Pick<UserFacts, 'id' | 'displayName' | 'userPrincipalName'>>;
  /** Registered method types per user id (lower-cased), report vocabulary. */
  registered: Record<string, { methods: string[]; isAdmin: boolean }>;
  /** Authenticator registrations per user id (lower-cased), for people who have the app. */
  authenticators: Record<string, Array<Pick<MicrosoftAuthenticatorAuthenticationMethod, 'id' | 'displayName' | 'createdDateTime' | 'deviceTag'>>>;
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
    const users = await must(
      graph.all<UserFacts>('/users', { query: { $filter: "accountEnabled eq true and userType eq 'Member'", $select: 'id,displayName,userPrincipalName', $top: 999 } }),
      'Enabled members',
      'User.Read.All',
    );
    const registered: AuthMethodsReads['registered'] = {};
    let source: AuthMethodsReads['source'] = 'report';
    try {
      const rows = await graph.all<UserRegistrationDetails>('/reports/authenticationMethods/userRegistrationDetails', {
        query: { $select: 'id,methodsRegistered,isAdmin', $top: 999 },
      });
      for (const r of rows) registered[r.id!.toLowerCase()] = { methods: r.methodsRegistered ?? [], isAdmin: r.isAdmin === true };
    } catch (err) {
      if (!(err instanceof GraphRequestError && err.isMissingLicence)) throw new ReadFailed(gapFor(err, 'Authentication methods registration report', 'AuditLog.Read.All'));
      source = 'methods';
      gaps.push({ what: 'Authentication methods registration report', reason: 'The tenant has no Microsoft Entra ID P1, so I read each person\u2019s methods in batches instead (slower).', licence: 'Microsoft Entra ID P1' });
      const responses = await graph.batch<{ value: AuthenticationMethod[] }>(users.map((u, i) => ({ id: String(i), method: 'GET', url: `/users/${u.id}/authentication/methods` })));
      for (let i = 0; i < users.length; i++) {
        const methods = (await must(allOf<AuthenticationMethod>(graph, responses[i]), 'Authentication methods', 'UserAuthenticationMethod.Read.All')).map((m) => TYPE_TO_METHOD[String((m as Record<string, unknown>)['@odata.type'])] ?? 'other');
        registered[users[i].id!.toLowerCase()] = { methods: [...new Set(methods)], isAdmin: false };
      }
    }
    const withApp = users.filter((u) => (registered[u.id!.toLowerCase()]?.methods ?? []).some((m) => AUTHENTICATOR.has(m)));
    const authenticators: AuthMethodsReads['authenticators'] = {};
    try {
      const responses = await graph.batch<{ value: MicrosoftAuthenticatorAuthenticationMethod[] }>(
        withApp.map((u, i) => ({ id: String(i), method: 'GET', url: `/users/${u.id}/authentication/microsoftAuthenticatorMethods` })),
      );
      for (let i = 0; i < withApp.length; i++) {
        if (responses[i].error?.isNotFound) continue;
        authenticators[withApp[i].id!.toLowerCase()] = await allOf(graph, responses[i]);
      }
    } catch (err) {
      gaps.push(gapFor(err, 'How many Authenticator apps each person has', 'UserAuthenticationMethod.Read.All'));
    }
    return { source, users, registered, authenticators, excludedAccounts: ctx.settings?.excludedAccounts ?? [], gaps };
  },
  evaluate: evaluateAuthMethods,
};

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
    const secondFactors = (reg?.methods ?? []).filter((m) => !NOT_SECOND_FACTOR.has(m));
    const isPhoneOnly = secondFactors.length > 0 && secondFactors.every((m) => PHONE.has(m));
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
