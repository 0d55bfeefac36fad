/**
 * GraphApi: the handful of request shapes Vigil needs (get, paging, $count, $batch, writes)
 * for one tenant, on top of the SDK client. Paging always follows @odata.nextLink (pages
 * may be smaller than $top); $batch retries throttled inner requests itself because the
 * SDK's RetryHandler never sees them.
 */
import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import { batchResponseError, GraphRequestError, toGraphError } from './errors';

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

export interface GraphApiOptions {
  /** How often a throttled inner $batch request is retried. */
  batchRetries?: number;
  /** Upper bound for any wait, in seconds (Graph may ask for long waits; we cap like the SDK does). */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class GraphApi {
  private readonly batchRetries: number;
  private readonly maxWait: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: Client,
    readonly tenantId: string,
    options: GraphApiOptions = {},
  ) {
    this.batchRetries = options.batchRetries ?? 5;
    this.maxWait = options.maxRetryAfterSeconds ?? 180;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.run(path, () => this.request(path, opts).get());
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
      page = await this.run(next, () => this.withHeaders(this.client.api(next), opts.headers).get());
      yield page.value ?? [];
    }
  }

  /** The items of the pages after a collection page's @odata.nextLink (e.g. inside a $batch response). */
  async rest<T>(page: { '@odata.nextLink'?: string } | undefined, headers?: Record<string, string>): Promise<T[]> {
    const items: T[] = [];
    let next = page?.['@odata.nextLink'];
    while (next) {
      const link = next;
      const p = await this.run(link, () => this.withHeaders(this.client.api(link), headers).get()) as Page<T>;
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
   */
  async batch<T = unknown>(requests: BatchRequest[], version: GraphVersion = 'v1.0'): Promise<BatchResponse<T>[]> {
    const results = new Map<string, BatchResponse<T>>();
    for (let i = 0; i < requests.length; i += BATCH_LIMIT) {
      let pending = requests.slice(i, i + BATCH_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const responses = await this.sendBatch<T>(pending, version);
        const retry: BatchRequest[] = [];
        let waitSeconds = 0;
        for (const r of responses) {
          const req = pending.find((p) => p.id === r.id)!;
          if (RETRYABLE.has(r.status) && attempt < this.batchRetries) {
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
    return requests.map((r) => results.get(r.id) ?? { id: r.id, status: 0, error: new GraphRequestError(0, 'NoResponse', 'No response in batch', r.url) });
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
    const res = await this.post<{ responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: T }> }>(
      '/$batch',
      payload,
      { version },
    );
    return res.responses ?? [];
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

  private async run<T>(path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toGraphError(err, stripQuery(path));
    }
  }
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
