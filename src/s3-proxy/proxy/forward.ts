import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { withRequestId } from '@stowage/s3-xml';
import { EMPTY_SHA256, UNSIGNED_PAYLOAD } from '@stowage/sigv4';
import { LOGGER } from '../../logging/logging.module';
import { UpstreamClient } from '../../storage-backends/upstream/upstream-client';
import type { Exchange, ForwardDecision, Refusal } from './exchange';
import { S3ProxyError } from './proxy-error';
import { ProxyMetrics } from './proxy-metrics';
import { ProxyQuota, ProxyQuotaStep } from './quota';
import { ProxyRecorder } from './record';
import { checkDeleteList, formatCopySource } from './request-target';
import type { Route } from './route';
import { ClientGoneError, readBody, readVerifiedBody, verifiedBody } from './verified-body';

/** Request headers forwarded upstream as they are, besides `x-amz-*` ones. */
const FORWARDED_HEADERS = new Set([
  'cache-control',
  'content-disposition',
  'content-language',
  'content-md5',
  'content-type',
  'expires',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-unmodified-since',
  'range',
]);
/** `x-amz-*` headers that belong to the client's signature or framing, never the upstream's. */
const DROPPED_AMZ_HEADERS = new Set([
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-decoded-content-length',
  'x-amz-expected-bucket-owner',
  'x-amz-security-token',
  'x-amz-trailer',
]);
/** Upstream response headers that are the proxy's own business. */
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'x-amz-request-id']);
/**
 * Verified bodies up to this size are read whole before they go upstream: headers and body then
 * leave in one write (the upstream answers sooner), and a forged body never leaves at all.
 * Larger ones stream, one chunk held back until the verifier has passed the rest.
 */
const SMALL_BODY_BYTES = 64 * 1024;
/** A DeleteObjects body is read whole and its keys checked: 1,000 keys of up to 1 KiB, with room. */
const DELETE_BODY_BYTES = 2 * 1024 * 1024;
const HARMLESS_ACLS = new Set(['private', 'bucket-owner-full-control']);
const PRESIGNED_PARAM = /^X-Amz-/;

/**
 * The forward stage: re-signs the request for the upstream, streams the body through (verified
 * chunk by chunk when the client signed it), and relays the upstream's answer. It resolves to a
 * refusal when the proxy must answer instead, to undefined when the answer is under way or
 * nobody is left to answer.
 */
