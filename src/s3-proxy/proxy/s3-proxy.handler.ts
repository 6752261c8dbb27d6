import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import proxyAddr from 'proxy-addr';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { errorXml, listBucketsXml } from '@stowage/s3-xml';
import {
  CheckedRequest,
  checkRequest,
  EMPTY_SHA256,
  isSigV4Error,
  parseQuery,
  QueryParam,
  SigningKeyCache,
  UNSIGNED_PAYLOAD,
  VerifiedRequest,
} from '@stowage/sigv4';
import { LOGGER } from '../../logging/logging.module';
import type { BackendSpec } from '../../storage-backends/backend-spec';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import type { BucketScope, S3AccessDirectory, VirtualCredential } from '../access/access.types';
import { corsHeaders, matchCorsRule, requestedHeaders } from './cors';
import { ClientGoneError, readBody, readVerifiedBody, verifiedBody } from './verified-body';
import { ANONYMOUS_OPERATIONS, Access, Classified, classifyOperation, S3Operation } from './operations';
import { ProxyAuditRecorder } from './proxy-audit.recorder';
import { authFailureReason, describeError, RefusalReason, S3ProxyError } from './proxy-error';
import { ProxyMetrics } from './proxy-metrics';
import {
  checkDeleteList,
  checkQuery,
  CopySource,
  formatCopySource,
  parseCopySource,
  parseTarget,
  RequestTarget,
} from './request-target';
import { RpsLimiter } from './rps-limiter';
import { SigningRegions } from './signing-regions';
import { UpstreamClient } from './upstream-client';

export const S3_ACCESS_DIRECTORY = Symbol('S3_ACCESS_DIRECTORY');

/** A request whose signature and credential passed. */
interface Authenticated {
  readonly verified: VerifiedRequest;
  readonly virtual: VirtualCredential;
}

type AuthMode = 'sigv4' | 'presigned' | 'anonymous' | 'none';
type Result = 'ok' | 'error' | 'denied' | 'aborted';

/** One request's state while it passes through the proxy. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly started: number;
  readonly ip: string;
  readonly expectContinue: boolean;
  operation: S3Operation;
  access: Access;
  authMode: AuthMode;
  result: Result;
  reason?: RefusalReason;
  accessKey?: string;
  userId?: string | null;
  backendId?: string;
  bucket?: string;
  key?: string;
  resource?: string;
  cors?: Record<string, string>;
  bytesIn?: number;
  bytesOut?: number;
  /** How the client framed and signed the body (`x-amz-content-sha256`). */
  payload?: string;
}

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
const NO_QUERY: ReadonlySet<string> = new Set();
const HARMLESS_ACLS = new Set(['private', 'bucket-owner-full-control']);
const PRESIGNED_PARAM = /^X-Amz-/;
const SIGV2_REFUSED = 'Signature version 2 is not supported by this endpoint. Please use AWS4-HMAC-SHA256 (SigV4).';

/**
 * The S3 proxy's request pipeline: route, authenticate (SigV4 or an anonymous binding), check
 * the bucket scope and rate limits, re-sign for the upstream and stream both bodies through.
 * Every answer the proxy gives itself is an S3-shaped XML document.
 */
@Injectable()
export class S3ProxyHandler {
  private readonly signingKeys = new SigningKeyCache(10_000);
  private readonly requestIdPrefix = randomBytes(4).toString('hex').toUpperCase();
  private requestCounter = 0;
  /** The ListBuckets answer of a credential; the directory hands out a new object on any change. */
  private readonly listBucketsBodies = new WeakMap<VirtualCredential, string>();
  private readonly trust: ((addr: string, i: number) => boolean) | undefined;
  private readonly regions: SigningRegions;

  constructor(
    private readonly config: StowageConfig,
    @Inject(S3_ACCESS_DIRECTORY) private readonly directory: S3AccessDirectory,
    private readonly registry: BackendRegistry,
    private readonly upstream: UpstreamClient,
    private readonly limiter: RpsLimiter,
    private readonly metrics: ProxyMetrics,
    private readonly audit: ProxyAuditRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const trusted = config.server.trusted_proxies;
    this.trust = trusted.length > 0 ? proxyAddr.compile(trusted) : undefined;
    this.regions = new SigningRegions(config.s3_proxy.regions, () => registry.list().map((entry) => entry.spec.region));
  }

