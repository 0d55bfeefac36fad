/**
 * The HTTP server: POST /api/messages for Bot Framework traffic, GET /healthz for liveness,
 * GET /readyz for readiness (database and Graph token).
 * Error bodies never carry internals: botbuilder's CloudAdapter answers with err.message (and a
 * token it could not verify with jsonwebtoken's message), so its answer is captured and only the
 * status goes out, with a generic body. Bodies are read here, not by restify's bodyParser: JSON
 * only (no multipart uploads to disk), at most `maxBodyBytes` — after decompression too, so a
 * small gzip bomb cannot expand in memory — and something that is not an activity is a 400
 * before it reaches botbuilder.
 */
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import * as restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { Logger } from 'pino';
import type { VigilActivityHandler } from './activityHandler';
import { notAnActivity } from './inbound';
import type { ServeResult } from '../report/desk';
import { newRequestId, withLogContext } from '../log';
import { traceActivity } from '../telemetry';

export interface ServerOptions {
  port: number;
  host: string;
  adapter: CloudAdapter;
  handler: VigilActivityHandler;
  log: Logger;
  /** Largest accepted request body; Teams activities are far smaller. */
  maxBodyBytes?: number;
  /** GET /reports/{id}?token=…: generated reports behind signed, expiring links. */
  reports?: { serve(id: string, token: string | undefined): Promise<ServeResult> };
  /** GET /readyz: true when Vigil can serve (database reachable, Graph token obtainable). Absent = always ready. */
  readiness?: () => Promise<boolean>;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const server = restify.createServer({ name: 'vigil', handleUncaughtExceptions: false });
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // A whole request (headers and body) must arrive within 30 s: slow senders do not hold sockets for long.
  server.server.requestTimeout = 30_000;
  server.server.headersTimeout = 15_000;

  server.get('/healthz', (_req, res, next) => {
    res.send(200, { status: 'ok' });
    return next();
  });

  // Readiness (for load balancers and App Service health checks): 503 until the database answers and a
  // Graph token can be had. The body never says why (the log does).
  server.get('/readyz', async (_req, res) => {
    const ready = opts.readiness ? await opts.readiness().catch(() => false) : true;
    res.header('Cache-Control', 'no-store');
    res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
  });

  // Report downloads: only with a valid signed token (see bot/report/links.ts). Nothing is cached,
  // nothing is sniffed, and the token never leaks onward through a Referer header.
  server.get('/reports/:id', async (req, res) => {
    const token = new URL(req.url ?? '/', 'http://vigil.invalid').searchParams.get('token') ?? undefined;
    const outcome = opts.reports ? await opts.reports.serve(String(req.params.id ?? ''), token) : ({ status: 404, error: 'Not found' } as const);
    res.header('Cache-Control', 'no-store');
    res.header('Referrer-Policy', 'no-referrer');
    res.header('X-Content-Type-Options', 'nosniff');
    if (outcome.status !== 200) {
      res.send(outcome.status, { error: outcome.error });
      return;
    }
    const { file } = outcome;
    const ascii = file.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': file.bytes.length,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    });
    res.end(file.bytes);
  });

  server.post('/api/messages', async (req, res) => {
    // One request id per activity: on every log line written while it is handled, and on its span.
    const requestId = newRequestId();
    const read = await readJsonBody(req, maxBodyBytes);
    if (!read.ok) {
      opts.log.warn({ requestId, status: read.status, reason: read.reason }, 'request refused');
      if (read.status === 413) res.header('Connection', 'close');
      res.send(read.status, { error: ERRORS[read.status] });
      return;
    }
    const invalid = notAnActivity(read.body);
    if (invalid) {
      opts.log.warn({ requestId, reason: invalid }, 'request refused: not an activity');
      res.send(400, { error: ERRORS[400] });
      return;
    }
    req.body = read.body;
    const activity = read.body as { id?: unknown; type?: unknown };
    const activityType = typeof activity.type === 'string' ? activity.type.slice(0, 40) : 'unknown';
    const bindings: Record<string, string> = { requestId };
    if (typeof activity.id === 'string') bindings.activityId = activity.id.slice(0, 120);
    await withLogContext(bindings, () =>
      traceActivity(requestId, activityType, async () => {
        // CloudAdapter writes its answer itself; capture it and pass on only what is safe.
        const answer = new CapturedResponse();
        try {
          await opts.adapter.process(req, answer as never, (context) => opts.handler.run(context));
        } catch (err) {
          answer.status(500).send(String((err as Error)?.message ?? err));
        }
        if (res.headersSent) return;
        const { statusCode, body } = answer;
        if (statusCode >= 500) {
          opts.log.error({ err: { message: typeof body === 'string' ? body.slice(0, 500) : 'no detail' }, status: statusCode }, 'request failed');
          res.send(500, { error: ERRORS[500] });
        } else if (statusCode >= 400) {
          res.send(statusCode, { error: ERRORS[statusCode] ?? ERRORS[400] });
        } else if (body === undefined || body === null || body === '') {
          res.send(statusCode);
        } else {
          res.send(statusCode, body);
        }
      }),
    );
  });

