/**
 * Graph reads several checks share: privileged role holders (active and PIM-eligible), users by
 * id, group members, Conditional Access and security defaults, per-user MFA state. Every read is
 * a bounded number of requests ($batch, server-side filters), never one top-level request per user.
 */
import type { ConditionalAccessPolicy, UnifiedRoleAssignment, User } from '@microsoft/microsoft-graph-types';
import type { BatchRequest, BatchResponse, GraphApi, GraphVersion } from '../graph/api';
import { GraphRequestError } from '../graph/errors';
import { gapFor } from './mfaRegistration';
import type { Gap } from './types';

/** The privileged roles the issue names (built-in template ids, the same in every tenant). */
export const PRIVILEGED_ROLES: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  'b0f54661-2d74-4c50-afa3-1ec803f12efe': 'Billing Administrator',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': 'Conditional Access Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
};
export const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';

/** A read a check cannot answer without: the gap says which permission or licence it needs. */
export class ReadFailed extends Error {
  constructor(readonly gap: Gap) {
    super(`${gap.what}: ${gap.reason}`);
    this.name = 'ReadFailed';
  }
}

/** Run an essential read; a failure becomes a ReadFailed naming what the read needs (the runner shows it). */
export async function must<T>(read: Promise<T>, what: string, permission: string, licence?: string): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ReadFailed) throw err;
    throw new ReadFailed(gapFor(err, what, permission, licence));
  }
}

/** `must` for a read that streams (pages): a failure at any page becomes a ReadFailed naming what the read needs. */
export async function* mustEach<T>(read: AsyncIterable<T>, what: string, permission: string, licence?: string): AsyncGenerator<T> {
  try {
    for await (const item of read) yield item;
  } catch (err) {
    if (err instanceof ReadFailed) throw err;
    throw new ReadFailed(gapFor(err, what, permission, licence));
  }
}

/** Graph's limit on values in one directory `in (…)` filter. */
const IDS_PER_FILTER = 15;

export const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** A batched collection read: the first page came in the batch; follow @odata.nextLink for the rest. */
export async function allOf<T>(graph: GraphApi, res: BatchResponse<{ value?: T[]; '@odata.nextLink'?: string }>, version: GraphVersion = 'v1.0'): Promise<T[]> {
  if (res.error) throw res.error;
  const items = [...(res.body?.value ?? [])];
  const next = res.body?.['@odata.nextLink'];
  if (next) items.push(...(await graph.all<T>(next, { version })));
  return items;
}

export type UserFacts = Pick<User, 'id' | 'displayName' | 'userPrincipalName' | 'accountEnabled' | 'userType' | 'createdDateTime' | 'assignedLicenses' | 'mail'>;

/** Users by id: `id in (…)` filters of 15, 20 filters per $batch request. */
export async function usersByIds(graph: GraphApi, ids: string[], select = 'id,displayName,userPrincipalName,accountEnabled,userType,assignedLicenses'): Promise<Record<string, UserFacts>> {
  const unique = [...new Set(ids)];
  const requests: BatchRequest[] = [];
  for (let i = 0; i < unique.length; i += IDS_PER_FILTER) {
    const chunk = unique.slice(i, i + IDS_PER_FILTER).map(quote);
    requests.push({ id: String(requests.length), method: 'GET', url: `/users?$filter=${encodeURIComponent(`id in (${chunk.join(',')})`)}&$select=${select}` });
  }
  const out: Record<string, UserFacts> = {};
  for (const res of await graph.batch<{ value: UserFacts[] }>(requests)) for (const u of await allOf<UserFacts>(graph, res)) out[u.id!] = u;
  return out;
}