  handle(req: IncomingMessage, res: ServerResponse, expectContinue = false): void {
    const exchange: Exchange = {
      req,
      res,
      requestId: this.nextRequestId(),
      started: performance.now(),
      ip: this.trust ? proxyAddr(req, this.trust) : (req.socket.remoteAddress ?? ''),
      expectContinue,
      operation: 'Unknown',
      access: 'read',
      authMode: 'none',
      result: 'ok',
      // Every field up front: one object shape for all requests keeps property access fast.
      reason: undefined,
      accessKey: undefined,
      userId: undefined,
      backendId: undefined,
      bucket: undefined,
      key: undefined,
      resource: undefined,
      cors: undefined,
      bytesIn: undefined,
      bytesOut: undefined,
      payload: undefined,
    };
    this.metrics.inflight++;
    // 'close' comes once per response; `on` spares the wrapper `once` builds for every request.
    res.on('close', () => this.finish(exchange));
    // Requests answered from memory (refusals, ListBuckets) complete synchronously: no promise.
    try {
      const pending = this.process(exchange);
      if (pending) pending.catch((err: unknown) => this.fail(exchange, err));
    } catch (err) {
      this.fail(exchange, err);
    }
  }

  private nextRequestId(): string {
    this.requestCounter = (this.requestCounter + 1) >>> 0;
    return this.requestIdPrefix + this.requestCounter.toString(16).toUpperCase().padStart(8, '0');
  }

  private process(x: Exchange): void | Promise<void> {
    const { req } = x;
    const target = parseTarget(req.url ?? '', req.headers.host, this.config.s3_proxy.host_suffixes);
    if (!target) throw new S3ProxyError('InvalidURI', "Couldn't parse the specified URI.", 'invalid_request');
    x.bucket = target.bucket || undefined;
    x.key = target.key || undefined;
    x.resource = target.rawPath;
    const params = parseQuery(target.rawQuery);
    let names: ReadonlySet<string> = NO_QUERY;
    if (params.length > 0) {
      checkQuery(params);
      names = new Set(params.map((param) => param.key));
    }
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return this.preflight(x, target);

    const classified = classifyOperation(
      method,
      target.bucket,
      target.key,
      names,
      req.headers['x-amz-copy-source'] !== undefined,
    );
    x.operation = classified.operation;
    x.access = classified.access;
    if (classified.disposition === 'invalid') {
      throw new S3ProxyError(
        'InvalidRequest',
        'The request is not an S3 operation this endpoint serves.',
        'invalid_request',
      );
    }
    const signed =
      req.headers.authorization !== undefined ||
      names.has('X-Amz-Signature') ||
      names.has('X-Amz-Credential') ||
      names.has('X-Amz-Algorithm');
    if (signed) return this.authenticated(x, target, params, classified);
    if (names.has('AWSAccessKeyId') || names.has('Signature')) {
      // A presigned URL of signature version 2 (aws CLI v1's `s3 presign`): not anonymous.
      throw new S3ProxyError('InvalidRequest', SIGV2_REFUSED, 'bad_authorization_format');
    }
    return this.anonymous(x, target, params, classified);
  }

  // ---- authenticated requests ----

  private authenticated(
    x: Exchange,
    target: RequestTarget,
    params: QueryParam[],
    classified: Classified,
  ): void | Promise<void> {
    x.authMode = x.req.headers.authorization !== undefined ? 'sigv4' : 'presigned';
    const checked = this.verify(x, target);
    if (checked instanceof Promise) return checked.then((c) => this.authorise(x, target, params, classified, c));
    return this.authorise(x, target, params, classified, checked);
  }

