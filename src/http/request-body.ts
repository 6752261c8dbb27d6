import type { IncomingMessage } from 'node:http';

/**
 * Whether a request announces a body. A refusal answered synchronously comes before node:http
 * has even marked a bodiless request complete, so `complete` alone cannot tell.
 */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * True when the answer goes out before the request body has been read to its end: the answer then
 * closes the connection, as an unread body is not worth reading just to keep it (a refused upload
 * is answered at once, not after the client has sent every byte).
 */
export function bodyLeftUnread(req: IncomingMessage): boolean {
  return !req.complete && hasBody(req);
}
