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
