/**
 * GET /users/delta: change tracking of users as Graph documents it ("user: delta", "Use delta query
 * to track changes in Microsoft Graph data").
 *
 * - The first request (no token) starts a round over every current user with the `$select`ed
 *   properties (v1.0's default set without one; `id` always); `@odata.nextLink` pages
 *   (`$skiptoken`) follow, and the last page carries `@odata.deltaLink` (`$deltatoken`). The
 *   tokens encode the query, so later requests repeat no parameters. `$deltatoken=latest` gives a
 *   deltaLink and no data ("sync from now").
 * - Following a deltaLink returns what changed since it was issued: new users with their selected
 *   properties, changed users with all selected properties — or, with `Prefer: return=minimal`,
 *   only the ones that changed (+ id) — and removed users as `{"id", "@removed": {"reason": "changed"}}`
 *   (a deleted user is restorable for 30 days in Entra, which is what "changed" means).
 *   Properties never set are left out; a property cleared is sent as null.
 * - `$top` is ignored, as Graph ignores it here (the page size is the server's: `knobs.maxPageSize`);
 *   `$filter` (Graph allows only `id eq …`), `$orderby` and `$expand` are refused as Unsupported Query.
 * - A deltaLink older than 7 days by the demo clock answers 400 `syncStateNotFound`, as Graph does
 *   for directory objects; so does one the demo never issued or no longer keeps. After a
 *   synchronization reset (`synchronizationReset`, Graph's "internal maintenance") every earlier
 *   link answers 410 Gone with a Location header to start again.
 *
 * Each sync state keeps a snapshot of the users as they were when its round started (one JSON
 * string per user), so the changes are a diff against it — whatever changed the user (a PATCH, a
 * control knob, a test editing the state directly).
 */
import { GraphError } from '../errors';
import type { DemoTenantState } from '../state';
import type { RouteContext, RouteDef } from './common';
import { odataContext, ok } from './common';
import { USER_READ, selectUserProps, userDefaultSelect } from './users';

/** Graph: delta links of directory objects are valid for seven days. */
export const DELTA_TOKEN_LIFETIME_MS = 7 * 86_400_000;
/** Sync states and rounds kept per tenant; older ones answer as expired. */
const KEPT = 32;
const DELTA_PREFIX = 'DLT';
const SKIP_PREFIX = 'DLS';

interface SyncState {
  id: number;
  issuedAt: number;
  select: string[];
  /** Lower-cased user id → JSON of the user's selected properties when the round started. */
  snapshot: Map<string, string>;
}

interface DeltaItem {
  id: string;
  /** The selected properties that are set (null when cleared). */
  props?: Record<string, unknown>;
  /** For a changed user: which of them changed (undefined = new user). */
  changed?: string[];
  removed?: boolean;
}

interface Round {
  id: number;
  select: string[];
  items: DeltaItem[];
  snapshot: Map<string, string>;
}

class DeltaTracker {
  private seq = 0;
  /** Sync states issued before this id were invalidated by a synchronization reset. */
  resetBelow = 0;
  readonly states = new Map<number, SyncState>();
  readonly rounds = new Map<number, Round>();

  nextId(): number {
    return ++this.seq;
  }

  keep<T>(map: Map<number, T>, id: number, value: T): void {
    map.set(id, value);
    while (map.size > KEPT) map.delete(map.keys().next().value as number);
  }
}

const trackers = new WeakMap<DemoTenantState, DeltaTracker>();

function trackerOf(tenant: DemoTenantState): DeltaTracker {
  let t = trackers.get(tenant);
  if (!t) trackers.set(tenant, (t = new DeltaTracker()));
  return t;
}

/**
 * Graph's "synchronization reset" (internal maintenance or migration of the tenant): every delta
 * link issued so far answers 410 Gone, and the client must start over with a full round.
 */
export function synchronizationReset(tenant: DemoTenantState): void {
  const t = trackerOf(tenant);
  t.resetBelow = t.nextId();
  t.states.clear();
  t.rounds.clear();
}

function encodeToken(prefix: string, value: object): string {
  return prefix + Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken<T>(prefix: string, token: string): T | undefined {
  if (!token.startsWith(prefix)) return undefined;
  try {
    return JSON.parse(Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The selected properties that are set on the user; `id` always. */
function project(user: Record<string, unknown>, select: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: user.id };
  const keys = Object.keys(user);
  for (const s of select) {
    const k = keys.find((x) => x.toLowerCase() === s.toLowerCase());
    if (k && user[k] !== undefined) out[k] = user[k];
  }
  return out;
}

function snapshotOf(tenant: DemoTenantState, select: string[]): Map<string, string> {
  const snap = new Map<string, string>();
  for (const [key, rec] of tenant.userRecords) snap.set(key, JSON.stringify(project(rec.user as unknown as Record<string, unknown>, select)));
  return snap;
}

/** What changed between a sync state's snapshot and the users now. */
function changesSince(state: SyncState, now: Map<string, string>): DeltaItem[] {
  const items: DeltaItem[] = [];
  for (const [key, json] of now) {
    const before = state.snapshot.get(key);
    if (before === json) continue;
    const props = JSON.parse(json) as Record<string, unknown>;
    if (before === undefined) {
      items.push({ id: String(props.id), props });
      continue;
    }
    const old = JSON.parse(before) as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(props), ...Object.keys(old)])].filter((k) => k !== 'id' && JSON.stringify(props[k]) !== JSON.stringify(old[k]));
    // A property that was set and no longer is comes back as null.
    for (const k of changed) if (!(k in props)) props[k] = null;
    items.push({ id: String(props.id), props, changed });
  }
  for (const [key, before] of state.snapshot) {
    if (!now.has(key)) items.push({ id: String((JSON.parse(before) as { id: string }).id), removed: true });
  }
  return items;
}