  server.on('restifyError', (req: restify.Request, res: restify.Response, err: Error & { statusCode?: number; toJSON?: () => unknown }, cb: () => void) => {
    // Keep restify's status (400 bad JSON, 413 too large) but never its internal message.
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    const text = status >= 500 ? ERRORS[500] : (ERRORS[status] ?? ERRORS[400]);
    err.toJSON = () => ({ error: text });
    err.toString = () => text;
    if (status >= 500) opts.log.error({ err: { message: err.message }, url: req.url }, 'server error');
    cb();
  });

  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, () => resolve()));
  const address = server.address() as { port: number };
  return {
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${address.port}`,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Teams activities are a few KB; an Adaptive Card action with its data well under 100 KB. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** The only bodies error answers ever carry. */
const ERRORS: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Request too large',
  415: 'Unsupported media type',
  500: 'Internal error',
};

/** Stands in for the HTTP response while CloudAdapter.process runs: it keeps the status and body. */
class CapturedResponse {
  statusCode = 200;
  body: unknown;
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  send(body: unknown): this {
    this.body = body;
    return this;
  }
  header(): this {
    return this;
  }
  end(): this {
    return this;
  }
}

type BodyRead = { ok: true; body: unknown } | { ok: false; status: 400 | 413 | 415; reason: string };

/**
 * Read a JSON request body of at most `maxBytes` (as sent, and again after gzip decompression),
 * stopping as soon as it is too large.
 */
export function readJsonBody(req: restify.Request, maxBytes: number): Promise<BodyRead> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(type)) return Promise.resolve({ ok: false, status: 415, reason: 'content type' });
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') return Promise.resolve({ ok: false, status: 415, reason: 'content encoding' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // discard; the 413 closes the connection
    return Promise.resolve({ ok: false, status: 413, reason: 'declared length' });
  }
  return new Promise<BodyRead>((resolve) => {
    const chunks: Buffer[] = [];
    let raw = 0;
    let size = 0;
    let settled = false;
    const finish = (out: BodyRead) => {
      if (settled) return;
      settled = true;
      if (!out.ok) {
        req.unpipe();
        req.resume();
      }
      resolve(out);
    };
    let stream: Readable = req;
    if (encoding === 'gzip') {
      const gunzip = createGunzip();
      gunzip.on('error', () => finish({ ok: false, status: 400, reason: 'gzip' }));
      req.pipe(gunzip);
      stream = gunzip;
    }
    req.on('data', (chunk: Buffer) => {
      raw += chunk.length;
      if (raw > maxBytes) finish({ ok: false, status: 413, reason: 'body size' });
    });
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        if (stream !== req) stream.destroy();
        finish({ ok: false, status: 413, reason: encoding === 'gzip' ? 'decompressed size' : 'body size' });
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (settled) return;
      try {
        finish({ ok: true, body: parseInbound(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        finish({ ok: false, status: 400, reason: 'invalid JSON' });
      }
    });
    req.on('error', () => finish({ ok: false, status: 400, reason: 'request stream' }));
    req.on('aborted', () => finish({ ok: false, status: 400, reason: 'aborted' }));
  });
}

/**
 * An inbound body, parsed with `sanitizeJson`. A reviver costs a call per key and value (~2% of a
 * busy bot's CPU), and it can only change something when the text names `__proto__` or holds a
 * `\u` escape: a NUL can reach a parsed string or key only as `\u0000` (a raw one is invalid
 * JSON), and a key can only read `__proto__` after parsing if the text spells it out or escapes
 * some of its characters. Text with neither parses to exactly what the reviver would give.
 */
export function parseInbound(text: string): unknown {
  return text.includes('\\u') || text.includes('__proto__') ? JSON.parse(text, sanitizeJson) : JSON.parse(text);
}

/**
 * JSON.parse reviver for inbound bodies. An own "__proto__" key is dropped, so no later
 * Object.assign can swap a prototype with it; NUL characters are removed from strings and keys
 * carrying one are dropped: they mean nothing in a chat, and PostgreSQL refuses them in text and
 * jsonb (a stored name or card reference with one would fail the whole turn).
 */
function sanitizeJson(key: string, value: unknown): unknown {
  if (key === '__proto__' || key.includes('\u0000')) return undefined;
  return typeof value === 'string' && value.includes('\u0000') ? value.replace(/\u0000/g, '') : value;
}
