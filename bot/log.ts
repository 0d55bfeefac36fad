/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret-bearing fields are
 * redacted by path, and nothing logs request headers or tokens in the first place.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Request ids. Each Teams activity (bot/teams/server.ts) and each scheduled scan
 * (bot/watch/watchman.ts) runs inside `withLogContext({ requestId | scanId })`: every line any
 * Vigil logger writes while it runs carries that id, however deep the code that logs (a pino
 * mixin reads the current context), exactly as a pino child logger's bindings would.
 */
const logContext = new AsyncLocalStorage<Record<string, string>>();

/** A short random id for a request or a scan (hex, 16 characters). */
export function newRequestId(): string {
  return randomBytes(8).toString('hex');
}

/** Run `fn` with these bindings on every log line written inside it (nested contexts add to the outer one). */
export function withLogContext<T>(bindings: Record<string, string>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...bindings }, fn);
}

/** The bindings of the current request or scan, if any. */
export function currentLogContext(): Record<string, string> | undefined {
  return logContext.getStore();
}

export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'clientSecret',
  '*.clientSecret',
  'appPassword',
  '*.appPassword',
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'client_assertion',
  '*.client_assertion',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'vigil' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The request id / scan id of whatever is running (see withLogContext).
      // (Keys a child logger already binds are left to the child, so no line repeats a key.)
      mixin: (_obj: object, _level: number, logger?: Logger) => {
        const ctx = logContext.getStore();
        if (!ctx) return {};
        const bound = logger?.bindings?.() ?? {};
        return Object.fromEntries(Object.entries(ctx).filter(([k]) => !(k in bound)));
      },
    },
    destination,
  );
}

export type { Logger };
