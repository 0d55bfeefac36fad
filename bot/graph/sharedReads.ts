/**
 * Several checks read the same things (the Conditional Access policies, security defaults, the
 * Secure Score…). Within one scan, or one chat answer's short cache window, the same GET is made
 * once: a view of the GraphApi that shares identical reads. Each caller gets its own copy, so a
 * check that sorts or edits what it read cannot disturb another.
 */
import type { GraphApi, GraphVersion, RequestOptions } from './api';

export function withSharedReads(graph: GraphApi): GraphApi {
  const memo = new Map<string, Promise<unknown>>();
  const share = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let hit = memo.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = read();
      memo.set(key, hit);
      // A failed read is not remembered: the next caller tries again (and reports its own gap).
      hit.catch(() => memo.delete(key));
    }
    return hit.then((value) => structuredClone(value));
  };
  const view = Object.create(graph) as GraphApi;
  view.get = <T>(path: string, opts?: RequestOptions) => share<T>(`get ${path} ${JSON.stringify(opts ?? {})}`, () => graph.get<T>(path, opts));
  view.all = <T>(path: string, opts?: RequestOptions) => share<T[]>(`all ${path} ${JSON.stringify(opts ?? {})}`, () => graph.all<T>(path, opts));
  view.count = (collection: string, filter?: string, version?: GraphVersion) =>
    share<number>(`count ${collection} ${filter ?? ''} ${version ?? ''}`, () => graph.count(collection, filter, version));
  return view;
}
