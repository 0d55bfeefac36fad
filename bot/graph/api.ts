/**
 * GraphApi: the handful of request shapes Vigil needs (get, paging, $count, $batch, writes)
 * for one tenant, on top of the SDK client. Paging always follows @odata.nextLink (pages
 * may be smaller than $top); $batch retries throttled inner requests itself because the
 * SDK's RetryHandler never sees them.
 */
import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import { batchResponseError, GraphRequestError, GraphTransientError, toGraphError, transientKind } from './errors';
import { batchShare, classifyRequest } from './pacing';

export type GraphVersion = 'v1.0' | 'beta';

export interface RequestOptions {
  version?: GraphVersion;
  /** OData and other query parameters, e.g. { $filter: "isMfaRegistered eq false", $top: 999 } */
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
}

export interface BatchRequest {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root, e.g. "/users/{id}/authentication/methods" */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BatchResponse<T = unknown> {
  id: string;
  status: number;
  body?: T;
  error?: GraphRequestError;
}

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** Graph's documented maximum of requests in one JSON batch. */
export const BATCH_LIMIT = 20;
const RETRYABLE = new Set([429, 503, 504]);
/** Server errors worth one more try for a read (the SDK's RetryHandler already covers 429/503/504). */
const TRANSIENT_STATUS = new Set([500, 502]);

export interface GraphApiOptions {
  /** How often a throttled inner $batch request is retried. */
  batchRetries?: number;
  /** Upper bound for any wait, in seconds (Graph may ask for long waits; we cap like the SDK does). */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** $batch requests of one `batch()` call in flight at once (default 8); pacing keeps them within Graph's budgets. */
  batchConcurrency?: number;
  /**
   * More tries for a read that failed without a usable answer — a 500/502, a connection reset, no
   * answer within the time limit, a body that is not the JSON it claims — after 0.5 s, 1 s, …
   * (default 2). Writes are never tried again: they may have happened.
   */
  transientRetries?: number;
}

export class GraphApi {
  private readonly batchRetries: number;
  private readonly maxWait: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly batchConcurrency: number;
  private readonly transientRetries: number;

  constructor(
    private readonly client: Client,
    readonly tenantId: string,
    options: GraphApiOptions = {},
  ) {
    this.batchRetries = options.batchRetries ?? 5;
    this.maxWait = options.maxRetryAfterSeconds ?? 180;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.batchConcurrency = Math.max(1, options.batchConcurrency ?? 8);
    this.transientRetries = Math.max(0, options.transientRetries ?? 2);
  }

  async get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.run(path, () => this.request(path, opts).get(), true);
  }

  async post<T>(path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.run(path, () => this.request(path, opts).post(body));
  }

  async patch<T = void>(path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.run(path, () => this.request(path, opts).patch(body));
  }

  async delete(path: string, opts: RequestOptions = {}): Promise<void> {
    await this.run(path, () => this.request(path, opts).delete());
  }

  /** Yield each page of a collection, following @odata.nextLink until there is none. */
  async *pages<T>(path: string, opts: RequestOptions = {}): AsyncGenerator<T[]> {
    let page = await this.get<Page<T>>(path, opts);
    yield page.value ?? [];
    while (page['@odata.nextLink']) {
      const next = page['@odata.nextLink'];
      // The next link carries the whole query already; only headers carry over.
      page = await this.run(next, () => this.withHeaders(this.client.api(next), opts.headers).get(), true);
      yield page.value ?? [];
    }
  }

  /** The items of the pages after a collection page's @odata.nextLink (e.g. inside a $batch response). */
  async rest<T>(page: { '@odata.nextLink'?: string } | undefined, headers?: Record<string, string>): Promise<T[]> {
    const items: T[] = [];
    let next = page?.['@odata.nextLink'];
    while (next) {
      const link = next;
      const p = (await this.run(link, () => this.withHeaders(this.client.api(link), headers).get(), true)) as Page<T>;
      items.push(...(p.value ?? []));
      next = p['@odata.nextLink'];
    }
    return items;
  }

