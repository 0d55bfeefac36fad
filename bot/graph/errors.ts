/**
 * Graph errors, normalised: one error type the rest of Vigil can reason about, telling a
 * missing permission or licence apart from a fault so cards can say what to add.
 */
export class GraphRequestError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly path: string,
  ) {
    super(message);
    this.name = 'GraphRequestError';
  }

  /** The app lacks an application permission (403 Authorization_RequestDenied and friends). */
  get isMissingPermission(): boolean {
    return (
      this.status === 403 &&
      ['Authorization_RequestDenied', 'Forbidden', 'accessDenied', 'ErrorAccessDenied', 'UnknownError'].includes(this.code) &&
      !this.isMissingLicence
    );
  }

  /** The tenant lacks the licence this API needs (Entra ID P1/P2). */
  get isMissingLicence(): boolean {
    return (
      (this.status === 403 &&
        ['Authentication_RequestFromNonPremiumTenantOrB2CTenant', 'AadPremiumLicenseRequired'].includes(this.code)) ||
      /premium|licen[cs]e/i.test(this.code)
    );
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

interface SdkGraphError {
  statusCode?: number;
  code?: string | null;
  message?: string;
  body?: unknown;
}

/** Convert whatever the SDK threw into a GraphRequestError (keeping non-HTTP errors as they are). */
export function toGraphError(err: unknown, path: string): Error {
  if (err instanceof GraphRequestError) return err;
  const e = err as SdkGraphError;
  if (e && typeof e.statusCode === 'number' && e.statusCode > 0) {
    const fromBody = parseErrorBody(e.body);
    return new GraphRequestError(e.statusCode, e.code ?? fromBody.code ?? 'UnknownError', e.message || fromBody.message || 'Graph request failed', path);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Error from an inner $batch response body: {"error":{"code","message"}}. */
export function batchResponseError(status: number, body: unknown, path: string): GraphRequestError {
  const { code, message } = parseErrorBody(body);
  return new GraphRequestError(status, code ?? 'UnknownError', message ?? `Graph answered ${status}`, path);
}

function parseErrorBody(body: unknown): { code?: string; message?: string } {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return {};
    }
  }
  const err = (b as { error?: { code?: string; message?: string } } | undefined)?.error;
  return { code: err?.code, message: err?.message };
}

/** How a request failed without a usable answer — worth another try for a read. */
export type TransientKind = 'status' | 'reset' | 'timeout' | 'malformed';

/**
 * What kind of transient failure this is, if any: a 500/502; no answer at all (connection reset or
 * refused); no answer within the time limit; or an answer whose JSON body could not be parsed
 * (the SDK reports that with the answer's own status and the parser's error name).
 */
export function transientKind(err: unknown): TransientKind | undefined {
  if (err instanceof GraphTransientError) return undefined;
  if (err instanceof GraphRequestError) {
    if (err.status === 500 || err.status === 502) return 'status';
    if (err.status < 300 && err.code === 'SyntaxError') return 'malformed';
    return undefined;
  }
  const e = err as { name?: string; code?: string; statusCode?: number; message?: string } | undefined;
  const name = `${e?.code ?? ''} ${e?.name ?? ''}`;
  if (/TimeoutError|AbortError/.test(name)) return 'timeout';
  if (/SyntaxError/.test(name)) return 'malformed';
  if (/TypeError|FetchError/.test(name) && /fetch failed|socket|ECONNRESET|ECONNREFUSED|other side closed|terminated/i.test(e?.message ?? '')) return 'reset';
  if (/ECONNRESET|ECONNREFUSED|EPIPE|UND_ERR/.test(name)) return 'reset';
  return undefined;
}

const TRANSIENT_REASON: Record<TransientKind, string> = {
  status: 'Graph kept answering with a server error',
  reset: 'Graph closed the connection without answering',
  timeout: 'Graph did not answer in time',
  malformed: 'Graph sent an answer that was not valid JSON',
};

/** A read that failed transiently every time it was tried: says so in plain words. */
export class GraphTransientError extends Error {
  constructor(
    public readonly kind: TransientKind,
    public readonly path: string,
    public readonly attempts: number,
  ) {
    super(`${TRANSIENT_REASON[kind]} (${path}, tried ${attempts} time${attempts === 1 ? '' : 's'}).`);
    this.name = 'GraphTransientError';
  }
}
