/**
 * HTTP plumbing of the demo tenant: TLS, the identity endpoints, Graph dispatch
 * (auth → route → permission → licence → mailbox concurrency → latency → handler),
 * JSON batching, fault injection, the request log and the /_demo control API.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueToken, openIdConfiguration, aadError, GRAPH_RESOURCE, type AppCredentials, type TokenIssuer } from './auth';
import { GraphError, errorBody } from './errors';
import { mergeKnobs, takeFault, type DemoFault, type DemoKnobs } from './knobs';
import { matchRoute, ALL_PERMISSIONS } from './routes';
import type { GraphResult, GraphVersion, RouteContext } from './routes/common';
import type { DemoTenantState } from './state';

export interface RecordedRequest {
  at: string;
  method: string;
  /** Path without the /v1.0 or /beta prefix (percent-decoded). */
  path: string;
  version: 'v1.0' | 'beta' | null;
  query: Record<string, string>;
  body?: unknown;
  /** 0 while in flight, or when the connection was reset by a fault. */
  status: number;
  tenantId?: string;
  inBatch: boolean;
  /** Entries in the answer's `value` array, when it has one (the benchmark's lower bounds use it). */
  items?: number;
}

export interface ServerDeps {
  knobs: DemoKnobs;
  requests: RecordedRequest[];
  app: AppCredentials;
  issuer: TokenIssuer;
  now: () => Date;
  baseUrl: () => string;
  tenantById: (id: string) => DemoTenantState | undefined;
  /** Tenant id for a tenant id or one of its domain names (token endpoint). */
  resolveTenant: (idOrDomain: string) => string | undefined;
  reset: () => void;
}

/** Exchange allows 4 concurrent requests per app per mailbox. */
export const MAILBOX_CONCURRENCY_LIMIT = 4;
const MAX_BATCH_REQUESTS = 20;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

interface InnerRequest {
  id?: string;
  method: string;
  version: GraphVersion;
  /** Path without version, still percent-encoded. */
  rawPath: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  auth: AuthInfo | GraphError;
  clientRequestId: string;
}

