import type { FastifyReply, FastifyRequest } from 'fastify';
import { ObjectStream } from '../storage-backends/backend';
import { StowageError } from '@stowage/errors';

/**
 * Writing a download: the one place both download routes (the dashboard's
 * `GET /api/backends/:bid/buckets/:bucket/object` and a share link's `GET|HEAD /s/:code/raw`)
 * turn an {@link ObjectStream} into a reply.
 */

/** Objects are user content: never let one run as a page of this origin. */
const USER_CONTENT_POLICY =
  "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'";

/** A request header that arrived once, as a string; undefined when absent or repeated. */
export function requestHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * True when the write carries `If-None-Match: *` (refuse an existing key); any other
 * If-None-Match on a write is refused, as only `*` means something there.
 */
export function ifNoneMatchAny(request: FastifyRequest): boolean {
  const value = requestHeader(request, 'if-none-match');
  if (value === undefined) return false;
  if (value.trim() !== '*') throw new StowageError('bad_request', undefined, 'If-None-Match: only "*" is supported');
  return true;
}

/** `attachment; filename="…"; filename*=UTF-8''…` for any key, safe against header injection. */
export function contentDisposition(kind: 'attachment' | 'inline', key: string): string {
  const name = key.split('/').filter(Boolean).pop() ?? 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A signal that aborts the upstream read when the client hangs up before the answer is complete. */
export function hangUpSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // 'close' also follows every completed exchange; aborting then would only cost a DOMException.
  request.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export interface ObjectReplyOptions {
  /** The object's key: names the file in Content-Disposition. */
  key: string;
  disposition: 'attachment' | 'inline';
  cacheControl: string;
  /** Headers only (HEAD): the body is dropped. */
  headOnly?: boolean;
}

/**
 * Answers with `object`: 304 when the condition held, else 200 or 206 with its length, type,
 * validators, disposition and the user-content policy; streams the body unless `headOnly`.
 */
export function sendObject(reply: FastifyReply, object: ObjectStream, options: ObjectReplyOptions): FastifyReply {
  const { info } = object;
  if (info.etag) void reply.header('ETag', info.etag);
  if (info.lastModified) void reply.header('Last-Modified', info.lastModified.toUTCString());
  void reply.header('Cache-Control', options.cacheControl);
  if (object.notModified) {
    object.body.destroy();
    return reply.status(304).send();
  }
  void reply
    .header('Content-Type', info.contentType ?? 'application/octet-stream')
    .header('Content-Length', String(object.contentLength))
    .header('Accept-Ranges', 'bytes')
    .header('Content-Disposition', contentDisposition(options.disposition, options.key))
    .header('Content-Security-Policy', USER_CONTENT_POLICY);
  if (object.contentRange) void reply.status(206).header('Content-Range', object.contentRange);
  if (options.headOnly) {
    object.body.destroy();
    return reply.send();
  }
  return reply.send(object.body);
}
