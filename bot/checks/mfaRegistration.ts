/**
 * mfa.registration — enabled member accounts with no MFA method registered.
 *
 * The seeds' main story: MFA was "turned on for everyone" once, and the people who joined
 * since slipped through. So the list is newest joiners first, each marked "joined N days ago".
 *
 * Reads (never one request per user):
 *  1. the registration report filtered server-side to isMfaRegistered eq false, so paging
 *     covers only the people who lack MFA;
 *  2. those people's account facts (enabled, member/guest, created) via $batch of
 *     `/users?$filter=id in (…)` — 15 ids per filter, 20 filters per batch;
 *  3. one $count of enabled members for the "N out of M".
 * Without Entra ID P1 the report answers 403: we fall back to listing users and reading each
 * one's methods in $batch (slower, and the card says so).
 */
import type { AuthenticationMethod, UnifiedRoleAssignment, User, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import type { BatchRequest, GraphApi } from '../graph/api';
import { GraphRequestError } from '../graph/errors';
import { excludedMatcher } from './settings';
import type { Check, CheckResult, Finding, Gap } from './types';

export interface PersonLackingMfa {
  id: string;
  displayName: string;
  userPrincipalName: string;
  createdDateTime: string | null;
  isAdmin: boolean;
}

export interface MfaRegistrationReads {
  source: 'report' | 'methods';
  /** Registration rows (or method-derived equivalents) of everyone lacking MFA, any user type. */
  lacking: Array<Pick<UserRegistrationDetails, 'id' | 'userPrincipalName' | 'userDisplayName' | 'isAdmin' | 'userType'>>;
  /** Account facts for those people, by id. */
  accounts: Record<string, Pick<User, 'id' | 'displayName' | 'userPrincipalName' | 'accountEnabled' | 'userType' | 'createdDateTime'>>;
  enabledMembers: number | null;
  gaps: Gap[];
  /** EXCLUDED_ACCOUNTS (UPNs or object ids): shown as excluded, never as findings. */
  excludedAccounts?: string[];
}

export interface MfaRegistrationData {
  source: 'report' | 'methods';
  enabledMembers: number | null;
  membersLacking: PersonLackingMfa[];
  guestsLacking: number;
  excluded?: Array<{ id: string; displayName: string; userPrincipalName?: string }>;
}

/** Ways people write "MFA" in questions. */
export const MFA = String.raw`(?:mfa|multi[\s-]?factor(?:\s+auth(?:entication)?)?|2fa|two[\s-]?factor|two[\s-]?step)`;

const REPORT = '/reports/authenticationMethods/userRegistrationDetails';
const USER_FIELDS = 'id,displayName,userPrincipalName,accountEnabled,userType,createdDateTime';
/** Graph's limit on values in one `in (…)` filter clause. */
const IDS_PER_FILTER = 15;
/** Method types that are not a second factor. */
const NOT_MFA = new Set(['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.emailAuthenticationMethod']);

export const mfaRegistration: Check<MfaRegistrationReads, MfaRegistrationData> = {
  id: 'mfa.registration',
  title: 'People without MFA',
  why: 'An account without MFA falls to one phished or reused password; new joiners are the usual gap.',
  ask: 'who lacks MFA?',
  questions: [
    // who lacks MFA / which users don't have MFA / users without multi-factor / missing MFA
    new RegExp(
      String.raw`\b(?:lacks?|lacking|without|missing|no|(?:do|does|did)\s*n[o']?t\s+(?:have|use)|not\s+(?:have|using|registered|enrolled|set\s*up))\b.*\b${MFA}\b`,
    ),
    // mfa status / mfa report / mfa registration / mfa gaps / check mfa
    new RegExp(String.raw`(?:\b${MFA}\b.*\b(?:status|report|registration|registered|gaps?|coverage|audit|list)\b|^(?:check|show|audit)\s+${MFA}\b|^${MFA}$)`),
  ],
  // A few requests at any size: checked between full scans too.
  frequent: true,
  reads: [
    { request: `GET ${REPORT}?$filter=isMfaRegistered eq false`, permission: 'AuditLog.Read.All', licence: 'Microsoft Entra ID P1' },
    { request: 'GET /users?$filter=id in (…) (in $batch)', permission: 'User.Read.All' },
    { request: 'GET /users/$count', permission: 'User.Read.All' },
  ],
  read: async (ctx) => ({ ...(await readMfaRegistration(ctx.graph)), excludedAccounts: ctx.settings?.excludedAccounts ?? [] }),
  evaluate: evaluateMfaRegistration,
};

export async function readMfaRegistration(graph: GraphApi): Promise<MfaRegistrationReads> {
  const gaps: Gap[] = [];
  let source: MfaRegistrationReads['source'] = 'report';
  let lacking: MfaRegistrationReads['lacking'];
  let accounts: MfaRegistrationReads['accounts'] = {};
  try {
    lacking = await graph.all<UserRegistrationDetails>(REPORT, {
      query: { $filter: 'isMfaRegistered eq false', $select: 'id,userPrincipalName,userDisplayName,isAdmin,userType', $top: 999 },
    });
    accounts = await usersByIds(graph, lacking.map((r) => r.id!));
  } catch (err) {
    if (!(err instanceof GraphRequestError && err.isMissingLicence)) throw err;
    gaps.push({
      what: 'Authentication methods registration report',
      reason: 'The tenant has no Microsoft Entra ID P1 licence, so I read each user\u2019s methods one by one instead (slower).',
      licence: 'Microsoft Entra ID P1',
    });
    source = 'methods';
    ({ lacking, accounts } = await readFromMethods(graph, gaps));
  }
  const enabledMembers = await graph
    .count('/users', "accountEnabled eq true and userType eq 'Member'")
    .catch((err) => {
      gaps.push(gapFor(err, 'Count of enabled members', 'User.Read.All'));
      return null;
    });
  return { source, lacking, accounts, enabledMembers, gaps };
}

/** Account facts for many ids: `id in (…)` filters, batched. */
export async function usersByIds(graph: GraphApi, ids: string[]): Promise<MfaRegistrationReads['accounts']> {
  const requests: BatchRequest[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_FILTER) {
    const chunk = ids.slice(i, i + IDS_PER_FILTER).map((id) => `'${id.replace(/'/g, "''")}'`);
    requests.push({
      id: String(requests.length),
      method: 'GET',
      url: `/users?$filter=${encodeURIComponent(`id in (${chunk.join(',')})`)}&$select=${USER_FIELDS}`,
    });
  }
  const out: MfaRegistrationReads['accounts'] = {};
  for (const res of await graph.batch<{ value: User[]; '@odata.nextLink'?: string }>(requests)) {
    if (res.error) throw res.error;
    // Graph may page even a 15-id filter: follow the link rather than lose people.
    for (const u of [...(res.body?.value ?? []), ...(await graph.rest<User>(res.body))]) out[u.id!] = u;
  }
  return out;
}

/** The fallback without P1: list users, read each one's methods in $batch, mark admins from role assignments. */
async function readFromMethods(graph: GraphApi, gaps: Gap[]): Promise<Pick<MfaRegistrationReads, 'lacking' | 'accounts'>> {
  const users = await graph.all<User>('/users', { query: { $select: USER_FIELDS, $top: 999 } });
  const candidates = users.filter((u) => u.accountEnabled !== false);
  const admins = await graph
    .all<UnifiedRoleAssignment>('/roleManagement/directory/roleAssignments', { query: { $select: 'principalId' } })
    .then((rows) => new Set(rows.map((r) => r.principalId)))
    .catch((err) => {
      gaps.push(gapFor(err, 'Which people are admins', 'RoleManagement.Read.Directory'));
      return new Set<string | null | undefined>();
    });
  const responses = await graph.batch<{ value: AuthenticationMethod[] }>(
    candidates.map((u, i) => ({ id: String(i), method: 'GET', url: `/users/${u.id}/authentication/methods` })),
  );
  const lacking: MfaRegistrationReads['lacking'] = [];
  responses.forEach((res, i) => {
    if (res.error) throw res.error;
    const methods = res.body?.value ?? [];
    const hasMfa = methods.some((m) => !NOT_MFA.has(String((m as Record<string, unknown>)['@odata.type'])));
    const u = candidates[i];
    if (!hasMfa) {
      lacking.push({
        id: u.id!,
        userPrincipalName: u.userPrincipalName ?? '',
        userDisplayName: u.displayName ?? '',
        isAdmin: admins.has(u.id),
        userType: u.userType === 'Guest' ? 'guest' : 'member',
      });
    }
  });
  return { lacking, accounts: Object.fromEntries(users.map((u) => [u.id!, u])) };
}

export function evaluateMfaRegistration(reads: MfaRegistrationReads, now: Date): CheckResult<MfaRegistrationData> {
  const members: PersonLackingMfa[] = [];
  const excluded: NonNullable<MfaRegistrationData['excluded']> = [];
  const isExcluded = excludedMatcher(reads.excludedAccounts ?? []);
  let guestsLacking = 0;
  for (const row of reads.lacking) {
    const account = reads.accounts[row.id!];
    // A person we cannot see in /users (deleted since the report ran) or a disabled account is no risk today.
    if (!account || account.accountEnabled === false) continue;
    if (isExcluded({ id: row.id, userPrincipalName: account.userPrincipalName ?? row.userPrincipalName })) {
      excluded.push({ id: row.id!, displayName: account.displayName ?? row.userDisplayName ?? '', userPrincipalName: account.userPrincipalName ?? row.userPrincipalName ?? '' });
      continue;
    }
    if ((account.userType ?? row.userType ?? '').toLowerCase() === 'guest') {
      guestsLacking++;
      continue;
    }
    members.push({
      id: row.id!,
      displayName: account.displayName ?? row.userDisplayName ?? '',
      userPrincipalName: account.userPrincipalName ?? row.userPrincipalName ?? '',
      createdDateTime: account.createdDateTime ?? null,
      isAdmin: row.isAdmin === true,
    });
  }
  members.sort(newestFirst);
  const findings: Finding[] = members.map((p) => ({
    severity: p.isAdmin ? 'high' : 'medium',
    subject: { id: p.id, displayName: p.displayName, userPrincipalName: p.userPrincipalName },
    detail: describePerson(p, now),
    remediation: 'mfa.require',
    facts: { daysSinceJoined: daysSince(p.createdDateTime, now), isAdmin: p.isAdmin, createdDateTime: p.createdDateTime },
  }));
  const total = reads.enabledMembers;
  const status = members.some((m) => m.isAdmin) ? 'fail' : members.length ? 'fail' : guestsLacking ? 'warn' : 'pass';
  const reason = members.length
    ? `${members.length}${total !== null ? ` of ${total}` : ''} enabled member accounts have no MFA method registered.`
    : guestsLacking
      ? `Every enabled member has MFA; ${guestsLacking} guest${guestsLacking === 1 ? '' : 's'} do not.`
      : 'Every enabled member account has MFA registered.';
  return {
    id: mfaRegistration.id,
    title: mfaRegistration.title,
    status,
    reason,
    findings,
    gaps: reads.gaps,
    data: { source: reads.source, enabledMembers: total, membersLacking: members, guestsLacking, excluded },
    generatedAt: now.toISOString(),
  };
}

function newestFirst(a: PersonLackingMfa, b: PersonLackingMfa): number {
  return (b.createdDateTime ?? '').localeCompare(a.createdDateTime ?? '') || a.displayName.localeCompare(b.displayName);
}

export function daysSince(iso: string | null | undefined, now: Date): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((now.getTime() - t) / 86_400_000));
}

function describePerson(p: PersonLackingMfa, now: Date): string {
  const days = daysSince(p.createdDateTime, now);
  const joined = days === null ? 'join date unknown' : days === 0 ? 'joined today' : `joined ${days} day${days === 1 ? '' : 's'} ago`;
  return p.isAdmin ? `${joined} · admin` : joined;
}

/** Turn a failed read into a gap that names what to add. */
export function gapFor(err: unknown, what: string, permission: string, licence?: string): Gap {
  if (err instanceof GraphRequestError) {
    if (err.isMissingLicence) return { what, reason: `The tenant lacks the licence this needs (${err.code}).`, licence: licence ?? 'Microsoft Entra ID P1' };
    if (err.isMissingPermission) return { what, reason: `Vigil's app lacks the Graph permission ${permission}.`, permission };
    return { what, reason: `Graph answered ${err.status} ${err.code}.` };
  }
  return { what, reason: err instanceof Error ? err.message : String(err) };
}