@Injectable()
export class ProxyForwarder {
  constructor(
    private readonly upstream: UpstreamClient,
    private readonly metrics: ProxyMetrics,
    private readonly quota: ProxyQuota,
    private readonly recorder: ProxyRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async forward(
    x: Exchange,
    { target, params }: Route,
    { spec, verified, copySource, keyPrefix, owner }: ForwardDecision,
  ): Promise<Refusal | undefined> {
    const { req, res } = x;
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {};
    const trailerChecksum =
      verified?.payload === 'streaming-unsigned-trailer' || verified?.payload === 'streaming-signed-trailer';
    for (const name in req.headers) {
      const value = req.headers[name];
      if (typeof value !== 'string') continue;
      if (name.startsWith('x-amz-')) {
        if (DROPPED_AMZ_HEADERS.has(name)) continue;
        if (trailerChecksum && name === 'x-amz-sdk-checksum-algorithm') continue;
        if (!owner && ((name === 'x-amz-acl' && !HARMLESS_ACLS.has(value)) || name.startsWith('x-amz-grant-'))) {
          return new S3ProxyError('AccessDenied', 'Object ACLs are managed through Stowage.', 'operation_refused');
        }
        // The copy source goes upstream only as the one that was checked, encoded afresh.
        if (name === 'x-amz-copy-source') {
          if (copySource) headers[name] = formatCopySource(copySource);
          continue;
        }
        headers[name] = value;
      } else if (FORWARDED_HEADERS.has(name)) {
        headers[name] = value;
      } else if (name === 'content-encoding') {
        const kept = value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '' && v.toLowerCase() !== 'aws-chunked');
        if (kept.length > 0) headers[name] = kept.join(', ');
      }
    }

    const upstreamParams = verified?.mode === 'presigned' ? params.filter((p) => !PRESIGNED_PARAM.test(p.key)) : params;
    let payloadHash = EMPTY_SHA256;
    let body: Readable | Buffer | undefined;
    let bodyError: Refusal | undefined;
    let quotaStep: ProxyQuotaStep = { committed: () => undefined, failed: () => undefined };
    if (method === 'PUT' || method === 'POST') {
      const payload = verified?.payload ?? 'unsigned';
      x.payload = payload;
      let length: number | undefined;
      if (payload === 'signed' || payload === 'unsigned') {
        const declared = req.headers['content-length'];
        length = declared === undefined ? undefined : Number(declared);
      } else {
        length = verified?.decodedContentLength;
      }
      if (length === undefined || !Number.isSafeInteger(length) || length < 0) {
        return new S3ProxyError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
      }
      headers['content-length'] = String(length);
      x.bytesIn = length;
      payloadHash = payload === 'signed' ? (verified?.payloadHash as string) : UNSIGNED_PAYLOAD;
      if (x.operation === 'DeleteObjects' && length > DELETE_BODY_BYTES) {
        return new S3ProxyError('InvalidRequest', 'The DeleteObjects request body is too large.', 'invalid_request');
      }
      // The hard quota is checked before a byte of the body moves (and before 100 Continue).
      if (x.access === 'write') {
        const held = await this.quota.write(x, target, params, length, copySource);
        if (held instanceof Error) return held;
        quotaStep = held;
      }
      if (x.expectContinue) res.writeContinue();
      try {
        if (x.operation === 'DeleteObjects') {
          // The keys of the body are targets too: checked, and exactly the bytes checked go on.
          body = await readBody(req, verified, length, DELETE_BODY_BYTES);
          const entries = checkDeleteList(body, keyPrefix);
          // The sizes of what it deletes are read before it goes (buckets with a quota only).
          quotaStep = await this.quota.removeList(x, target, entries);
        } else if (length > 0 || payload !== 'signed') {
          if (payload === 'unsigned' || !verified) {
            body = req;
          } else if (length <= SMALL_BODY_BYTES) {
            body = await readVerifiedBody(req, verified, length, SMALL_BODY_BYTES);
          } else {
            body = verifiedBody(req, verified, length, (err) => {
              bodyError = err as Refusal;
            });
          }
        }
      } catch (err) {
        quotaStep.failed();
        if (err instanceof ClientGoneError) return undefined; // nobody is left to answer
        return err as Refusal;
      }
    } else if (x.access === 'delete') {
      quotaStep = await this.quota.remove(x, target, params);
    }

    // A write's audit row is INSERTed while the upstream works, not after it has answered.
    this.recorder.intended(x);
    const upstreamStarted = performance.now();
    let response: Dispatcher.ResponseData;
    try {
      response = await this.upstream.send(spec, {
        method,
        bucket: target.bucket,
        key: target.key,
        params: upstreamParams,
        headers,
        payloadHash,
        body,
      });
    } catch (err) {
      quotaStep.failed();
      if (bodyError !== undefined) return bodyError;
      // The client went away first (its body stream failed): nobody is left to answer.
      if (res.destroyed || req.destroyed) return undefined;
      this.logger.warn(
        { reqId: x.requestId, backend: spec.id, err: (err as Error).message },
        'S3 proxy upstream failed',
      );
      return new S3ProxyError(
        'ServiceUnavailable',
        'The upstream storage did not answer. Please try again.',
        'upstream_unavailable',
        { retryAfterSeconds: 1 },
      );
    }
    this.metrics.upstreamAnswered(x.operation, (performance.now() - upstreamStarted) / 1000);
    if (bodyError !== undefined) {
      quotaStep.failed();
      response.body.on('error', () => undefined).destroy();
      return bodyError;
    }
    let answer: Relayed = response;
    if (response.statusCode < 300) {
      const etag = typeof response.headers.etag === 'string' ? response.headers.etag : undefined;
      if (quotaStep.readsBody) {
        // A small XML result (at most 1,000 entries): read whole, then relayed from memory.
        const read = await readAnswerBody(response.body);
        // An answer that could not be read whole is cut off for the client too (relay ends it).
        answer = { ...response, body: read ? Readable.from([read]) : failedBody() };
        quotaStep.committed({ etag, body: read?.toString('utf8') });
      } else {
        quotaStep.committed({ etag });
      }
    } else quotaStep.failed();
    // A write's audit row is committed before its success goes out (usually it already is).
    const commit = this.recorder.committed(x, response.statusCode);
    const unaudited = commit && (await commit);
    if (unaudited) {
      answer.body.on('error', () => undefined).destroy();
      return unaudited;
    }
    if (response.statusCode >= 400 && method !== 'HEAD' && rewritableError(response)) {
      answer = await withOurRequestId(x, answer);
    }
    relay(x, answer);
    return undefined;
  }
}