function render(item: DeltaItem, minimal: boolean): Record<string, unknown> {
  if (item.removed) return { id: item.id, '@removed': { reason: 'changed' } };
  if (!minimal || !item.changed) return { ...item.props };
  const out: Record<string, unknown> = { id: item.id };
  for (const k of item.changed) out[k] = item.props![k];
  return out;
}

function expired(message = 'The sync state generation is not found. The delta token is expired and data must be synchronized again.'): GraphError {
  return new GraphError(400, 'syncStateNotFound', message);
}

function deltaUrl(ctx: RouteContext, param: string, token: string): string {
  return `${ctx.baseUrl}/${ctx.version}/users/delta?${param}=${token}`;
}

function usersDelta(ctx: RouteContext) {
  const q = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k.toLowerCase(), v]));
  if (q.$filter !== undefined || q.$orderby !== undefined || q.$expand !== undefined || q.$search !== undefined) {
    throw new GraphError(400, 'Request_UnsupportedQuery', 'Unsupported Query.');
  }
  const tracker = trackerOf(ctx.tenant);
  const minimal = /\breturn=minimal\b/i.test(ctx.headers['prefer'] ?? '');
  if (q.$skiptoken !== undefined) {
    const at = decodeToken<{ r: number; o: number }>(SKIP_PREFIX, q.$skiptoken);
    const round = at && tracker.rounds.get(at.r);
    if (!at || !round) throw expired('The sync state generation is not found; the skip token is unknown or expired.');
    return pageOf(ctx, tracker, round, at.o, minimal);
  }
  let select: string[];
  let items: DeltaItem[];
  const snapshot = (s: string[]) => snapshotOf(ctx.tenant, s);
  if (q.$deltatoken !== undefined && q.$deltatoken !== '' && q.$deltatoken.toLowerCase() !== 'latest') {
    const ref = decodeToken<{ s: number }>(DELTA_PREFIX, q.$deltatoken);
    if (ref && ref.s < tracker.resetBelow) {
      throw new GraphError(410, 'resyncRequired', 'Resync required: the sync state is no longer valid. Start a new round of change tracking.', {
        location: `${ctx.baseUrl}/${ctx.version}/users/delta?$deltatoken=`,
      });
    }
    const state = ref && tracker.states.get(ref.s);
    if (!state || ctx.now.getTime() - state.issuedAt > DELTA_TOKEN_LIFETIME_MS) throw expired();
    select = state.select;
    const now = snapshot(select);
    items = changesSince(state, now);
    return startRound(ctx, tracker, select, items, now, minimal);
  }
  select = ['id', ...(selectUserProps(ctx) ?? userDefaultSelect(ctx) ?? defaultBetaSelect(ctx)).filter((p) => p.toLowerCase() !== 'id')];
  const now = snapshot(select);
  if (q.$deltatoken?.toLowerCase() === 'latest') return startRound(ctx, tracker, select, [], now, minimal);
  items = [...now.values()].map((json) => {
    const props = JSON.parse(json) as Record<string, unknown>;
    return { id: String(props.id), props };
  });
  return startRound(ctx, tracker, select, items, now, minimal);
}

/** beta returns every property without $select; track the ones that are set on some user. */
function defaultBetaSelect(ctx: RouteContext): string[] {
  const keys = new Set<string>();
  for (const r of ctx.tenant.userRecords.values()) for (const k of Object.keys(r.user)) keys.add(k);
  return [...keys];
}

function startRound(ctx: RouteContext, tracker: DeltaTracker, select: string[], items: DeltaItem[], snapshot: Map<string, string>, minimal: boolean) {
  const round: Round = { id: tracker.nextId(), select, items, snapshot };
  tracker.keep(tracker.rounds, round.id, round);
  return pageOf(ctx, tracker, round, 0, minimal);
}

function pageOf(ctx: RouteContext, tracker: DeltaTracker, round: Round, offset: number, minimal: boolean) {
  const size = Math.max(1, ctx.knobs.maxPageSize);
  const slice = round.items.slice(offset, offset + size);
  const body: Record<string, unknown> = { '@odata.context': odataContext(ctx, `users(${round.select.join(',')})`) };
  if (offset + size < round.items.length) {
    body['@odata.nextLink'] = deltaUrl(ctx, '$skiptoken', encodeToken(SKIP_PREFIX, { r: round.id, o: offset + size }));
  } else {
    // The round is complete: its snapshot becomes the sync state the deltaLink names.
    const state: SyncState = { id: tracker.nextId(), issuedAt: ctx.now.getTime(), select: round.select, snapshot: round.snapshot };
    tracker.keep(tracker.states, state.id, state);
    body['@odata.deltaLink'] = deltaUrl(ctx, '$deltatoken', encodeToken(DELTA_PREFIX, { s: state.id }));
  }
  body.value = slice.map((item) => render(item, minimal));
  return ok(body);
}

export const usersDeltaRoutes: RouteDef[] = [
  { method: 'GET', pattern: '/users/delta', permissions: USER_READ, handler: usersDelta },
  // The SDKs call it by its fully qualified name.
  { method: 'GET', pattern: '/users/microsoft.graph.delta', permissions: USER_READ, handler: usersDelta },
];
