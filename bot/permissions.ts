/**
 * The one table of every application permission Vigil can use: which feature needs it, whether
 * it is read or write, and whether a read-only install grants it. It is derived from the code
 * that uses the permissions — each check's `reads` (bot/checks, CHECKS) and each fix's
 * `permission` / `readPermission` (bot/remediation/catalogue.ts) — so it cannot drift from them.
 * `vigil doctor` (bot/cli/doctor.ts) and "doctor" in chat compare an access token's `roles` with it.
 */
import type { TokenCredential } from '@azure/identity';
import { CHECKS } from './checks';
import type { GraphCredentialConfig, VigilConfig } from './config';
import type { DemoTenant } from './demo';
import { createCredential, credentialKind, graphScope, type CredentialKind } from './graph/client';
import type { Check } from './checks/types';
import { allActions } from './remediation/catalogue';
import type { RemediationAction } from './remediation/types';

export type PermissionApi = 'Microsoft Graph' | 'Office 365 Exchange Online';
export type Access = 'read' | 'write';

export interface PermissionUse {
  /** "check" = a security check's read; "fix" = a remediation (its write, or its precondition / read-back); "platform" = Vigil itself. */
  kind: 'check' | 'fix' | 'platform';
  /** Check id, action id or platform feature key. */
  id: string;
  /** Plain words: the check's or fix's title. */
  title: string;
  access: Access;
}

export interface PermissionRow {
  permission: string;
  api: PermissionApi;
  /** Write when any use writes with it (a ReadWrite permission, or a fix's write permission). */
  access: Access;
  uses: PermissionUse[];
  /** Granted in the "read-only install" profile (every read permission, no write permission). */
  readOnly: boolean;
  /** Needs a licence for some uses (from the checks' reads). */
  licences: string[];
}

/**
 * What Vigil needs that no check or fix declares: approvers from a group (APPROVER_GROUP_ID) and
 * the tenant's name on reports. (Both are also read by checks; listed so the features are named.)
 */
const PLATFORM_USES: Array<{ permission: string; id: string; title: string }> = [
  { permission: 'GroupMember.Read.All', id: 'approvers.group', title: 'Approvers from APPROVER_GROUP_ID (transitive members)' },
  { permission: 'Organization.Read.All', id: 'report.tenantName', title: 'Tenant name on reports' },
];

/** Permission names in a free-text field such as "Policy.ReadWrite.ConditionalAccess (with Policy.Read.All)". */
export function permissionNames(text: string): string[] {
  return [...new Set(text.match(/\b[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)+\b/g) ?? [])];
}

function apiOf(permission: string): PermissionApi {
  return permission.startsWith('Exchange.') ? 'Office 365 Exchange Online' : 'Microsoft Graph';
}

/** A name read from a fix's write field writes unless it is plainly a Read permission (e.g. "(with Policy.Read.All)"). */
function writeAccess(permission: string, fromWriteField: boolean): Access {
  if (/\.ReadWrite(\.|$)/.test(permission)) return 'write';
  if (!fromWriteField) return 'read';
  return /\.Read(\.|$)/.test(permission) ? 'read' : 'write';
}

/** Build the table from the given checks and fixes (defaults: the ones Vigil ships). */
export function permissionTable(checks: readonly Check[] = CHECKS, actions: readonly RemediationAction[] = allActions()): PermissionRow[] {
  const rows = new Map<string, PermissionRow>();
  const add = (permission: string, use: PermissionUse, licence?: string) => {
    let row = rows.get(permission);
    if (!row) rows.set(permission, (row = { permission, api: apiOf(permission), access: 'read', uses: [], readOnly: true, licences: [] }));
    if (!row.uses.some((u) => u.kind === use.kind && u.id === use.id && u.access === use.access)) row.uses.push(use);
    if (use.access === 'write') row.access = 'write';
    if (licence && !row.licences.includes(licence)) row.licences.push(licence);
  };
  for (const check of checks) {
    for (const read of check.reads) {
      for (const p of permissionNames(read.permission)) add(p, { kind: 'check', id: check.id, title: check.title, access: writeAccess(p, false) }, read.licence);
    }
  }
  for (const action of actions) {
    for (const p of permissionNames(action.permission)) add(p, { kind: 'fix', id: action.id, title: action.title, access: writeAccess(p, true) }, action.licence);
    for (const p of permissionNames(action.readPermission)) add(p, { kind: 'fix', id: action.id, title: action.title, access: writeAccess(p, false) });
  }
  for (const u of PLATFORM_USES) add(u.permission, { kind: 'platform', id: u.id, title: u.title, access: 'read' });
  for (const row of rows.values()) row.readOnly = row.access === 'read';
  return [...rows.values()].sort((a, b) => a.api.localeCompare(b.api) || (a.access === b.access ? 0 : a.access === 'read' ? -1 : 1) || a.permission.localeCompare(b.permission));
}

export type Profile = 'full' | 'read-only';

/** The permissions a profile asks for on one API. */
export function requiredPermissions(profile: Profile, api: PermissionApi = 'Microsoft Graph', table: PermissionRow[] = permissionTable()): string[] {
  return table.filter((r) => r.api === api && (profile === 'full' || r.readOnly)).map((r) => r.permission);
}