interface AuthInfo {
  tenant: DemoTenantState;
  roles: Set<string>;
}

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = {};
  // URLSearchParams turns '+' into ' ', which is also what Graph does for query strings.
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function lowerHeaders(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function statusCode(status: number): string {
  const codes: Record<number, string> = { 500: 'generalException', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout', 429: 'TooManyRequests', 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound' };
  return codes[status] ?? 'UnknownError';
}

export class DemoServer {
  /** In-flight Exchange requests per tenant+mailbox. */
  private readonly mailboxInFlight = new Map<string, number>();
  readonly server: https.Server;

  constructor(
    private readonly deps: ServerDeps,
    tls: { key: string; cert: string },
  ) {
    this.server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendJson(res, 500, { error: { code: 'generalException', message: String(err) } });
        else res.destroy();
      });
    });
  }

  // --- top level ------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const body = await readBody(req);
    const path = url.pathname;
    if (path.startsWith('/_demo/')) return this.control(req, res, path, body);
    const graph = /^\/(v1\.0|beta)(\/.*)?$/i.exec(path);
    if (graph) return this.graphTopLevel(req, res, graph[1].toLowerCase() as GraphVersion, graph[2] ?? '/', url.search, body);
    await sleep(this.deps.knobs.latencyMs);
    const oidc = /^\/([^/]+)\/(?:v2\.0\/)?\.well-known\/openid-configuration$/.exec(path);
    if (oidc && req.method === 'GET') {
      const tid = this.deps.resolveTenant(decodePath(oidc[1]));
      if (!tid) return this.sendJson(res, 400, aadError('invalid_tenant', 90002, `Tenant '${oidc[1]}' not found.`));
      return this.sendJson(res, 200, openIdConfiguration(this.deps.baseUrl(), tid));
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (token && req.method === 'POST') return this.token(res, decodePath(token[1]), body);
    if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(path)) return this.sendJson(res, 200, { keys: [] });
    this.sendJson(res, 404, { error: { code: 'NotFound', message: `No such endpoint: ${req.method} ${path}` } });
  }

  private token(res: ServerResponse, tenantSegment: string, body: Buffer): void {
    const roles = this.deps.knobs.grantedRoles === 'all' ? ALL_PERMISSIONS : [...this.deps.knobs.grantedRoles];
    const out = issueToken({
      form: new URLSearchParams(body.toString('utf8')),
      tenantSegment,
      resolveTenant: this.deps.resolveTenant,
      app: this.deps.app,
      baseUrl: this.deps.baseUrl(),
      roles,
      issuer: this.deps.issuer,
      nowSeconds: Math.floor(Date.now() / 1000), // wall-clock: see verify below
    });
    this.sendJson(res, out.status, out.body, { 'cache-control': 'no-store, no-cache' });
  }

  private async graphTopLevel(req: IncomingMessage, res: ServerResponse, version: GraphVersion, rawPath: string, search: string, rawBody: Buffer): Promise<void> {
    const headers = lowerHeaders(req.headers);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = parseJsonBody(rawBody, headers['content-type']);
    const inner: InnerRequest = {
      method,
      version,
      rawPath,
      query: parseQuery(search),
      headers,
      body,
      auth: this.authenticate(headers['authorization']),
      clientRequestId: headers['client-request-id'] ?? randomUUID(),
    };
    const record = this.record(inner, false);
    const fault = takeFault(this.deps.knobs, `${method} /${version}${decodePath(rawPath)}`, false);
    if (fault?.kind === 'reset') {
      // Abrupt close, as a dropped connection looks to the client.
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'malformed') {
      await sleep(this.deps.knobs.latencyMs);
      record.status = 200;
      res.writeHead(200, { 'content-type': JSON_TYPE, 'request-id': randomUUID() });
      res.end('{"@odata.context":"truncated","value":[{"id":');
      return;
    }
    const result =
      fault && fault.kind !== 'slow'
        ? await this.faultResult(fault, inner)
        : await this.execute(inner, fault?.delayMs ?? 0);
    record.status = result.status;
    record.items = itemCount(result);
    this.sendResult(res, result, inner.clientRequestId);
  }

  // --- Graph dispatch -----------------------------------------------------------------

  private authenticate(authorization: string | undefined): AuthInfo | GraphError {
    const invalid = (msg: string) => new GraphError(401, 'InvalidAuthenticationToken', msg);
    if (!authorization) return invalid('Access token is empty.');
    const m = /^Bearer\s+(.+)$/i.exec(authorization);
    if (!m) return invalid('Access token validation failure. Invalid audience.');
    // Tokens live in wall-clock time (the client caches them by it), whatever the simulated clock says.
    const claims = this.deps.issuer.verify(m[1], Math.floor(Date.now() / 1000), [this.deps.baseUrl(), GRAPH_RESOURCE]);
    if ('error' in claims) return invalid(claims.error);
    const tenant = this.deps.tenantById(claims.tid);
    if (!tenant) return invalid('Access token validation failure. Invalid issuer.');
    // Knob changes apply at once: effective roles = token roles ∩ currently granted ones.
    const granted = this.deps.knobs.grantedRoles;
    const roles = new Set(claims.roles.filter((r) => granted === 'all' || granted.includes(r)));
    return { tenant, roles };
  }

  private record(inner: InnerRequest, inBatch: boolean): RecordedRequest {
    const rec: RecordedRequest = {
      at: this.deps.now().toISOString(),
      method: inner.method,
      path: decodePath(inner.rawPath),
      version: inner.version,
      query: inner.query,
      body: inner.body,
      status: 0,
      tenantId: inner.auth instanceof GraphError ? undefined : inner.auth.tenant.id,
      inBatch,
    };
    this.deps.requests.push(rec);
    return rec;
  }

  private async faultResult(fault: DemoFault, inner: InnerRequest): Promise<GraphResult> {
    await sleep(this.deps.knobs.latencyMs);
    const now = this.deps.now();
    const requestId = randomUUID();
    if (fault.kind === 'throttle') {
      const retry = fault.retryAfterSeconds === undefined ? 1 : fault.retryAfterSeconds;
      return {
        status: 429,
        headers: retry === null ? {} : { 'retry-after': String(retry) },
        body: errorBody('TooManyRequests', 'Too many requests.', requestId, inner.clientRequestId, now),
      };
    }
    const status = fault.status ?? 503;
    return { status, body: errorBody(statusCode(status), 'The service is temporarily unavailable (injected fault).', requestId, inner.clientRequestId, now) };
  }

  /**
   * Run one Graph request (top-level or inside a batch). Latency is added to every
   * answer, errors included; a mailbox slot is held for the whole time so that the
   * concurrency limit sees requests that are "in the service".
   */
  private async execute(inner: InnerRequest, extraDelayMs = 0): Promise<GraphResult> {
    let release: (() => void) | undefined;
    let slept = false;
    const wait = async () => {
      slept = true;
      await sleep(this.deps.knobs.latencyMs + extraDelayMs);
    };
    try {
      if (inner.auth instanceof GraphError) throw inner.auth;
      const auth = inner.auth;
      if (inner.rawPath === '/$batch' && inner.method === 'POST') {
        await wait();
        return await this.batch(inner, auth);
      }
      const { route, params } = matchRoute(inner.method, inner.rawPath, inner.version);
      if (!route.permissions.some((p) => auth.roles.has(p))) {
        throw route.deniedCode
          ? new GraphError(403, route.deniedCode, 'Access is denied. Check credentials and try again.')
          : new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      }
      const licences = auth.tenant.licences ?? this.deps.knobs.licences;
      if (route.licence && !licences[route.licence]) {
        const e = route.licenceError ?? { status: 403, code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" };
        throw new GraphError(e.status, e.code, e.message);
      }
      if (route.mailbox) release = this.acquireMailbox(auth.tenant, params.userId);
      await wait();
      // Graph's documented throttling limits, when the `limits` knob is on (limits.ts). Counted
      // once the request has travelled, so top-level and $batch-inner requests are counted alike.
      const throttled = this.deps.knobs.limits?.admit({
        tenantId: auth.tenant.id,
        tenantUsers: auth.tenant.userRecords.size,
        appId: this.deps.app.clientId,
        method: inner.method,
        path: decodePath(inner.rawPath),
        query: inner.query,
      });
      if (throttled) throw new GraphError(429, throttled.code, throttled.message, throttled.headers);
      const ctx: RouteContext = {
        method: inner.method,
        version: inner.version,
        rawPath: inner.rawPath,
        params,
        query: inner.query,
        headers: inner.headers,
        body: inner.body,
        tenant: auth.tenant,
        knobs: this.deps.knobs,
        licences,
        roles: auth.roles,
        baseUrl: this.deps.baseUrl(),
        now: this.deps.now(),
      };
      return await route.handler(ctx);
    } catch (err) {
      if (!slept) await wait();
      if (err instanceof GraphError) {
        return { status: err.status, headers: err.headers, body: errorBody(err.code, err.message, randomUUID(), inner.clientRequestId, this.deps.now()) };
      }
      return { status: 500, body: errorBody('generalException', `Internal error in demo tenant: ${String(err)}`, randomUUID(), inner.clientRequestId, this.deps.now()) };
    } finally {
      release?.();
    }
  }

  /** Take a concurrency slot on a mailbox or throw Exchange's 429. */
  private acquireMailbox(tenant: DemoTenantState, userKey: string): () => void {
    const rec = tenant.findUser(userKey);
    const key = `${tenant.id}/${rec?.user.id ?? userKey.toLowerCase()}`;
    const n = this.mailboxInFlight.get(key) ?? 0;
    if (n >= MAILBOX_CONCURRENCY_LIMIT) {
      throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
    }
    this.mailboxInFlight.set(key, n + 1);
    return () => {
      const left = (this.mailboxInFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.mailboxInFlight.delete(key);
      else this.mailboxInFlight.set(key, left);
    };
  }

  // --- JSON batching -------------------------------------------------------------------

  private async batch(outer: InnerRequest, auth: AuthInfo): Promise<GraphResult> {
    const body = outer.body as { requests?: unknown } | undefined;
    if (!body || !Array.isArray(body.requests)) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
    const reqs = body.requests as { id?: unknown; method?: unknown; url?: unknown; headers?: Record<string, string>; body?: unknown; dependsOn?: string[] }[];
    if (reqs.length > MAX_BATCH_REQUESTS) throw new GraphError(400, 'BadRequest', `Limit of ${MAX_BATCH_REQUESTS} requests exceeded.`);
    const ids = new Set<string>();
    for (const r of reqs) {
      if (typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
        throw new GraphError(400, 'BadRequest', 'Invalid batch payload format: every request needs id, method and url.');
      }
      if (ids.has(r.id)) throw new GraphError(400, 'BadRequest', `Batch request id '${r.id}' is duplicated.`);
      ids.add(r.id);
    }
    // dependsOn: run in waves; independent requests run concurrently, as Graph may.
    const done = new Map<string, Promise<Record<string, unknown>>>();
    const run = (r: (typeof reqs)[number]): Promise<Record<string, unknown>> => {
      const existing = done.get(r.id as string);
      if (existing) return existing;
      const deps = (r.dependsOn ?? []).map((d) => {
        const dep = reqs.find((x) => x.id === d);
        return dep ? run(dep) : Promise.resolve(undefined);
      });
      const p = Promise.all(deps).then(() => this.batchItem(outer, auth, r as { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown }));
      done.set(r.id as string, p);
      return p;
    };
    const responses = await Promise.all(reqs.map(run));
    return { status: 200, body: { responses } };
  }

  private async batchItem(outer: InnerRequest, auth: AuthInfo, r: { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown }): Promise<Record<string, unknown>> {
    const url = new URL(r.url.startsWith('/') ? r.url : `/${r.url}`, 'https://localhost');
    const inner: InnerRequest = {
      id: r.id,
      method: r.method.toUpperCase(),
      version: outer.version,
      rawPath: url.pathname,
      query: parseQuery(url.search),
      // Inner requests carry their own headers (ConsistencyLevel…) but the outer token.
      headers: { ...lowerHeaders(r.headers ?? {}), authorization: outer.headers['authorization'] ?? '' },
      body: r.body,
      auth,
      clientRequestId: outer.clientRequestId,
    };
    const rec = this.record(inner, true);
    const fault = takeFault(this.deps.knobs, `${inner.method} /${inner.version}${decodePath(inner.rawPath)}`, true);
    const result = fault && fault.kind !== 'slow' && fault.kind !== 'reset' && fault.kind !== 'malformed'
      ? await this.faultResult(fault, inner)
      : await this.execute(inner, fault?.delayMs ?? 0);
    rec.status = result.status;
    rec.items = itemCount(result);
    const headers: Record<string, string> = { ...(result.headers ?? {}) };
    if (result.text !== undefined) headers['Content-Type'] = 'text/plain';
    else if (result.body !== undefined) headers['Content-Type'] = JSON_TYPE;
    const out: Record<string, unknown> = { id: r.id, status: result.status, headers };
    // Retry-After inside a batch is spelled as Graph spells it.
    if (headers['retry-after']) {
      headers['Retry-After'] = headers['retry-after'];
      delete headers['retry-after'];
    }
    if (result.text !== undefined) out.body = result.text;
    else if (result.body !== undefined) out.body = result.body;
    return out;
  }

  // --- responses -------------------------------------------------------------------------

  private sendResult(res: ServerResponse, result: GraphResult, clientRequestId: string): void {
    const requestId = randomUUID();
    const headers: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'UK South', Slice: 'E', Ring: '5', ScaleUnit: '000', RoleInstance: 'VIGIL-DEMO' } }),
      'strict-transport-security': 'max-age=31536000',
      ...(result.headers ?? {}),
    };
    if (result.text !== undefined) {
      res.writeHead(result.status, { ...headers, 'content-type': 'text/plain' });
      res.end(result.text);
    } else if (result.body !== undefined) {
      res.writeHead(result.status, { ...headers, 'content-type': JSON_TYPE, 'odata-version': '4.0' });
      res.end(JSON.stringify(result.body));
    } else {
      res.writeHead(result.status, headers);
      res.end();
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...extra });
    res.end(JSON.stringify(body));
  }

  // --- /_demo control API ------------------------------------------------------------------

  private control(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const remote = req.socket.remoteAddress ?? '';
    if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(remote)) return this.sendJson(res, 403, { error: 'loopback only' });
    if (req.method === 'GET' && path === '/_demo/requests') return this.sendJson(res, 200, { requests: this.deps.requests });
    if (req.method === 'POST' && path === '/_demo/reset') {
      this.deps.reset();
      res.writeHead(204);
      res.end(); // no chaining: restify (same process) patches writeHead to return nothing
      return;
    }
    if (req.method === 'POST' && path === '/_demo/knobs') {
      let patch: Partial<DemoKnobs>;
      try {
        patch = body.length ? (JSON.parse(body.toString('utf8')) as Partial<DemoKnobs>) : {};
      } catch {
        return this.sendJson(res, 400, { error: 'invalid JSON' });
      }
      mergeKnobs(this.deps.knobs, patch);
      return this.sendJson(res, 200, { ...this.deps.knobs, faults: this.deps.knobs.faults.map((f) => ({ ...f, match: String(f.match) })) });
    }
    this.sendJson(res, 404, { error: `unknown control endpoint ${req.method} ${path}` });
  }
}

function itemCount(result: GraphResult): number | undefined {
  const value = (result.body as { value?: unknown } | undefined)?.value;
  return Array.isArray(value) ? value.length : undefined;
}

function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (contentType && !contentType.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