  private authorise(
    x: Exchange,
    target: RequestTarget,
    params: QueryParam[],
    classified: Classified,
    checked: Authenticated | Error,
  ): void | Promise<void> {
    if (checked instanceof Error) return this.fail(x, checked);
    if (classified.disposition === 'refuse') return this.fail(x, refusalOf(classified, target, checked.virtual));
    const limited = this.limit(checked.virtual);
    if (limited) return limited.then(() => this.serve(x, target, params, classified, checked));
    return this.serve(x, target, params, classified, checked);
  }

  private serve(
    x: Exchange,
    target: RequestTarget,
    params: QueryParam[],
    classified: Classified,
    { verified, virtual }: Authenticated,
  ): void | Promise<void> {
    if (classified.disposition === 'synthesise') return this.listBuckets(x, virtual);
    const scope = scopeFor(virtual, target.bucket);
    if (!scope) {
      this.metrics.scopeViolations.inc();
      return this.fail(
        x,
        new S3ProxyError('AccessDenied', 'The credential is not authorised for this bucket.', 'scope_violation', {
          extra: { BucketName: target.bucket },
        }),
      );
    }
    return this.serveInScope(x, target, params, verified, virtual, scope);
  }

  private async serveInScope(
    x: Exchange,
    target: RequestTarget,
    params: QueryParam[],
    verified: VerifiedRequest,
    virtual: VirtualCredential,
    scope: BucketScope,
  ): Promise<void> {
    x.backendId = scope.backendId;
    await this.applyCors(x, scope.backendId, target.bucket);
    const source = this.copySourceOf(x, virtual, scope);
    await this.forward(x, this.specOf(scope.backendId), target, params, verified, source);
  }

  /** The copy source of a copy request, which must be in scope and on the same backend. */
  private copySourceOf(x: Exchange, credential: VirtualCredential, scope: BucketScope): CopySource | undefined {
    const header = x.req.headers['x-amz-copy-source'];
    if (typeof header !== 'string') return undefined;
    const source = parseCopySource(header);
    if (!source) {
      throw new S3ProxyError('InvalidRequest', 'The x-amz-copy-source header is malformed.', 'invalid_request');
    }
    const sourceScope = scopeFor(credential, source.bucket);
    if (!sourceScope) {
      this.metrics.scopeViolations.inc();
      throw new S3ProxyError(
        'AccessDenied',
        'The credential is not authorised for the copy source bucket.',
        'scope_violation',
        {
          extra: { BucketName: source.bucket },
        },
      );
    }
    if (sourceScope.backendId !== scope.backendId) {
      throw new S3ProxyError(
        'NotImplemented',
        'A server-side copy between buckets on different backends is not possible; download and upload instead.',
        'invalid_request',
      );
    }
    return source;
  }

  /**
   * Checks the signature and the credential behind it. A refusal comes back as the error to
   * answer with rather than thrown; with the credential cached, the answer is synchronous.
   */
  private verify(x: Exchange, target: RequestTarget): Authenticated | Error | Promise<Authenticated | Error> {
    let found: VirtualCredential | undefined;
    let checked: CheckedRequest | Promise<CheckedRequest>;
    try {
      checked = checkRequest(
        {
          method: x.req.method ?? 'GET',
          path: target.rawPath,
          query: target.rawQuery,
          headers: headersOf(x.req),
          lookupSecret: (accessKey) => {
            x.accessKey = accessKey;
            const answer = this.directory.credential(accessKey);
            // The credential itself holds the secret: its signing key is remembered on it.
            if (!(answer instanceof Promise)) {
              found = answer;
              return answer;
            }
            return answer.then((credential) => {
              found = credential;
              return credential;
            });
          },
        },
        { service: 's3', signingKeyCache: this.signingKeys, region: this.regions.check },
      );
    } catch (err) {
      return this.lookupFailed(x, err);
    }
    if (checked instanceof Promise) {
      return checked.then(
        (c) => this.admit(x, c, found),
        (err: unknown) => this.lookupFailed(x, err),
      );
    }
    return this.admit(x, checked, found);
  }

