/**
 * The HTTP server: POST /api/messages for Bot Framework traffic, GET /healthz for liveness.
 * Error bodies never carry internals (botbuilder's CloudAdapter would put err.message there).
 */
import * as restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { Logger } from 'pino';
import type { VigilActivityHandler } from './activityHandler';

export interface ServerOptions {
  port: number;
  host: string;
  adapter: CloudAdapter;
  handler: VigilActivityHandler;
  log: Logger;
  /** Largest accepted request body; Teams activities are far smaller. */
  maxBodyBytes?: number;
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

  server.post('/api/messages', async (req, res) => {
    try {
      await opts.adapter.process(req, res as never, (context) => opts.handler.run(context));
    } catch (err) {
      opts.log.error({ err: { message: (err as Error).message } }, 'request failed');
      if (!res.headersSent) res.send(500, { error: 'Internal error' });
    }
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