/** Transitive user members of groups (CA include/exclude groups, role-assignable groups). */
export async function groupUserMembers(graph: GraphApi, groupIds: string[]): Promise<Record<string, string[]>> {
  const unique = [...new Set(groupIds.map((g) => g.toLowerCase()))];
  const responses = await graph.batch<{ value: Array<{ id: string }> }>(
    unique.map((g, i) => ({ id: String(i), method: 'GET', url: `/groups/${g}/transitiveMembers/microsoft.graph.user?$select=id&$top=999` })),
  );
  const out: Record<string, string[]> = {};
  for (let i = 0; i < unique.length; i++) {
    const res = responses[i];
    // A group deleted since the policy was written: nobody is in it.
    if (res.error?.isNotFound) {
      out[unique[i]] = [];
      continue;
    }
    out[unique[i]] = (await allOf<{ id: string }>(graph, res)).map((m) => m.id.toLowerCase());
  }
  return out;
}

export interface RoleHolder {
  /** Assignment (or eligibility instance) id: what "remove this assignment" acts on. */
  assignmentId: string;
  roleId: string;
  roleName: string;
  kind: 'active' | 'eligible';
  /** '/' = whole tenant; otherwise an administrative unit or object. */
  directoryScopeId: string;
  principalType: 'user' | 'group' | 'servicePrincipal' | 'other';
  principalId: string;
  principalName: string;
  principalUpn: string | null;
  /** For a role-assignable group: its transitive user members. */
  viaGroup?: { id: string; displayName: string };
}

export interface RoleHolderReads {
  holders: RoleHolder[];
  /** false = the tenant has no Entra ID P2 (no PIM), null = not read (permission) */
  eligibilityRead: boolean | null;
  gaps: Gap[];
}

type ExpandedAssignment = UnifiedRoleAssignment & { principal?: { '@odata.type'?: string; id?: string; displayName?: string; userPrincipalName?: string } | null };

/**
 * Holders of the given roles: active assignments from roleManagement (not only activated
 * directoryRoles), plus PIM-eligible ones where the tenant has P2. Group principals are
 * expanded to their members. One $batch per source: one filtered request per role.
 */
export async function readRoleHolders(graph: GraphApi, roleIds: string[] = Object.keys(PRIVILEGED_ROLES), opts: { eligible?: boolean } = {}): Promise<RoleHolderReads> {
  const gaps: Gap[] = [];
  const holders: RoleHolder[] = [];
  const source = async (path: string, kind: RoleHolder['kind']) => {
    const responses = await graph.batch<{ value: ExpandedAssignment[] }>(
      roleIds.map((r, i) => ({ id: String(i), method: 'GET', url: `${path}?$filter=${encodeURIComponent(`roleDefinitionId eq ${quote(r)}`)}&$expand=principal` })),
    );
    const rows: Array<ExpandedAssignment & { kind: RoleHolder['kind'] }> = [];
    for (const res of responses) for (const a of await allOf<ExpandedAssignment>(graph, res)) rows.push({ ...a, kind });
    return rows;
  };
  const active = await source('/roleManagement/directory/roleAssignments', 'active');
  let eligible: Awaited<ReturnType<typeof source>> = [];
  let eligibilityRead: boolean | null = null;
  if (opts.eligible !== false) {
    try {
      eligible = await source('/roleManagement/directory/roleEligibilityScheduleInstances', 'eligible');
      eligibilityRead = true;
    } catch (err) {
      if (err instanceof GraphRequestError && err.isMissingLicence) {
        eligibilityRead = false;
        gaps.push({
          what: 'PIM-eligible admins',
          reason: 'The tenant has no Microsoft Entra ID P2, so there is no Privileged Identity Management: only active role holders are listed.',
          licence: 'Microsoft Entra ID P2',
        });
      } else {
        gaps.push(gapFor(err, 'PIM-eligible admins', 'RoleEligibilitySchedule.Read.Directory', 'Microsoft Entra ID P2'));
      }
    }
  }
  const groups: Array<{ row: (typeof active)[number]; id: string; name: string }> = [];
  for (const a of [...active, ...eligible]) {
    const type = String(a.principal?.['@odata.type'] ?? '').replace('#microsoft.graph.', '');
    const base = {
      assignmentId: a.id!,
      roleId: a.roleDefinitionId!,
      roleName: PRIVILEGED_ROLES[a.roleDefinitionId!] ?? a.roleDefinitionId!,
      kind: a.kind,
      directoryScopeId: a.directoryScopeId ?? '/',
      principalId: a.principalId!,
    };
    if (type === 'group') {
      groups.push({ row: a, id: a.principalId!, name: a.principal?.displayName ?? '' });
      continue;
    }
    holders.push({
      ...base,
      principalType: type === 'user' ? 'user' : type === 'servicePrincipal' ? 'servicePrincipal' : a.principal ? 'other' : 'user',
      principalName: a.principal?.displayName ?? a.principalId!,
      principalUpn: a.principal?.userPrincipalName ?? null,
    });
  }
  if (groups.length) {
    try {
      const members = await groupUserMembers(graph, groups.map((g) => g.id));
      const ids = [...new Set(Object.values(members).flat())];
      const people = await usersByIds(graph, ids, 'id,displayName,userPrincipalName');
      for (const g of groups) {
        for (const uid of members[g.id.toLowerCase()] ?? []) {
          const u = Object.values(people).find((p) => p.id!.toLowerCase() === uid);
          holders.push({
            assignmentId: g.row.id!,
            roleId: g.row.roleDefinitionId!,
            roleName: PRIVILEGED_ROLES[g.row.roleDefinitionId!] ?? g.row.roleDefinitionId!,
            kind: g.row.kind,
            directoryScopeId: g.row.directoryScopeId ?? '/',
            principalType: 'user',
            principalId: u?.id ?? uid,
            principalName: u?.displayName ?? uid,
            principalUpn: u?.userPrincipalName ?? null,
            viaGroup: { id: g.id, displayName: g.name },
          });
        }
      }
    } catch (err) {
      gaps.push(gapFor(err, 'Members of role-assignable groups', 'GroupMember.Read.All'));
    }
  }
  return { holders, eligibilityRead, gaps };
}

