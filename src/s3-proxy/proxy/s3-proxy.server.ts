import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseListen, StowageConfig } from '@stowage/config';
import { LOGGER } from '../../logging/logging.module';
import { S3ProxyHandler } from './s3-proxy.handler';
import { STREAM_BUFFER_BYTES } from './upstream-client';

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
    const server = createServer({
      // Socket buffers big enough that a body moving between a client and the upstream is not
      // paused and resumed every 16 KiB (node's default).
      highWaterMark: STREAM_BUFFER_BYTES,
      // Uploads can take as long as they take; a stalled header is another matter.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
    });
    server.on('request', (req, res) => this.handler.handle(req, res));
    server.on('checkContinue', (req, res) => this.handler.handle(req, res, true));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
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
