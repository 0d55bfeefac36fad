/**
 * Several checks read the same things (the Conditional Access policies, security defaults, the
 * Secure Score…). Within one scan, or one chat answer's short cache window, the same GET is made
 * once: a view of the GraphApi that shares identical reads.
 *
 * Every caller gets the same answer, deep-frozen, not a copy of it: copying cost a whole list per
 * reader (at 100k users, tens of MB each), while freezing costs nothing per reader. A check that
 * sorts or edits what it read in place gets a TypeError (checks run in strict mode) instead of
 * quietly disturbing another check's data; checks copy first (`[...xs].sort()`).
 *
 * `pages` is not shared: it is how a check streams a long list it reads alone (a /users listing,
 * the registration report, the sign-in log), and remembering its pages would hold exactly what
 * streaming avoids holding.
 */
import type { GraphApi, GraphVersion, RequestOptions } from './api';

export function withSharedReads(graph: GraphApi): GraphApi {
  const memo = new Map<string, Promise<unknown>>();
  const share = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let hit = memo.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = read().then(deepFreeze);
      memo.set(key, hit);
      // A failed read is not remembered: the next caller tries again (and reports its own gap).
      hit.catch(() => memo.delete(key));
    }
    return hit;
  };
  const view = Object.create(graph) as GraphApi;
  view.get = <T>(path: string, opts?: RequestOptions) => share<T>(`get ${path} ${JSON.stringify(opts ?? {})}`, () => graph.get<T>(path, opts));
  view.all = <T>(path: string, opts?: RequestOptions) => share<T[]>(`all ${path} ${JSON.stringify(opts ?? {})}`, () => graph.all<T>(path, opts));
  view.count = (collection: string, filter?: string, version?: GraphVersion) =>
    share<number>(`count ${collection} ${filter ?? ''} ${version ?? ''}`, () => graph.count(collection, filter, version));
  // Straight to the GraphApi (not through the shared `get` above, which would remember the first page).
  view.pages = <T>(path: string, opts?: RequestOptions) => graph.pages<T>(path, opts);
  return view;
}

/** Freeze a JSON answer and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as object)) deepFreeze(v);
  return value;
}