export interface PolicyReads {
  /** null = could not be read (see gaps) */
  securityDefaults: boolean | null;
  policies: ConditionalAccessPolicy[] | null;
  /** Transitive user members (lower-cased ids) of every group a policy includes or excludes. */
  groupMembers: Record<string, string[]>;
  gaps: Gap[];
}

/** Security defaults, Conditional Access policies, and the members of the groups they name. */
export async function readPolicies(graph: GraphApi): Promise<PolicyReads> {
  const gaps: Gap[] = [];
  const securityDefaults = await graph
    .get<{ isEnabled?: boolean }>('/policies/identitySecurityDefaultsEnforcementPolicy')
    .then((p) => p.isEnabled === true)
    .catch((err) => {
      gaps.push(gapFor(err, 'Security defaults', 'Policy.Read.All'));
      return null;
    });
  let policies: ConditionalAccessPolicy[] | null = null;
  try {
    policies = await graph.all<ConditionalAccessPolicy>('/identity/conditionalAccess/policies');
  } catch (err) {
    if (err instanceof GraphRequestError && err.isMissingLicence) {
      // Without Entra ID P1 there is no Conditional Access at all: nothing to read is a fact, not a gap.
      policies = [];
    } else {
      gaps.push(gapFor(err, 'Conditional Access policies', 'Policy.Read.All', 'Microsoft Entra ID P1'));
    }
  }
  let groupMembers: Record<string, string[]> = {};
  const groupIds = new Set<string>();
  for (const p of policies ?? []) {
    if (p.state === 'disabled') continue;
    for (const g of [...(p.conditions?.users?.includeGroups ?? []), ...(p.conditions?.users?.excludeGroups ?? [])]) groupIds.add(g.toLowerCase());
  }
  if (groupIds.size) {
    try {
      groupMembers = await groupUserMembers(graph, [...groupIds]);
    } catch (err) {
      gaps.push(gapFor(err, 'Members of the groups Conditional Access policies name', 'GroupMember.Read.All'));
    }
  }
  return { securityDefaults, policies, groupMembers, gaps };
}