  /** The verdict on a checked request: a refusal, or the request with its credential. */
  private admit(x: Exchange, checked: CheckedRequest, found: VirtualCredential | undefined): Authenticated | Error {
    if (isSigV4Error(checked)) {
      this.refuseAuth(x, authFailureReason(checked.code));
      return checked;
    }
    const virtual = found as VirtualCredential;
    x.userId = virtual.userId;
    if (!virtual.enabled) {
      this.refuseAuth(x, 'disabled');
      return new S3ProxyError('AccessDenied', 'The credential is disabled.', 'disabled');
    }
    if (virtual.expiresAt !== null && virtual.expiresAt.getTime() <= Date.now()) {
      this.refuseAuth(x, 'expired');
      return new S3ProxyError('AccessDenied', 'The credential has expired.', 'expired');
    }
    this.directory.touch(virtual.accessKey);
    return { verified: checked, virtual };
  }

  /** The credential directory could not answer (PostgreSQL down, or too many lookups at once). */
  private lookupFailed(x: Exchange, err: unknown): Error {
    if (err instanceof StowageError) return err;
    this.logger.warn({ reqId: x.requestId, err: (err as Error).message }, 'S3 credential lookup failed');
    return new S3ProxyError(
      'ServiceUnavailable',
      'Credentials cannot be checked right now. Please try again.',
      undefined,
      {
        retryAfterSeconds: 1,
      },
    );
  }

  private refuseAuth(x: Exchange, reason: RefusalReason): void {
    x.reason = reason;
    this.metrics.authFailure(reason);
  }

  /** Waits for the per-key and global rate limits; nothing to wait for when neither is set. */
  private limit(credential: VirtualCredential): Promise<void> | undefined {
    const { per_key_rps: perKeyRps, global_rps: globalRps } = this.config.s3_proxy;
    if (perKeyRps <= 0 && globalRps <= 0) return undefined;
    return this.acquireRates(credential, perKeyRps, globalRps);
  }

  private async acquireRates(credential: VirtualCredential, perKeyRps: number, globalRps: number): Promise<void> {
    const [perKey, global] = await Promise.all([
      this.limiter.acquire(`key:${credential.accessKey}`, perKeyRps),
      this.limiter.acquire('global', globalRps),
    ]);
    const wait = Math.max(perKey, global);
    if (wait > 0) {
      throw new S3ProxyError('SlowDown', 'Please reduce your request rate.', 'rate_limited', {
        retryAfterSeconds: wait,
      });
    }
  }

  private listBuckets(x: Exchange, credential: VirtualCredential): void {
    let body = this.listBucketsBodies.get(credential);
    if (body === undefined) {
      body = listBucketsBody(credential);
      this.listBucketsBodies.set(credential, body);
    }
    this.reply(x, 200, body);
  }

  // ---- anonymous requests ----

  private async anonymous(
    x: Exchange,
    target: RequestTarget,
    params: QueryParam[],
    classified: Classified,
  ): Promise<void> {
    x.authMode = 'anonymous';
    if (!this.config.s3_proxy.anonymous_enabled) {
      this.rejectAnonymous(x, 'disabled_globally', 'Anonymous access is turned off.');
    }
    const binding = target.bucket === '' ? undefined : await this.directory.anonymousBinding(target.bucket);
    if (!binding) this.rejectAnonymous(x, 'no_binding', 'Access Denied');
    x.backendId = binding.backendId;
    await this.applyCors(x, binding.backendId, binding.bucket);
    if (!ANONYMOUS_OPERATIONS.has(classified.operation) || classified.disposition !== 'forward') {
      this.rejectAnonymous(x, 'operation_not_allowed', 'Anonymous access allows only reading objects and listing.');
    }
    const wait = await this.limiter.acquire(
      `anon:${binding.backendId}/${binding.bucket}:${x.ip}`,
      binding.perSourceIpRps || this.config.s3_proxy.anonymous_rps,
    );
    if (wait > 0) {
      this.metrics.anonymousRejects.inc({ reason: 'rate_limited' });
      throw new S3ProxyError('SlowDown', 'Please reduce your request rate.', 'rate_limited', {
        retryAfterSeconds: wait,
      });
    }
    await this.forward(x, this.specOf(binding.backendId), target, params, undefined);
  }

