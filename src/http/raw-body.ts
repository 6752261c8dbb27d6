import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MergeRouteConfig } from './route-config';

const RAW_CONTENT_TYPE = 'application/x-stowage-raw-body';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Content-Type the client sent, on routes that take the body as a raw stream. */
    originalContentType?: string;
  }
}

/** Marks a route whose handler reads the request body itself, as a stream, whatever its type. */
export const RawBody = () => MergeRouteConfig({ rawBody: true });

/**
 * Lets `@RawBody()` routes bypass Fastify's body parsers (which would buffer JSON and text):
 * their Content-Type is swapped for a private one whose parser consumes nothing, and the
 * original is kept on the request for the handler.
 */
export function enableRawBodyRoutes(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(RAW_CONTENT_TYPE, (_request, _payload, done) => done(null, undefined));
  fastify.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    if ((request.routeOptions.config as { rawBody?: boolean } | undefined)?.rawBody) {
      const type = request.headers['content-type'];
      request.originalContentType = typeof type === 'string' ? type : undefined;
      request.headers['content-type'] = RAW_CONTENT_TYPE;
    }
    done();
  });
}
