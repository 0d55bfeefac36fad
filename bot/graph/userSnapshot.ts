/**
 * A view of a tenant's GraphApi for scheduled scans: user listings the snapshot can answer are
 * read from it instead of Graph, after one delta sync per view (bot/graph/usersDelta.ts) — so a
 * scan of a tenant where nothing changed reads its users with a single `/users/delta` request,
 * however many checks list them.
 *
 * Served from the snapshot: `all('/users', …)` and `pages('/users', …)` on v1.0 with a `$select`
 * of tracked properties only, an optional `$top`, and a `$filter` that is absent or one of the
 * simple forms the checks use — `accountEnabled eq true|false`, `userType eq '…'`, or both joined
 * by `and`. Everything else (another filter, `$count`, `$search`, `$orderby`, beta, other paths)
 * goes to Graph unchanged, and so does every read if the sync fails (the check then gets Graph's
 * own answer or error, as before). Chat answers do not use this view: asked, Vigil reads Graph.
 */
import type { DirectoryUserStore, SnapshotFilter } from '../store/directoryUsers';
import type { GraphApi, RequestOptions } from './api';
import { SNAPSHOT_FIELDS, UsersDeltaSync, type UsersSyncResult } from './usersDelta';

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface UserSnapshotOptions {
  /** The tenant the snapshot belongs to (default: the GraphApi's). */
  tenantId?: string;
  now?: () => Date;
  log?: Logger;
  /** Told the outcome of the view's sync (tests, metrics). */
  onSync?: (result: UsersSyncResult | Error) => void;
}

interface SnapshotQuery {
  filter: SnapshotFilter;
  /** Tracked property names as Graph spells them, in the order asked. */
  select: string[];
  pageSize: number;
}

/** Graph's default page size for /users without $top. */
const DEFAULT_PAGE = 100;
const FIELDS = new Map<string, string>(SNAPSHOT_FIELDS.map((f) => [f.toLowerCase(), f]));
const CLAUSES: Array<[RegExp, (m: RegExpExecArray, f: SnapshotFilter) => void]> = [
  [/^accountEnabled\s+eq\s+(true|false)$/i, (m, f) => void (f.accountEnabled = m[1].toLowerCase() === 'true')],
  [/^userType\s+eq\s+'((?:[^']|'')*)'$/i, (m, f) => void (f.userType = m[1].replace(/''/g, "'"))],
];

export function withUserSnapshot(graph: GraphApi, store: DirectoryUserStore, opts: UserSnapshotOptions = {}): GraphApi {
  const tenantId = opts.tenantId ?? graph.tenantId;
  const sync = new UsersDeltaSync(graph, store, tenantId, opts.now);
  let synced: Promise<boolean> | undefined;
  // Once per view (one scan), shared by every check that lists users.
  const ready = (): Promise<boolean> =>
    (synced ??= sync.sync().then(
      (result) => {
        opts.log?.info({ tenantId, ...result }, 'users snapshot synced');
        opts.onSync?.(result);
        return true;
      },
      (err: Error) => {
        opts.log?.warn({ tenantId, err: { message: err.message } }, 'users snapshot sync failed; reading users from Graph');
        opts.onSync?.(err);
        return false;
      },
    ));

  const view = Object.create(graph) as GraphApi;
  view.pages = async function* <T>(path: string, options: RequestOptions = {}): AsyncGenerator<T[]> {
    const q = snapshotQuery(path, options);
    if (!q || !(await ready())) {
      yield* graph.pages<T>(path, options);
      return;
    }
    for await (const rows of store.pages(tenantId, q.filter, q.pageSize)) yield rows.map((u) => project(u, q.select) as T);
  };
  view.all = async <T>(path: string, options: RequestOptions = {}): Promise<T[]> => {
    const items: T[] = [];
    for await (const page of view.pages<T>(path, options)) items.push(...page);
    return items;
  };
  return view;
}

/** What a `/users` listing asks for, when the snapshot can answer it exactly. */
export function snapshotQuery(path: string, options: RequestOptions): SnapshotQuery | undefined {
  if (!/^\/?users\/?$/i.test(path) || (options.version ?? 'v1.0') !== 'v1.0') return undefined;
  const query = options.query ?? {};
  let select: string[] | undefined;
  let filter: SnapshotFilter = {};
  let pageSize = DEFAULT_PAGE;
  for (const [key, raw] of Object.entries(query)) {
    const value = String(raw);
    switch (key.toLowerCase()) {
      case '$select':
        select = value.split(',').map((s) => FIELDS.get(s.trim().toLowerCase()) ?? '');
        if (select.some((s) => !s)) return undefined;
        break;
      case '$filter': {
        const parsed = parseFilter(value);
        if (!parsed) return undefined;
        filter = parsed;
        break;
      }
      case '$top':
        pageSize = Number(value);
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 999) return undefined;
        break;
      default:
        return undefined;
    }
  }
  // Without $select Graph returns its default properties, most of which are not tracked.
  return select ? { filter, select, pageSize } : undefined;
}

function parseFilter(text: string): SnapshotFilter | undefined {
  const filter: SnapshotFilter = {};
  const parts = text.trim().split(/\s+and\s+/i);
  if (parts.length > CLAUSES.length) return undefined;
  for (const part of parts) {
    const clause = CLAUSES.find(([re]) => re.test(part.trim()));
    if (!clause) return undefined;
    const before = { ...filter };
    clause[1](clause[0].exec(part.trim())!, filter);
    // The same property twice ("accountEnabled eq true and accountEnabled eq false") is not a simple form.
    if (Object.keys(before).length === Object.keys(filter).length) return undefined;
  }
  return filter;
}

/** A user as a `$select`ed listing returns it: the properties asked, null where never set. */
function project(user: Record<string, unknown>, select: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of select) out[f] = user[f] ?? null;
  return out;
}