  private rejectAnonymous(x: Exchange, reason: RefusalReason, message: string): never {
    this.metrics.anonymousRejects.inc({ reason });
    throw new S3ProxyError('AccessDenied', message, reason);
  }

  // ---- CORS ----

  private async preflight(x: Exchange, target: RequestTarget): Promise<void> {
    x.operation = 'Unknown';
    const origin = x.req.headers.origin;
    const method = x.req.headers['access-control-request-method'];
    if (!origin || typeof method !== 'string' || target.bucket === '') {
      throw new S3ProxyError('InvalidRequest', 'Insufficient information. Origin request header needed.');
    }
    const request = {
      origin,
      method: method.toUpperCase(),
      headers: requestedHeaders(x.req.headers['access-control-request-headers']),
    };
    for (const entry of this.registry.list()) {
      const rules = await this.directory.bucketCors(entry.spec.id, target.bucket);
      if (!rules?.length) continue;
      const rule = matchCorsRule(rules, request);
      if (!rule) break;
      x.res.writeHead(200, {
        ...corsHeaders(rule, request, true),
        'content-length': '0',
        'x-amz-request-id': x.requestId,
      });
      x.res.end();
      return;
    }
    throw new S3ProxyError('AccessDenied', 'CORSResponse: This CORS request is not allowed.');
  }

  private async applyCors(x: Exchange, backendId: string, bucket: string): Promise<void> {
    const origin = x.req.headers.origin;
    if (!origin) return;
    const rules = await this.directory.bucketCors(backendId, bucket);
    if (!rules?.length) return;
    const request = { origin, method: x.req.method ?? 'GET' };
    const rule = matchCorsRule(rules, request);
    if (rule) x.cors = corsHeaders(rule, request, false);
  }

  // ---- forwarding ----

  private specOf(backendId: string): BackendSpec {
    const entry = this.registry.entry(backendId);
    if (!entry) {
      throw new S3ProxyError(
        'ServiceUnavailable',
        'The storage behind this bucket is not available.',
        'upstream_unavailable',
      );
    }
    return entry.spec;
  }

