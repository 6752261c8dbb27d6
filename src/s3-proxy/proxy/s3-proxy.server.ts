import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseListen, StowageConfig } from '@stowage/config';
import { errorXml } from '@stowage/s3-xml';
import { createTimedServer } from '../../http/server-timeouts';
import { LOGGER } from '../../logging/logging.module';
import { S3ProxyHandler } from './s3-proxy.handler';

/** Bodies up to this size must arrive whole within `s3_proxy.small_body_timeout`. */
const SMALL_BODY_BYTES = 1024 * 1024;
/** Per-socket buffering of the listener (node's default is 16 KiB). */
export const SOCKET_BUFFER_BYTES = 1024 * 1024;

/**
 * The S3 endpoint's own listener (`s3_proxy.listen`): plain node:http, outside the dashboard's
 * request pipeline, since every microsecond here is per S3 call. It starts with the app when
 * `s3_proxy.enabled` is set and drains with it on shutdown.
 */
@Injectable()
export class S3ProxyServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly config: StowageConfig,
    private readonly handler: S3ProxyHandler,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The bound address, once listening. */
  address(): { host: string; port: number } | undefined {
    const bound = this.server?.address() as AddressInfo | null | undefined;
    return bound ? { host: bound.address, port: bound.port } : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.s3_proxy.enabled) return;
    const listen = parseListen(this.config.s3_proxy.listen)!;
    const { headers_timeout, idle_timeout, small_body_timeout } = this.config.s3_proxy;
    const server = createTimedServer(
      (req, res) => this.handler.handle(req, res),
      {
        headersMs: headers_timeout,
        // Uploads can take as long as they keep moving; a stalled one is cut after this silence.
        idleMs: idle_timeout,
        smallBodyMs: small_body_timeout,
        smallBodyBytes: SMALL_BODY_BYTES,
        keepAliveMs: 65_000,
        // Socket buffers big enough that a body moving between a client and the upstream is not
        // paused and resumed every 16 KiB (node's default), small enough that stalled clients
        // do not pin much memory each.
        highWaterMark: SOCKET_BUFFER_BYTES,
        timeoutResponse: () => ({
          contentType: 'application/xml',
          body: errorXml({
            code: 'RequestTimeout',
            message: 'Your socket connection to the server was not read from or written to within the timeout period.',
            requestId: randomUUID(),
          }),
        }),
      },
      this.logger,
      's3',
    );
    server.on('checkContinue', (req, res) => this.handler.handle(req, res, true));
    // An Expect other than 100-continue (an empty one, say) is ignored, as S3 does, not answered 417.
    server.on('checkExpectation', (req, res) => this.handler.handle(req, res, false));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable && !socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const bound = this.address()!;
    this.logger.info({ listen: `${bound.host}:${bound.port}` }, 'S3 proxy is listening');
  }

  /** Stops accepting, lets requests in flight finish within the shutdown timeout, then cuts the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), this.config.server.shutdown_timeout);
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    await closed;
    clearTimeout(timer);
    clearInterval(idle);
  }
}