  async all<T>(path: string, opts: RequestOptions = {}): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.pages<T>(path, opts)) items.push(...page);
    return items;
  }

  /** GET {collection}/$count with a filter; Graph needs ConsistencyLevel: eventual for it. */
  async count(collection: string, filter?: string, version: GraphVersion = 'v1.0'): Promise<number> {
    const query = filter ? { $filter: filter } : undefined;
    const raw = await this.get<unknown>(`${collection}/$count`, { version, query, headers: { ConsistencyLevel: 'eventual' } });
    const n = Number(typeof raw === 'string' ? raw.trim() : raw);
    if (!Number.isFinite(n)) throw new Error(`Graph returned a non-numeric count for ${collection}`);
    return n;
  }

  /**
   * Send requests as JSON batches of at most 20, retrying inner 429/503/504 responses after
   * the longest Retry-After they carry. Results come back in the order of `requests`.
   * Graph throttles the inner requests one by one, so a batch never holds more requests of a
   * small-budget family (reports: 5 per 10 s, Conditional Access: 1 per s) than that budget
   * lets through at once; up to `batchConcurrency` batches are in flight (a 10k-mailbox read is
   * 500 batches: one at a time that is 500 round trips).
   */
  async batch<T = unknown>(requests: BatchRequest[], version: GraphVersion = 'v1.0'): Promise<BatchResponse<T>[]> {
    const results = new Map<string, BatchResponse<T>>();
    await this.batchEach<T>(requests, (res) => void results.set(res.id, res), version);
    return requests.map((r) => results.get(r.id) ?? noResponse<T>(r));
  }

  /**
   * `batch` without holding everything: requests may come from any (async) iterable — e.g. built
   * page by page from a user listing — and each response goes to `onResponse` as soon as its
   * $batch is back. Memory stays at `batchConcurrency` batches however many users the tenant has.
   */
  async batchEach<T = unknown>(
    requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>,
    onResponse: (response: BatchResponse<T>, request: BatchRequest) => void | Promise<void>,
    version: GraphVersion = 'v1.0',
  ): Promise<void> {
    // An async generator serialises concurrent next() calls, so workers can share it.
    const chunks = batchChunks(requests);
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed) {
        const next = await chunks.next();
        if (next.done) return;
        const results = new Map<string, BatchResponse<T>>();
        try {
          await this.batchChunk(next.value, version, results);
          for (const req of next.value) await onResponse(results.get(req.id) ?? noResponse<T>(req), req);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: this.batchConcurrency }, worker));
  }

  /** One $batch payload, re-sending its throttled inner requests after their Retry-After. */
  private async batchChunk<T>(chunk: BatchRequest[], version: GraphVersion, results: Map<string, BatchResponse<T>>): Promise<void> {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const responses = await this.sendBatch<T>(pending, version);
      const retry: BatchRequest[] = [];
      let waitSeconds = 0;
      for (const r of responses) {
        const req = pending.find((p) => p.id === r.id)!;
        const transient = TRANSIENT_STATUS.has(r.status) && req.method === 'GET' && attempt < this.transientRetries;
        if ((RETRYABLE.has(r.status) && attempt < this.batchRetries) || transient) {
          retry.push(req);
          waitSeconds = Math.max(waitSeconds, retryAfterSeconds(r.headers, attempt));
          continue;
        }
        results.set(r.id, {
          id: r.id,
          status: r.status,
          body: r.status < 400 ? r.body : undefined,
          error: r.status >= 400 ? batchResponseError(r.status, r.body, req.url) : undefined,
        });
      }
      pending = retry;
      if (pending.length) await this.sleep(Math.min(waitSeconds, this.maxWait) * 1000);
    }
  }

  private async sendBatch<T>(requests: BatchRequest[], version: GraphVersion) {
    const payload = {
      requests: requests.map((r) => ({
        id: r.id,
        method: r.method,
        url: r.url,
        ...(r.body !== undefined ? { body: r.body, headers: { 'Content-Type': 'application/json', ...r.headers } } : r.headers ? { headers: r.headers } : {}),
      })),
    };
    // A $batch of reads only is itself a read: safe to send again after a transient failure.
    const reads = requests.every((r) => r.method === 'GET');
    const res = await this.run(
      '/$batch',
      () => this.request('/$batch', { version }).post(payload) as Promise<{ responses?: Array<{ id: string; status: number; headers?: Record<string, string>; body?: T }> }>,
      reads,
    );
    if (!Array.isArray(res?.responses)) throw new GraphTransientError('malformed', '/$batch', 1);
    return res.responses;
  }

  private request(path: string, opts: RequestOptions): GraphRequest {
    let req = this.client.api(path).version(opts.version ?? 'v1.0');
    if (opts.query) {
      for (const [k, v] of Object.entries(opts.query)) req = req.query({ [k]: String(v) });
    }
    return this.withHeaders(req, opts.headers);
  }

  private withHeaders(req: GraphRequest, headers?: Record<string, string>): GraphRequest {
    return headers ? req.headers(headers) : req;
  }

  /** One request through the SDK; a read that fails transiently goes again (see `transientRetries`). */
  private async run<T>(path: string, fn: () => Promise<T>, read = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let error: Error;
      try {
        return await fn();
      } catch (err) {
        error = toGraphError(err, stripQuery(path));
      }
      const kind = transientKind(error);
      if (!read || !kind) throw error;
      if (attempt > this.transientRetries) {
        // Say plainly what happened (cards show it under "What I could not check").
        throw error instanceof GraphRequestError && kind === 'status' ? error : new GraphTransientError(kind, stripQuery(path), attempt);
      }
      await this.sleep(500 * 2 ** (attempt - 1));
    }
  }
}

