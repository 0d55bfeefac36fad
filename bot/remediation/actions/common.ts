/** Small helpers the actions share: paths, "who", and reading something that may be gone. */
import type { GraphApi, RequestOptions } from '../../graph/api';
import { GraphRequestError } from '../../graph/errors';
import type { ActionTarget } from '../../store/approvals';

export const userPath = (id: string): string => `/users/${encodeURIComponent(id)}`;

/** "Chloe Barnes (chloe.barnes@contoso.com)" */
export function who(t: ActionTarget): string {
  return `${t.displayName}${t.detail ? ` (${t.detail})` : ''}`;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof GraphRequestError && err.status === 404;
}

/** GET that answers undefined when the object does not exist (404), and throws anything else. */
export async function getIfExists<T>(graph: GraphApi, path: string, opts?: RequestOptions): Promise<T | undefined> {
  try {
    return await graph.get<T>(path, opts);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A param as a list (params are stored as string or string[]). */
export function listParam(t: ActionTarget, name: string): string[] {
  const v = t.params?.[name];
  return Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : [];
}

export function textParam(t: ActionTarget, name: string): string | undefined {
  const v = t.params?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** Well-known directory role template ids (identical in every tenant). */
export const GLOBAL_ADMINISTRATOR_ROLE = '62e90394-69f5-4237-9190-012177145e10';

/** A value inside an OData string literal: single quotes doubled. */
export function odataString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}
