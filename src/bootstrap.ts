import 'reflect-metadata';
import { ModuleMetadata } from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import type { RequestListener } from 'node:http';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseListen, StowageConfig } from '@stowage/config';
import { AppModule } from './app.module';
import { setupSwagger } from './docs/swagger';
import { GlobalErrorFilter } from './errors/error.filter';
import { createValidationPipe } from './errors/validation.pipe';
import { applyRouteBodyLimit } from './http/body-limit.decorator';
import { DrainService } from './http/drain.service';
import { installJsonBodyParser } from './http/json-body';
import { enableRawBodyRoutes } from './http/raw-body';
import { generateRequestId, REQUEST_ID_HEADER } from './http/request-id';
import { securityHeadersHook } from './http/security-headers';
import { MAX_PATH_PARAM_LENGTH } from './http/route-config';
import { createTimedServer, dashboardTimeouts } from './http/server-timeouts';
import { refuseUnstorableText } from './http/storable-text';
import { trustProxySetting } from './http/trusted-proxies';
import { NestPinoLogger } from './logging/logger';
import { MetricsService } from './metrics/metrics.service';
import { RequestStatsService } from './metrics/request-stats.service';
import { BackendRegistry } from './storage-backends/backend-registry.service';
import { VERSION } from './version';
import { registerWebAssets } from './web/web-assets';

export interface CreateAppOptions {
  config: StowageConfig;
  env: Record<string, string | undefined>;
  logger: Logger;
  imports?: ModuleMetadata['imports'];
}

/** Builds the dashboard application (not yet listening): Fastify, hooks, pipes, docs. */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const { config, logger } = options;
  const errorFilter = new GlobalErrorFilter(logger);
  const adapter = new FastifyAdapter({
    trustProxy: trustProxySetting(config.server.trusted_proxies),
    bodyLimit: config.server.json_body_limit,
    genReqId: generateRequestId,
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Uploads and downloads of any size stream through; stalled ones are cut by an idle timeout.
    serverFactory: (handler: RequestListener) =>
      createTimedServer(handler, dashboardTimeouts(config), logger, 'dashboard'),
    // The dashboard client calls collection routes with a trailing slash (`/api/admin/users/`).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAM_LENGTH },
    // Failures of the router itself (undecodable or over-long path parameters) get the usual error body.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      securityHeadersHook(request, reply, () => errorFilter.send(error, request, reply));
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', applyRouteBodyLimit);
  enableRawBodyRoutes(fastify);
  // Nest's body parsers (JSON, urlencoded) are registered now rather than at init, so ours replaces its JSON one.
  adapter.registerParserMiddleware();
  installJsonBodyParser(fastify);
  refuseUnstorableText(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    securityHeadersHook(request, reply, done);
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
    abortOnError: false,
  });
  await app.register(fastifyCookie);
  await registerWebAssets(app, config);
  app.useGlobalPipes(createValidationPipe());
  // Nest also routes Fastify's own failures (body parsing, hooks) through global filters; the router's
  // (malformed URLs) come through `frameworkErrors` above.
  app.useGlobalFilters(errorFilter);

  const drain = app.get(DrainService);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (drain.draining) void reply.header('Connection', 'close');
    done(null, payload);
  });

  const metrics = app.get(MetricsService);
  const stats = app.get(RequestStatsService);
  const backends = app.get(BackendRegistry);
  fastify.addHook('onRequest', (request, _reply, done) => {
    request.raw.socket.bytesWrittenAtStart = request.raw.socket.bytesWritten;
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // Only a configured backend becomes a label: the path parameter itself is the caller's input.
    const bid = (request.params as Record<string, unknown> | undefined)?.bid;
    const backend = typeof bid === 'string' && backends.entry(bid) ? bid : '';
    metrics.observeHttp(
      request.method,
      route,
      reply.statusCode,
      reply.elapsedTime / 1000,
      backend,
      responseBytes(request, reply),
    );
    stats.count(reply.statusCode, backend, {
      method: request.method,
      path: request.url.split('?')[0],
      user_id: request.identity?.id,
    });
    logger.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
      },
      'request',
    );
    done();
  });

  setupSwagger(app, VERSION);
  await app.init();
  return app;
}

declare module 'node:net' {
  interface Socket {
    /** `bytesWritten` when the request now answered on this connection came in. */
    bytesWrittenAtStart?: number;
  }
}

/** The declared length of an answer, else what the connection sent for it (headers included). */
function responseBytes(request: FastifyRequest, reply: FastifyReply): number {
  const declared = Number(reply.getHeader('content-length'));
  if (Number.isSafeInteger(declared) && declared >= 0) return declared;
  const socket = request.raw.socket;
  return Math.max(0, socket.bytesWritten - (socket.bytesWrittenAtStart ?? socket.bytesWritten));
}

/** Starts listening on `server.listen`; returns the bound address. */
export async function listen(
  app: NestFastifyApplication,
  config: StowageConfig,
): Promise<{ host: string; port: number }> {
  const address = parseListen(config.server.listen)!;
  await app.listen(address.port, address.host);
  const bound = app.getHttpServer().address();
  return typeof bound === 'object' && bound ? { host: address.host, port: bound.port } : address;
}
