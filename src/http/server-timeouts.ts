import { createServer, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { StowageConfig } from '@stowage/config';
import { ERROR_CATALOGUE } from '@stowage/errors';

export interface ServerTimeouts {
  /** The whole request head must arrive within this (node's `headersTimeout`). */
  headersMs: number;
  /** A connection with a request in flight may stay silent (no byte either way) this long. */
  idleMs: number;
  /** A body declared at most `smallBodyBytes` long must arrive whole within this; 0: no bound. */
  smallBodyMs: number;
  smallBodyBytes: number;
  keepAliveMs: number;
  /** Socket buffer size (node's `highWaterMark`); node's default when omitted. */
  highWaterMark?: number;
  /** The answer a stalled client gets while one is still possible (status line to body). */
  timeoutResponse: () => { contentType: string; body: string };
}

interface InFlight {
  req: IncomingMessage;
  res: ServerResponse;
}

/**
 * An HTTP/1.1 server that cuts stalled clients: a request head slower than `headersMs` (node
 * answers 408), a connection silent for `idleMs` while a request is in flight (an idle timeout,
 * not a total one, so a long upload that keeps moving is never cut), and a small body that has
 * not arrived whole within `smallBodyMs`. A cut client gets 408 when no answer was started yet,
 * then the connection is closed; each cut is logged.
 */
export function createTimedServer(
  handler: RequestListener,
  timeouts: ServerTimeouts,
  logger: Logger,
  listener: string,
): Server {
  const server = createServer({
    headersTimeout: timeouts.headersMs,
    // Uploads may take as long as they keep moving: the idle timeout below cuts stalls.
    requestTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveMs,
    // How often node checks head deadlines; at most a quarter of the deadline late.
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(timeouts.headersMs / 4))),
    ...(timeouts.highWaterMark ? { highWaterMark: timeouts.highWaterMark } : {}),
  });
  const inFlight = new WeakMap<Socket, InFlight>();

  /** Bytes read from each socket up to the end of its last answer: more means a head is arriving. */
  const readBefore = new WeakMap<Socket, number>();

  const cut = (socket: Socket, reason: 'idle' | 'small_body') => {
    const current = inFlight.get(socket);
    const partialHead = !current && socket.bytesRead > (readBefore.get(socket) ?? 0);
    if (!current && !partialHead) {
      // Between requests of a kept-alive connection: the keep-alive timeout ran out.
      socket.destroy();
      return;
    }
    inFlight.delete(socket);
    const req = current?.req;
    logger.warn(
      { listener, reason: partialHead ? 'head' : reason, method: req?.method, url: req?.url?.split('?')[0] },
      'stalled client cut off',
    );
    if (!current?.res.headersSent && socket.writable) {
      const { contentType, body } = timeouts.timeoutResponse();
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, { req, res });
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      readBefore.set(socket, socket.bytesRead);
      if (inFlight.get(socket)?.req === req) inFlight.delete(socket);
    };
    res.once('finish', done);
    res.once('close', done);
    const declared = Number(req.headers['content-length']);
    if (timeouts.smallBodyMs > 0 && declared > 0 && declared <= timeouts.smallBodyBytes && !req.complete) {
      timer = setTimeout(() => {
        if (!req.complete && inFlight.get(socket)?.req === req) cut(socket, 'small_body');
      }, timeouts.smallBodyMs);
      timer.unref();
      req.once('end', () => clearTimeout(timer));
    }
    handler(req, res);
  });
  server.setTimeout(timeouts.idleMs);
  // With a listener, node leaves timed-out sockets to us (keep-alive ones included).
  server.on('timeout', (socket: Socket) => cut(socket, 'idle'));
  return server;
}

/** The dashboard listener's timeouts (`server.*`); a cut answers the catalogue's `request_timeout`. */
export function dashboardTimeouts(config: StowageConfig): ServerTimeouts {
  const { headers_timeout, idle_timeout, small_body_timeout, json_body_limit } = config.server;
  const error = { code: 'request_timeout', message: ERROR_CATALOGUE.request_timeout.message, detail: '' };
  const body = JSON.stringify({ error });
  return {
    headersMs: headers_timeout,
    idleMs: idle_timeout,
    smallBodyMs: small_body_timeout,
    smallBodyBytes: json_body_limit,
    keepAliveMs: 65_000,
    timeoutResponse: () => ({ contentType: 'application/json; charset=utf-8', body }),
  };
}
