/**
 * The HTTP server: POST /api/messages for Bot Framework traffic, GET /healthz for liveness,
 * GET /readyz for readiness (database and Graph token).
 * Error bodies never carry internals (botbuilder's CloudAdapter would put err.message there).
 */
import * as restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { Logger } from 'pino';
import type { VigilActivityHandler } from './activityHandler';
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
  reports?: { serve(id: string, token: string | undefined): ServeResult };
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
  server.use(restify.plugins.bodyParser({ maxBodySize: opts.maxBodyBytes ?? 256 * 1024, mapParams: false }));

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
  server.get('/reports/:id', (req, res, next) => {
    const token = new URL(req.url ?? '/', 'http://vigil.invalid').searchParams.get('token') ?? undefined;
    const outcome = opts.reports ? opts.reports.serve(String(req.params.id ?? ''), token) : ({ status: 404, error: 'Not found' } as const);
    res.header('Cache-Control', 'no-store');
    res.header('Referrer-Policy', 'no-referrer');
    res.header('X-Content-Type-Options', 'nosniff');
    if (outcome.status !== 200) {
      res.send(outcome.status, { error: outcome.error });
      return next();
    }
    const { file } = outcome;
    const ascii = file.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': file.bytes.length,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    });
    res.end(file.bytes);
    return next();
  });

  server.post('/api/messages', async (req, res) => {
    // One request id per activity: on every log line written while it is handled, and on its span.
    const requestId = newRequestId();
    const activity = (req.body ?? {}) as { id?: unknown; type?: unknown };
    const activityType = typeof activity.type === 'string' ? activity.type.slice(0, 40) : 'unknown';
    const bindings: Record<string, string> = { requestId };
    if (typeof activity.id === 'string') bindings.activityId = activity.id.slice(0, 120);
    await withLogContext(bindings, () =>
      traceActivity(requestId, activityType, async () => {
        try {
          await opts.adapter.process(req, res as never, (context) => opts.handler.run(context));
        } catch (err) {
          opts.log.error({ err: { message: (err as Error).message } }, 'request failed');
          if (!res.headersSent) res.send(500, { error: 'Internal error' });
        }
      }),
    );
  });

  server.on('restifyError', (req: restify.Request, res: restify.Response, err: Error & { statusCode?: number; toJSON?: () => unknown }, cb: () => void) => {
    // Keep restify's status (400 bad JSON, 413 too large) but never its internal message.
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    err.toJSON = () => ({ error: status >= 500 ? 'Internal error' : 'Bad request' });
    err.toString = () => (status >= 500 ? 'Internal error' : 'Bad request');
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
