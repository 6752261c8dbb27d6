import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { buildConnector, Dispatcher, Pool } from 'undici';
import {
  ALGORITHM,
  buildCanonicalRequest,
  buildStringToSign,
  formatAmzDate,
  presignQuery,
  QueryParam,
  SCOPE_TERMINATOR,
  SigningKeyCache,
  signString,
  uriEncode,
} from '@stowage/sigv4';
import type { BackendSpec } from '../backend-spec';
import { EndpointPolicy } from '../endpoint-policy.service';

export interface UpstreamRequest {
  method: string;
  bucket: string;
  key: string;
  /** Query parameters to send, canonically encoded (the client's, without any signature). */
  params: readonly QueryParam[];
  /** Lower-case names; `host`, `x-amz-date`, `x-amz-content-sha256` and `authorization` are set here. */
  headers: Record<string, string>;
  /** A hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
  /** A stream, or a whole body already in memory (which can be sent again). */
  body?: Readable | Buffer;
  /** Aborts the request, and the response body once it streams, when the caller goes away. */
  signal?: AbortSignal;
  /** Longest wait for the headers, and for each further piece of the body (default 300 s). */
  idleTimeoutMs?: number;
}

/** What the client needs of a backend: where it is and the keys it signs with. */
export type UpstreamTarget = Pick<BackendSpec, 'endpoint' | 'pathStyle' | 'region' | 'accessKey' | 'secretKey'>;

interface Endpoint {
  origin: string;
  host: string;
  basePath: string;
}

/** How much of a body may wait in a buffer on either side of the proxy before reading pauses. */
export const STREAM_BUFFER_BYTES = 1024 * 1024;
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const CONNECT_TIMEOUT_MS = 10_000;
// Completing a large multipart upload can keep an upstream quiet for minutes.
const HEADERS_TIMEOUT_MS = 300_000;
const BODY_TIMEOUT_MS = 300_000;

/**
 * Sends requests to upstreams over pooled keep-alive connections, signed with the backend's own
 * keys: the S3 proxy's forwarded requests (the client's signature never travels further than the
 * proxy) and every object operation of the S3 driver; it also presigns the driver's URLs.
 */
@Injectable()
export class UpstreamClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();
  private readonly signingKeys = new SigningKeyCache(1_000);
  private readonly endpoints = new WeakMap<UpstreamTarget, Endpoint>();

  constructor(private readonly policy: EndpointPolicy) {}

  async send(spec: UpstreamTarget, request: UpstreamRequest): Promise<Dispatcher.ResponseData> {
    const { endpoint, host, path } = this.locate(spec, request.bucket, request.key);
    let query = '';
    for (const param of request.params) query += `${query === '' ? '?' : '&'}${param.key}=${param.value}`;

    const headers = request.headers;
    headers.host = host;
    headers['x-amz-date'] = formatAmzDate(Date.now());
    headers['x-amz-content-sha256'] = request.payloadHash;
    const signed: string[] = [];
    for (const name in headers) if (name === 'host' || name.startsWith('x-amz-')) signed.push(name);
    signed.sort();
    const region = spec.region || 'us-east-1';
    const date = headers['x-amz-date'].slice(0, 8);
    const scope = `${date}/${region}/s3/${SCOPE_TERMINATOR}`;
    const canonical = buildCanonicalRequest({
      method: request.method,
      path,
      query: request.params,
      headers,
      signedHeaders: signed,
      payloadHash: request.payloadHash,
    });
    const signingKey = this.signingKeys.get(spec.accessKey, spec.secretKey, date, region, 's3');
    const signature = signString(signingKey, buildStringToSign(headers['x-amz-date'], scope, canonical));
    headers.authorization = `${ALGORITHM} Credential=${spec.accessKey}/${scope}, SignedHeaders=${signed.join(
      ';',
    )}, Signature=${signature}`;

    const options: Dispatcher.RequestOptions = {
      method: request.method as Dispatcher.HttpMethod,
      path: path + query,
      headers,
      body: request.body ?? null,
      headersTimeout: request.idleTimeoutMs ?? HEADERS_TIMEOUT_MS,
      bodyTimeout: request.idleTimeoutMs ?? BODY_TIMEOUT_MS,
      signal: request.signal,
      highWaterMark: STREAM_BUFFER_BYTES,
      // undici closes the connection after every HEAD unless told otherwise; S3 servers answer
      // HEAD by the book, and reconnecting for each one costs more than the request itself.
      reset: false,
    };
    const pool = this.pool(endpoint.origin);
    try {
      return await pool.request(options);
    } catch (err) {
      // A pooled connection the upstream closed while idle fails the next request on it; a
      // request without a body, or with one in memory, can safely go again on a fresh one.
      if (
        (request.body && !Buffer.isBuffer(request.body)) ||
        !STALE_CONNECTION.has((err as { code?: string }).code ?? '')
      ) {
        throw err;
      }
      return pool.request(options);
    }
  }

  /**
   * A presigned URL for `method` on the object, good for `expiresSeconds`; `headers` (lower-case
   * names, a content type say) are signed, so whoever uses the URL must send them as they are.
   * Nothing is sent: the URL is signed here with the backend's keys.
   */
  presign(
    spec: UpstreamTarget,
    request: { method: string; bucket: string; key: string; expiresSeconds: number; headers?: Record<string, string> },
  ): string {
    const { endpoint, host, path } = this.locate(spec, request.bucket, request.key);
    const now = Date.now();
    const region = spec.region || 'us-east-1';
    const date = formatAmzDate(now).slice(0, 8);
    const query = presignQuery({
      method: request.method,
      path,
      headers: { ...request.headers, host },
      accessKeyId: spec.accessKey,
      signingKey: this.signingKeys.get(spec.accessKey, spec.secretKey, date, region, 's3'),
      region,
      service: 's3',
      now,
      expiresSeconds: request.expiresSeconds,
    });
    const origin = spec.pathStyle ? endpoint.origin : `${endpoint.origin.split('//')[0]}//${host}`;
    return `${origin}${path}?${query}`;
  }

  /** The host and the path (URI-encoded, as sent and signed) of an object, or of a bucket for key ''. */
  private locate(
    spec: UpstreamTarget,
    bucket: string,
    key: string,
  ): { endpoint: Endpoint; host: string; path: string } {
    const endpoint = this.endpointOf(spec);
    const encodedKey = uriEncode(key, true);
    if (spec.pathStyle) {
      return {
        endpoint,
        host: endpoint.host,
        path: `${endpoint.basePath}/${uriEncode(bucket)}${key === '' ? '' : `/${encodedKey}`}`,
      };
    }
    return { endpoint, host: `${bucket}.${endpoint.host}`, path: `${endpoint.basePath}/${encodedKey}` };
  }

  private endpointOf(spec: UpstreamTarget): Endpoint {
    let endpoint = this.endpoints.get(spec);
    if (!endpoint) {
      const url = new URL(spec.endpoint);
      endpoint = { origin: url.origin, host: url.host, basePath: url.pathname.replace(/\/+$/, '') };
      this.endpoints.set(spec, endpoint);
    }
    return endpoint;
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: CONNECT_TIMEOUT_MS,
        // undici hands these to net.connect: an upload then streams into the upstream without
        // pausing for a drain every 64 KiB, undici's default (the types list only TLS and TCP
        // address options, but node's socket takes every stream option). Each new connection's
        // addresses pass the backend endpoint policy, as the dashboard's own connections do.
        connect: { highWaterMark: STREAM_BUFFER_BYTES, lookup: this.policy.lookup } as buildConnector.BuildOptions,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}