  private async forward(
    x: Exchange,
    spec: BackendSpec,
    target: RequestTarget,
    params: QueryParam[],
    verified: VerifiedRequest | undefined,
    copySource?: CopySource,
  ): Promise<void> {
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
        if ((name === 'x-amz-acl' && !HARMLESS_ACLS.has(value)) || name.startsWith('x-amz-grant-')) {
          throw new S3ProxyError('AccessDenied', 'Object ACLs are managed through Stowage.', 'operation_refused');
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
    let bodyError: unknown;
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
        throw new S3ProxyError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
      }
      headers['content-length'] = String(length);
      x.bytesIn = length;
      payloadHash = payload === 'signed' ? (verified?.payloadHash as string) : UNSIGNED_PAYLOAD;
      if (x.operation === 'DeleteObjects' && length > DELETE_BODY_BYTES) {
        throw new S3ProxyError('InvalidRequest', 'The DeleteObjects request body is too large.', 'invalid_request');
      }
      if (x.expectContinue) res.writeContinue();
      if (x.operation === 'DeleteObjects') {
        // The keys of the body are targets too: checked, and exactly the bytes checked go on.
        try {
          body = await readBody(req, verified, length, DELETE_BODY_BYTES);
        } catch (err) {
          if (err instanceof ClientGoneError) return;
          throw err;
        }
        checkDeleteList(body);
      } else if (length > 0 || payload !== 'signed') {
        if (payload === 'unsigned' || !verified) {
          body = req;
        } else if (length <= SMALL_BODY_BYTES) {
          try {
            body = await readVerifiedBody(req, verified, length, SMALL_BODY_BYTES);
          } catch (err) {
            if (err instanceof ClientGoneError) return; // nobody is left to answer
            throw err;
          }
        } else {
          body = verifiedBody(req, verified, length, (err) => {
            bodyError = err;
          });
        }
      }
    }

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
      if (bodyError !== undefined) throw bodyError;
      // The client went away first (its body stream failed): nobody is left to answer.
      if (res.destroyed || req.destroyed) return;
      this.logger.warn(
        { reqId: x.requestId, backend: spec.id, err: (err as Error).message },
        'S3 proxy upstream failed',
      );
      throw new S3ProxyError(
        'ServiceUnavailable',
        'The upstream storage did not answer. Please try again.',
        'upstream_unavailable',
        { retryAfterSeconds: 1 },
      );
    }
    this.metrics.upstreamAnswered(x.operation, (performance.now() - upstreamStarted) / 1000);
    if (bodyError !== undefined) {
      response.body.on('error', () => undefined).destroy();
      throw bodyError;
    }
    this.relay(x, response);
  }

  private relay(x: Exchange, response: Dispatcher.ResponseData): void {
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

  // ---- answers ----

  private reply(x: Exchange, status: number, body: string, extraHeaders?: Record<string, string>): void {
    // writeHead with every header at once (nothing set before) is node:http's fast path.
    const headers: Record<string, string> = {
      'content-type': 'application/xml',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-request-id': x.requestId,
    };
    if (x.cors) Object.assign(headers, x.cors);
    if (extraHeaders) Object.assign(headers, extraHeaders);
    x.res.writeHead(status, headers);
    x.res.end(x.req.method === 'HEAD' ? undefined : body);
  }

  private fail(x: Exchange, err: unknown): void {
    const { req, res } = x;
    const described = describeError(err);
    if (described.code === 'InternalError') {
      this.logger.error({ reqId: x.requestId, err }, 'S3 proxy request failed');
    }
    x.result = described.status === 403 || described.status === 429 ? 'denied' : 'error';
    if (err instanceof S3ProxyError && err.reason) x.reason = err.reason;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorXml({
      code: described.code,
      message: described.message,
      requestId: x.requestId,
      resource: x.resource,
      extra: described.extra,
    });
    const extra: Record<string, string> = {};
    if (described.retryAfterSeconds !== undefined) extra['retry-after'] = String(described.retryAfterSeconds);
    // An unread request body is not worth reading just to keep the connection.
    if (!req.complete && hasBody(req)) extra.connection = 'close';
    this.reply(x, described.status, body, extra);
  }

  // ---- accounting ----

  private finish(x: Exchange): void {
    const { req, res } = x;
    this.metrics.inflight--;
    if (!res.writableFinished && x.result === 'ok') x.result = 'aborted';
    const status = res.statusCode;
    const operation = x.operation;
    this.metrics.finished(
      req.method ?? '',
      operation,
      status,
      x.result,
      x.authMode,
      (performance.now() - x.started) / 1000,
    );
    this.metrics.transferred(operation, x.bytesIn ?? 0, x.result === 'ok' ? (x.bytesOut ?? 0) : 0);
    if (x.authMode === 'anonymous' && x.backendId !== undefined) {
      this.metrics.anonymousRequests.inc({ operation, status: String(status) });
    }
    this.recordAudit(x, status);
  }

  private recordAudit(x: Exchange, status: number): void {
    const successfulRead = x.result === 'ok' && x.access === 'read';
    if (successfulRead) {
      const rate = this.config.audit.sampling.proxy_success_read_rate;
      if (rate <= 0 || (rate < 1 && Math.random() >= rate)) return;
    }
    const action = auditAction(x.operation);
    // Refusals before any bucket is resolved (bad signatures, unknown keys) come in floods.
    const coalesceKey =
      x.result === 'denied' && x.backendId === undefined
        ? `${action}|${x.reason ?? ''}|${x.accessKey ?? ''}|${x.ip}`
        : undefined;
    if (coalesceKey !== undefined && this.audit.repeat(coalesceKey)) return;
    const agent = x.req.headers['user-agent'];
    const detail: Record<string, unknown> = { http_status: status, auth: x.authMode };
    if (x.accessKey !== undefined) detail.access_key = x.accessKey;
    if (x.reason !== undefined) detail.reason = x.reason;
    if (x.bytesIn !== undefined) detail.bytes_in = x.bytesIn;
    if (x.payload !== undefined) detail.payload = x.payload;
    const event = {
      action,
      userId: x.userId ?? null,
      backendId: x.backendId ?? null,
      bucket: x.bucket ?? null,
      key: x.key ?? null,
      requestId: x.requestId,
      ip: x.ip,
      userAgent: typeof agent === 'string' ? agent.slice(0, 512) : undefined,
      status: x.result,
      detail,
    };
    if (coalesceKey !== undefined) this.audit.recordRefusal(coalesceKey, event);
    else this.audit.record(event);
  }
}