/** An upstream answer as relayed: its body as received, or read whole and replayed. */
type Relayed = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers'> & { body: Readable };

/** A DeleteObjects answer carries at most 1,000 entries; past this it is not read for accounting. */
const ANSWER_BODY_BYTES = 4 * 1024 * 1024;

/** The whole body of an upstream answer, or undefined when it fails or runs past ANSWER_BODY_BYTES (then nothing more is relayed). */
async function readAnswerBody(body: Readable): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > ANSWER_BODY_BYTES) {
        body.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks);
}

/** Upstream error documents up to this size (declared) get our request id; larger ones, or ones of unknown length, stream as they are. */
const ERROR_BODY_BYTES = 64 * 1024;

function rewritableError(response: Relayed): boolean {
  const length = Number(response.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 && length <= ERROR_BODY_BYTES;
}

/**
 * An upstream error names the upstream's request id in its body; the client gets ours in the
 * header (the upstream's goes in `x-stowage-upstream-request-id`), so the body is made to agree.
 */
async function withOurRequestId(x: Exchange, response: Relayed): Promise<Relayed> {
  const read = await readAnswerBody(response.body);
  if (!read) return { ...response, body: failedBody() };
  const body = Buffer.from(withRequestId(read.toString('utf8'), x.requestId));
  return {
    ...response,
    headers: { ...response.headers, 'content-length': String(body.length) },
    body: Readable.from([body]),
  };
}

function failedBody(): Readable {
  return new Readable({
    read() {
      this.destroy(new Error('the upstream answer could not be read'));
    },
  });
}

/** The upstream's answer to the client: status and headers (with ours), then the body, piped. */
function relay(x: Exchange, response: Relayed): void {
  const { res } = x;
  const upstreamBody = response.body;
  // Destroying the body (client gone) makes undici emit an abort error: expected, not a crash.
  upstreamBody.on('error', () => res.destroy());
  if (res.destroyed) {
    upstreamBody.destroy();
    return;
  }
  const headers: Record<string, string | string[]> = { 'x-amz-request-id': x.requestId };
  for (const name in response.headers) {
    if (DROPPED_RESPONSE_HEADERS.has(name) || name.startsWith('access-control-')) continue;
    const value = response.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const upstreamId = response.headers['x-amz-request-id'];
  if (upstreamId !== undefined) headers['x-stowage-upstream-request-id'] = upstreamId;
  if (x.cors) Object.assign(headers, x.cors);
  const length = response.headers['content-length'];
  const head = x.req.method === 'HEAD';
  if (typeof length === 'string' && !head) x.bytesOut = Number(length);
  if (response.statusCode >= 400) x.result = 'error';
  res.writeHead(response.statusCode, headers);
  if (head || length === '0') {
    // Nothing to relay: the answer ends with its headers (piping an empty stream costs several
    // turns of the event loop), and the empty upstream body is drained to free its connection.
    upstreamBody.resume();
    res.end();
    return;
  }
  // pipe() keeps backpressure; a failure on either side ends the other.
  res.once('close', () => {
    if (!upstreamBody.readableEnded) upstreamBody.destroy();
  });
  upstreamBody.pipe(res);
}