/** Split requests into $batch payloads: at most 20 each, and no more of a family than its budget's burst. */
async function* batchChunks(requests: Iterable<BatchRequest> | AsyncIterable<BatchRequest>): AsyncGenerator<BatchRequest[]> {
  let current: BatchRequest[] = [];
  let used = new Map<string, number>();
  for await (const r of requests) {
    const family = classifyRequest(r.method, r.url).family;
    if (current.length >= BATCH_LIMIT || (used.get(family) ?? 0) >= batchShare(family)) {
      yield current;
      current = [];
      used = new Map();
    }
    current.push(r);
    used.set(family, (used.get(family) ?? 0) + 1);
  }
  if (current.length) yield current;
}

function noResponse<T>(r: BatchRequest): BatchResponse<T> {
  return { id: r.id, status: 0, error: new GraphRequestError(0, 'NoResponse', 'No response in batch', r.url) };
}

function retryAfterSeconds(headers: Record<string, string> | undefined, attempt: number): number {
  const raw = headers && Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const n = raw === undefined ? NaN : Number(raw);
  // No Retry-After (Conditional Access APIs send none): exponential backoff from 1 s.
  return Number.isFinite(n) && n >= 0 ? n : 2 ** attempt;
}

function stripQuery(path: string): string {
  const i = path.indexOf('?');
  return i === -1 ? path : path.slice(0, i);
}

/**
 * The same items, with the next one already being fetched while the caller works on the current
 * one: a paged read (the next page's round trip, its wait for budget) overlaps with the requests
 * the caller makes for the page it holds. Holds at most one item ahead.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  // Nobody may be waiting when the read ahead fails: the failure is handed over at the next step.
  next.catch(() => undefined);
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    // Stopped early (the caller broke off, or failed): let the source clean up once its read is in.
    void next.then(() => it.return?.(), () => undefined);
  }
}
