/** Graph's error envelope and the exception routes throw to produce it. */

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`
 * — innerError.date has no fractional seconds and no zone, like Graph's.
 */
export function errorBody(code: string, message: string, requestId: string, clientRequestId: string, now: Date): Record<string, unknown> {
  return {
    error: {
      code,
      message,
      innerError: {
        date: now.toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  };
}

export const notFound = (id: string): GraphError =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const badRequest = (message: string, code = 'Request_BadRequest'): GraphError => new GraphError(400, code, message);
