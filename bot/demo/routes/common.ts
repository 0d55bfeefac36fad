/** Shared route types and response helpers. */
import type { DemoKnobs } from '../knobs';
import type { DemoLicences, DemoTenantState } from '../state';
import { GraphError } from '../errors';
import { applySelect, decodeSkipToken, encodeSkipToken } from '../odata';

export type GraphVersion = 'v1.0' | 'beta';

export interface RouteContext {
  method: string;
  version: GraphVersion;
  /** Path without the version prefix, as sent (still percent-encoded). */
  rawPath: string;
  /** Named path parameters, decoded. */
  params: Record<string, string>;
  /** Query parameters, decoded; keys as sent (e.g. `$top`). */
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: unknown;
  tenant: DemoTenantState;
  knobs: DemoKnobs;
  licences: DemoLicences;
  /** Application permissions in the caller's token. */
  roles: ReadonlySet<string>;
  baseUrl: string;
  now: Date;
}

export interface GraphResult {
  status: number;
  /** JSON body (objects) — or `text` for text/plain answers like /users/$count. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => GraphResult | Promise<GraphResult>;

export interface RouteDef {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** e.g. `/users/{userId}/authentication/methods`; literal segments match case-insensitively. */
  pattern: string;
  /** Application permissions, any one of which grants access (Graph docs' least + higher privileged). */
  permissions: readonly string[];
  /** Entra licence the tenant needs for this API. */
  licence?: 'entraP1' | 'entraP2';
  /** Only served on these versions (default both). */
  versions?: readonly GraphVersion[];
  /** Exchange routes: subject to the per-mailbox concurrency limit on {userId}. */
  mailbox?: boolean;
  /** Exchange answers a missing permission with its own code. */
  deniedCode?: string;
  /** How this API says the licence is missing, when it differs from the default for `licence`. */
  licenceError?: { status: number; code: string; message: string };
  handler: Handler;
}

export function odataContext(ctx: RouteContext, fragment: string): string {
  return `${ctx.baseUrl}/${ctx.version}/$metadata#${fragment}`;
}

export function ok(body: unknown, status = 200): GraphResult {
  return { status, body };
}

export const noContent = (): GraphResult => ({ status: 204 });

/** Absolute next link on this server, same version, same query, new $skiptoken. */
export function nextLink(ctx: RouteContext, offset: number): string {
  const parts = Object.entries(ctx.query)
    .filter(([k]) => k.toLowerCase() !== '$skiptoken')
    .map(([k, v]) => `${k}=${encodeQueryValue(v)}`);
  parts.push(`$skiptoken=${encodeSkipToken(offset)}`);
  return `${ctx.baseUrl}/${ctx.version}${ctx.rawPath}?${parts.join('&')}`;
}

/** Like Graph's next links: readable OData punctuation stays literal. */
function encodeQueryValue(v: string): string {
  return encodeURIComponent(v).replace(/%2C/g, ',').replace(/%27/g, "'").replace(/%28/g, '(').replace(/%29/g, ')').replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%24/g, '$');
}

export interface PageOptions {
  /** `@odata.context` fragment, e.g. `users`. */
  context: string;
  /** Page size when no $top is given. */
  defaultTop: number;
  /** $top as already parsed/validated by the route. */
  top?: number;
  select?: string[];
  /** Properties returned when there is no $select (Graph's default set for users). */
  defaultSelect?: string[];
  /** Adds @odata.count (already authorised by the route). */
  count?: boolean;
  /** Projection applied after paging (e.g. $expand). */
  map?: (item: unknown) => unknown;
}

/**
 * One page of a collection. The server-side cap (knobs.maxPageSize) can make pages
 * smaller than $top, as Graph's can: clients must follow @odata.nextLink.
 */
export function page<T extends object>(ctx: RouteContext, items: readonly T[], opts: PageOptions): GraphResult {
  const offset = decodeSkipToken(ctx.query.$skiptoken);
  const size = Math.max(1, Math.min(opts.top ?? opts.defaultTop, ctx.knobs.maxPageSize));
  const slice = items.slice(offset, offset + size);
  const select = opts.select ?? opts.defaultSelect;
  const value = slice.map((it) => applySelect(opts.map ? (opts.map(it) as object) : it, select));
  const contextFragment = opts.select ? `${opts.context}(${opts.select.join(',')})` : opts.context;
  const body: Record<string, unknown> = { '@odata.context': odataContext(ctx, contextFragment) };
  if (opts.count) body['@odata.count'] = items.length;
  if (offset + size < items.length) body['@odata.nextLink'] = nextLink(ctx, offset + size);
  body.value = value;
  return ok(body);
}

/** A whole (small) collection in one response, as Graph returns e.g. domains. */
export function collection(ctx: RouteContext, context: string, items: readonly object[], select?: string[]): GraphResult {
  return ok({ '@odata.context': odataContext(ctx, context), value: items.map((i) => applySelect(i, select)) });
}

export function entity(ctx: RouteContext, context: string, item: object, select?: string[]): GraphResult {
  return ok({ '@odata.context': odataContext(ctx, select ? `${context}(${select.join(',')})` : context), ...applySelect(item, select) });
}

export function requireBody(ctx: RouteContext): Record<string, unknown> {
  if (ctx.body === null || typeof ctx.body !== 'object' || Array.isArray(ctx.body)) {
    throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  }
  return ctx.body as Record<string, unknown>;
}

export const topError = (max: number) => (v: string): GraphError =>
  new GraphError(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${v}'. Must be between 1 and ${max} inclusive.`);
