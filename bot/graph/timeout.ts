/**
 * A time limit on each attempt of a Graph read. Without one, a response that never comes (a
 * stalled connection, a service hanging) holds a check — and a scheduled scan — forever. The limit
 * is per HTTP attempt, set just before the request goes out, so waiting for a Retry-After or for
 * the pacer's budget does not count. Writes get none: one that timed out may still have happened,
 * and the approval workflow settles an unfinished write by reading it back instead.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

/** Default limit per attempt: Graph's slowest reads (reports, large pages) answer well within it. */
export const DEFAULT_READ_TIMEOUT_MS = 60_000;

export class ReadTimeoutHandler implements Middleware {
  private next?: Middleware;

  constructor(private readonly timeoutMs = DEFAULT_READ_TIMEOUT_MS) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const request = context.request;
    const method = (context.options?.method ?? (typeof request === 'string' ? 'GET' : request.method) ?? 'GET').toUpperCase();
    const url = typeof request === 'string' ? request : request.url;
    if (this.timeoutMs > 0 && isRead(method, url, context.options?.body)) {
      // A fresh signal per attempt (Vigil never passes one of its own, so nothing is lost).
      context.options = { ...context.options, signal: AbortSignal.timeout(this.timeoutMs) };
    }
    await this.next!.execute(context);
  }
}

/** A read: GET, or a JSON $batch whose requests are all GETs. */
export function isRead(method: string, url: string, body: unknown): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  if (method !== 'POST' || !/\/\$batch(\?|$)/.test(url)) return false;
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return false;
    }
  }
  const requests = (b as { requests?: Array<{ method?: unknown }> } | null | undefined)?.requests;
  return Array.isArray(requests) && requests.length > 0 && requests.every((r) => String(r?.method ?? 'GET').toUpperCase() === 'GET');
}