/** The credential's scope on `bucket`, if it has one. */
function scopeFor(credential: VirtualCredential, bucket: string): BucketScope | undefined {
  return credential.scopes.find((scope) => scope.bucket === bucket);
}

/**
 * The answer to an operation the proxy never forwards. Creating a bucket the credential already
 * has is answered as S3 answers the bucket's owner, so tools that make sure of their bucket before
 * writing (rclone, many an SDK script) carry on. Object ACLs, retention, legal holds, restores and
 * selects are not served here, nor is reading a bucket's configuration, which S3-compatible
 * servers say with 501: clients that copy an object's ACL along with it or look for a bucket's
 * policy and CORS rules (s3cmd's cp, mv and info) then carry on too. Changing a bucket is the
 * dashboard's.
 */
function refusalOf(classified: Classified, target: RequestTarget, credential: VirtualCredential): S3ProxyError {
  if (classified.operation === 'PutBucket' && scopeFor(credential, target.bucket)) {
    return new S3ProxyError(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      'operation_refused',
      { extra: { BucketName: target.bucket } },
    );
  }
  if (classified.operation === 'ObjectConfiguration') {
    return new S3ProxyError(
      'NotImplemented',
      'Object ACLs, retention, legal holds, restores and selects are not served by this endpoint.',
      'operation_refused',
    );
  }
  if (classified.operation === 'BucketConfiguration' && classified.access === 'read') {
    return new S3ProxyError(
      'NotImplemented',
      "A bucket's configuration is not served by this endpoint; it is managed through Stowage.",
      'operation_refused',
    );
  }
  return new S3ProxyError(
    'AccessDenied',
    'Bucket creation, deletion and configuration are managed through Stowage, not the S3 endpoint.',
    'operation_refused',
  );
}

/**
 * Headers keyed by lower-case name; a header sent more than once becomes a list, because the
 * canonical request joins repeats with `,` where Node's joined form uses `, `.
 */
function headersOf(req: IncomingMessage): IncomingMessage['headers'] | NodeJS.Dict<string[]> {
  const headers = req.headers;
  let names = 0;
  for (const _name in headers) names++;
  return req.rawHeaders.length / 2 === names ? headers : req.headersDistinct;
}

/**
 * ListBuckets as synthesised from a credential's scope: each bucket once, sorted by name, dated
 * from when the credential was minted (the upstream is not asked for the bucket's own date).
 */
function listBucketsBody(credential: VirtualCredential): string {
  const names = [...new Set(credential.scopes.map((scope) => scope.bucket))].sort();
  return listBucketsXml(
    { id: credential.accessKey, displayName: credential.accessKey },
    names.map((name) => ({ name, creationDate: credential.createdAt })),
  );
}

/**
 * Whether a request announces a body. A refusal answered synchronously comes before node:http
 * has even marked a bodiless request complete, so `complete` alone cannot tell.
 */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const auditActions = new Map<S3Operation, string>();

/** `s3.proxy.<operation>`, built once per operation. */
function auditAction(operation: S3Operation): string {
  let action = auditActions.get(operation);
  if (action === undefined) {
    action = `s3.proxy.${operation.toLowerCase()}`;
    auditActions.set(operation, action);
  }
  return action;
}
