import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { StowageError } from '@stowage/errors';

/** The client hung up before its request body was complete. */
export function clientWentAway(request: FastifyRequest): boolean {
  const raw = request.raw;
  return !raw.complete && (raw.destroyed || raw.socket?.destroyed !== false);
}

/**
 * Runs an upload that reads the request body. When it fails because the client went away (the
 * backend request has been aborted by then, so nothing partial is stored), the failure is logged
 * as one warning naming the request, not as an error with a stack, and answered as a client error
 * (which nobody reads). Any other failure passes through untouched.
 */
export async function uploadFromClient<T>(request: FastifyRequest, logger: Logger, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!clientWentAway(request)) throw err;
    logger.warn(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url,
        declaredBytes: request.headers['content-length'],
        clientAborted: true,
      },
      'upload aborted: the client went away before the body was complete',
    );
    throw new StowageError('bad_request', undefined, 'the client closed the connection before the body was complete');
  }
}