/** Higher permissions that include a lower one (Microsoft Graph's documented supersets, as far as Vigil needs). */
const DIRECTORY_READS = new Set(['User.Read.All', 'Group.Read.All', 'GroupMember.Read.All', 'Organization.Read.All', 'Domain.Read.All', 'RoleManagement.Read.Directory']);

/** The granted role that satisfies `required`, if any: itself, its ReadWrite form, or Directory.Read(Write).All for directory reads. */
export function grantedBy(required: string, granted: ReadonlySet<string>): string | undefined {
  if (granted.has(required)) return required;
  const readWrite = required.replace(/\.Read(\.|$)/, '.ReadWrite$1');
  if (readWrite !== required && granted.has(readWrite)) return readWrite;
  if (DIRECTORY_READS.has(required)) return ['Directory.Read.All', 'Directory.ReadWrite.All'].find((d) => granted.has(d));
  return undefined;
}

export interface Diagnosis {
  profile: Profile;
  granted: string[];
  /** Required permissions present (directly or through a superset). */
  present: Array<{ permission: string; via: string }>;
  /** Required permissions absent, with the features that will not work. */
  missing: PermissionRow[];
  /** Granted write permissions a read-only install should not have. */
  excessWrites: string[];
}

/** Compare a token's roles with a profile. */
export function diagnose(roles: readonly string[], profile: Profile, api: PermissionApi = 'Microsoft Graph', table: PermissionRow[] = permissionTable()): Diagnosis {
  const granted = new Set(roles);
  const rows = table.filter((r) => r.api === api && (profile === 'full' || r.readOnly));
  const present: Diagnosis['present'] = [];
  const missing: PermissionRow[] = [];
  for (const row of rows) {
    const via = grantedBy(row.permission, granted);
    if (via) present.push({ permission: row.permission, via });
    else missing.push(row);
  }
  const writes = new Set(table.filter((r) => r.api === api && r.access === 'write').map((r) => r.permission));
  const excessWrites = profile === 'read-only' ? roles.filter((r) => writes.has(r) || /\.ReadWrite(\.|$)/.test(r)) : [];
  return { profile, granted: [...granted].sort(), present, missing, excessWrites };
}

/** The claims of a JWT access token (not verified: only to read what the token says about itself). */
export function decodeTokenClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT access token');
  return JSON.parse(Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
}

export interface TokenFacts {
  roles: string[];
  audience?: string;
  appId?: string;
  tenantId?: string;
  expiresOn: Date;
}

/** Get an app-only token for `scope` and read its roles (the token itself is never returned or logged). */
export async function tokenFacts(credential: TokenCredential, scope: string, tenantId?: string): Promise<TokenFacts> {
  const token = await credential.getToken(scope, tenantId ? { tenantId } : undefined);
  if (!token) throw new Error('the credential returned no token');
  const claims = decodeTokenClaims(token.token);
  const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]).map(String) : [];
  return {
    roles,
    audience: typeof claims.aud === 'string' ? claims.aud : undefined,
    appId: typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined,
    tenantId: typeof claims.tid === 'string' ? claims.tid : undefined,
    expiresOn: new Date(token.expiresOnTimestamp),
  };
}

/** The permissions table as Markdown (the README's "Permissions" section is checked against this). */
export function permissionsMarkdown(table: PermissionRow[] = permissionTable()): string {
  const lines = ['| Permission | API | Read/Write | Read-only install | Used by |', '|---|---|---|---|---|'];
  for (const r of table) {
    const uses = r.uses.map((u) => `${u.kind === 'check' ? 'check' : u.kind === 'fix' ? 'fix' : 'Vigil'} \`${u.id}\`${u.kind === 'fix' && u.access === 'read' ? ' (precondition/read-back)' : ''}`).join(', ');
    lines.push(`| \`${r.permission}\` | ${r.api} | ${r.access} | ${r.readOnly ? 'yes' : 'no'} | ${uses} |`);
  }
  return lines.join('\n');
}

export interface GraphTokenSource {
  credential: TokenCredential;
  /** "<graph origin>/.default" */
  scope: string;
  tenantId: string;
  kind: CredentialKind | 'demo';
}

/**
 * The credential Vigil's Graph client uses for a tenant, built the way bot/graph/connect.ts builds
 * it (the demo tenant's app in demo mode): for reading the token's roles and for readiness.
 */
export function graphTokenSource(config: VigilConfig, demo?: DemoTenant, tenantId?: string): GraphTokenSource {
  if (config.demo) {
    if (!demo) throw new Error('demo mode needs the running demo tenant');
    const cred: GraphCredentialConfig = { tenantId: tenantId ?? demo.tenantId, clientId: demo.clientId, clientSecret: demo.clientSecret, authorityHost: demo.baseUrl };
    return { credential: createCredential(cred, demo.caCertPem), scope: graphScope(demo.baseUrl), tenantId: cred.tenantId, kind: 'demo' };
  }
  const cred = { ...config.graph.credential!, ...(tenantId ? { tenantId } : {}) };
  return { credential: createCredential(cred), scope: graphScope(config.graph.baseUrl), tenantId: cred.tenantId, kind: credentialKind(cred) };
}