export type PerUserMfaState = 'disabled' | 'enabled' | 'enforced';

/**
 * Per-user MFA state (beta `authentication/requirements`): there is no list API, so it is read in
 * $batch, 20 users per request, and only for the people nothing else covers.
 */
export async function readPerUserMfa(graph: GraphApi, userIds: string[]): Promise<{ states: Record<string, PerUserMfaState>; complete: boolean; gaps: Gap[] }> {
  const states: Record<string, PerUserMfaState> = {};
  const gaps: Gap[] = [];
  if (!userIds.length) return { states, complete: true, gaps };
  try {
    // Collected first and applied only when every $batch came back: a $batch that fails leaves no states at all.
    const got: Array<[string, PerUserMfaState]> = [];
    const failed = await readPerUserMfaEach(graph, userIds, (id, state) => void (state && got.push([id.toLowerCase(), state])));
    for (const [id, state] of got) states[id] = state;
    if (failed) gaps.push(gapFor(failed, 'Per-user MFA state', 'Policy.Read.All'));
  } catch (err) {
    gaps.push(gapFor(err, 'Per-user MFA state', 'Policy.Read.All'));
  }
  return { states, complete: gaps.length === 0, gaps };
}

/**
 * Per-user MFA state, each person's handed to `onState` as its $batch comes back (undefined: no
 * such user any more), without holding the others. Returns the first person's read that failed
 * (its state is not handed over); throws when a whole $batch fails.
 */
export async function readPerUserMfaEach(
  graph: GraphApi,
  userIds: Iterable<string> | AsyncIterable<string>,
  onState: (userId: string, state: PerUserMfaState | undefined) => void,
): Promise<GraphRequestError | undefined> {
  let failed: GraphRequestError | undefined;
  // Only the requests in flight are remembered.
  const inFlight = new Map<string, string>();
  let n = 0;
  async function* requests(): AsyncGenerator<BatchRequest> {
    for await (const userId of userIds) {
      const id = String(n++);
      inFlight.set(id, userId);
      yield { id, method: 'GET', url: `/users/${userId}/authentication/requirements` };
    }
  }
  await graph.batchEach<{ perUserMfaState?: PerUserMfaState }>(
    requests(),
    (res) => {
      const userId = inFlight.get(res.id)!;
      inFlight.delete(res.id);
      if (!res.error) onState(userId, res.body?.perUserMfaState ?? 'disabled');
      else if (res.error.isNotFound) onState(userId, undefined);
      else failed ??= res.error;
    },
    'beta',
  );
  return failed;
}

/**
 * EXCLUDED_ACCOUNTS may name people by UPN; policies name them by object id. Returns the list
 * with the object ids of the UPNs added (lower-cased), so either form matches.
 */
export async function withExcludedIds(graph: GraphApi, excluded: string[]): Promise<string[]> {
  const upns = excluded.filter((e) => e.includes('@'));
  if (!upns.length) return excluded;
  const requests: BatchRequest[] = [];
  for (let i = 0; i < upns.length; i += IDS_PER_FILTER) {
    const chunk = upns.slice(i, i + IDS_PER_FILTER).map(quote);
    requests.push({ id: String(requests.length), method: 'GET', url: `/users?$filter=${encodeURIComponent(`userPrincipalName in (${chunk.join(',')})`)}&$select=id,userPrincipalName` });
  }
  const ids: string[] = [];
  try {
    for (const res of await graph.batch<{ value: UserFacts[] }>(requests)) for (const u of await allOf<UserFacts>(graph, res)) ids.push(u.id!.toLowerCase());
  } catch {
    // Unresolvable names simply stay names: matching by UPN still works where the UPN is known.
  }
  return [...new Set([...excluded, ...ids])];
}
