import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BackendKind } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import {
  Answer,
  completeMultipartXml,
  deleteObjectsXml,
  parseCompleteMultipartUpload,
  parseCopyResult,
  parseDeleteResult,
  parseInitiateMultipartUpload,
  parseListMultipartUploads,
  parseListObjectsV2,
  parseListObjectVersions,
  parseListParts,
  parseTagging,
  taggingXml,
  xmlCarries,
} from '@stowage/s3-xml';
import { EMPTY_SHA256, QueryParam, sha256Hex, uriEncode } from '@stowage/sigv4';
import type { Dispatcher } from 'undici';
import type {
  Backend,
  BucketSummary,
  Capabilities,
  CompletedPart,
  CopyOptions,
  CorsRule,
  DeleteObjectsResult,
  GetObjectOptions,
  LifecycleRule,
  ListObjectsRequest,
  ListObjectsResult,
  MultipartUpload,
  ObjectIdentifier,
  ObjectInfo,
  ObjectRef,
  ObjectStream,
  ObjectVersion,
  PartCopyRequest,
  PutObjectRequest,
  UploadedPart,
} from '../../backend';
import { capabilitiesFor, CapabilityFlag, requireCapability } from '../capabilities';
import { formatRangeHeader, isSuffixRange, parseContentRange } from '../range';
import { S3_DRIVER_DEFAULTS, S3DriverConfig } from './s3-driver.config';
import { ErrorContext, mapS3Error, UNREACHABLE_DETAIL, upstreamCode, upstreamStatus } from './s3-errors';
import {
  copySource,
  corsFromS3,
  corsToS3,
  lifecycleFromS3,
  lifecycleToS3,
  objectInfoFrom,
  tagsToHeader,
} from './s3-mappers';
import { SizedBody, sizedBody } from './sized-body';
import {
  ObjectAnswer,
  objectAnswerFrom,
  readDocument,
  refusalOf,
  upstreamRefusal,
  UpstreamRefusal,
} from './upstream-answer';
import type { UpstreamClient, UpstreamRequest } from '../../upstream/upstream-client';

/** The lean signed client every object operation goes through (the S3 proxy's own). */
export type ObjectClient = Pick<UpstreamClient, 'send' | 'presign'>;
/** A lean request as the driver builds it; the payload hash defaults to that of an empty body. */
type LeanRequest = Omit<UpstreamRequest, 'payloadHash' | 'idleTimeoutMs'> & { payloadHash?: string };

/** The longest listing document read (1,000 keys of 1,024 bytes, each url-encoded, and their fields). */
const LISTING_LIMIT = 16 * 1024 * 1024;
/** The longest answer read for a copy, a multipart step or a tag set. */
const ANSWER_LIMIT = 1024 * 1024;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** A query parameter with its value canonically encoded. */
function param(key: string, value: string): QueryParam {
  return { key, value: uriEncode(value), raw: value };
}

/** Kinds known to enforce `If-None-Match: *` on PutObject; the others also get a HeadObject check. */
const HONOURS_IF_NONE_MATCH: ReadonlySet<BackendKind> = new Set(['aws', 'minio', 'ceph', 'r2']);
/** Kinds that ignore the `x-amz-tagging` header on PutObject and lack DeleteObjectTagging. */
const NO_TAGGING_HEADER: ReadonlySet<BackendKind> = new Set(['s3rver']);

/** Codes that mean "nothing configured" rather than an error, per sub-resource. */
const NO_CORS = new Set(['NoSuchCORSConfiguration']);
const NO_POLICY = new Set(['NoSuchBucketPolicy']);
const NO_LIFECYCLE = new Set(['NoSuchLifecycleConfiguration']);
const NO_TAGS = new Set(['NoSuchTagSet', 'NoSuchTagSetError']);
/** How many times a request that can be sent again is tried before its failure is reported. */
const READ_ATTEMPTS = 3;
const RETRIED_STATUSES = new Set([500, 502, 503, 504]);
/** Codes of an error S3 answers with status 200 (a copy or a completion that failed late) that are worth another try. */
const RETRIED_CODES = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable']);
const RETRIED_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const retryPause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 100 * attempt));

/** Writes of a document the upstream may refuse as malformed: the caller's error, not the backend's. */
const INVALID_CORS: ErrorContext = { document: 'invalid_cors' };
const INVALID_LIFECYCLE: ErrorContext = { document: 'invalid_lifecycle' };

const DELETE_BATCH = 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** Headers a metadata-replacing copy carries over from the source unless the caller sets them. */
const KEPT_ON_REPLACE = [
  ['cache-control', 'CacheControl'],
  ['content-disposition', 'ContentDisposition'],
  ['content-encoding', 'ContentEncoding'],
  ['content-language', 'ContentLanguage'],
] as const;

/** The SDK logs to the console unless given a logger; failures reach callers as StowageErrors. */
const SILENT_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * The production driver for any S3-compatible upstream. Every object operation (reads, listings,
 * writes, copies, multipart uploads, deletes, tags, versions, presigned URLs) goes through the
 * lean signed {@link UpstreamClient}, its answers read by the strict readers of `@stowage/s3-xml`;
 * bucket-level configuration (create, delete, head, list, versioning, CORS, lifecycle, policy)
 * and the health probe go through `@aws-sdk/client-s3`. Bodies stream both ways; nothing here
 * holds an object in memory. Operations outside the upstream's capabilities (decided by `kind`)
 * fail with `not_supported` before any request is sent. Every refusal becomes a StowageError in
 * one place, `mapS3Error`.
 */
export class S3Driver implements Backend {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: Capabilities;
  private readonly kind: BackendKind;
  private readonly client: S3Client;
  private readonly secrets: readonly string[];

  constructor(
    private readonly config: S3DriverConfig,
    private readonly upstream: ObjectClient,
  ) {
    this.id = config.id;
    this.displayName = config.name || config.id;
    this.kind = config.kind;
    this.capabilities = capabilitiesFor(config.kind);
    this.secrets = [config.secretKey];
    this.client = this.buildClient();
  }

  /** The SDK client of the bucket-level calls. */
  private buildClient(): S3Client {
    const c = this.config;
    const mode = c.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
    const maxSockets = c.maxSockets ?? S3_DRIVER_DEFAULTS.maxSockets;
    const client = new S3Client({
      endpoint: c.endpoint,
      region: c.region || 'us-east-1',
      forcePathStyle: c.pathStyle,
      credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
      requestChecksumCalculation: mode,
      responseChecksumValidation: mode,
      retryMode: 'standard',
      maxAttempts: S3_DRIVER_DEFAULTS.maxAttempts,
      logger: SILENT_LOGGER,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: S3_DRIVER_DEFAULTS.connectionTimeoutMs,
        socketTimeout: c.requestTimeoutMs ?? S3_DRIVER_DEFAULTS.requestTimeoutMs,
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets, ...(c.lookup ? { lookup: c.lookup } : {}) }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, ...(c.lookup ? { lookup: c.lookup } : {}) }),
      }),
    });
    if (this.kind === 's3rver') {
      // s3rver checks signatures against `/bucket` while the SDK signs bucket-level requests as
      // `/bucket/`; dropping the slash before signing makes both agree.
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { path?: unknown };
          if (typeof request.path === 'string' && /^\/[^/]+\/$/.test(request.path)) {
            request.path = request.path.slice(0, -1);
          }
          return next(args);
        },
        { step: 'build', name: 'stowageS3rverBucketPath' },
      );
    }
    return client;
  }

  /** Runs one SDK call, turning whatever it throws into a StowageError. */
  private async call<T>(run: () => Promise<T>, context: ErrorContext = {}): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw mapS3Error(err, { ...context, secrets: this.secrets });
    }
  }

  /** Like {@link call}, but answers `fallback` when the upstream says the sub-resource is unset. */
  private async callOr<T>(run: () => Promise<T>, unset: ReadonlySet<string>, fallback: T): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (unset.has(upstreamCode(err))) return fallback;
      throw mapS3Error(err, { secrets: this.secrets });
    }
  }

  /**
   * Sends a request whose body is `size` bytes of `body`: a body that fails, is cut off or ends
   * early aborts the request (see {@link sizedBody}) and is what the caller sees as the failure.
   */
  private async sendBody<T>(body: Readable, size: number, send: (sized: SizedBody) => Promise<T>): Promise<T> {
    const sized = sizedBody(body, size);
    try {
      return await send(sized);
    } catch (err) {
      throw sized.failure() ?? err;
    } finally {
      sized.release();
    }
  }

  private require(flag: CapabilityFlag, operation: string): void {
    requireCapability(this.capabilities, flag, operation);
  }

  // Buckets

  async listBuckets(signal?: AbortSignal): Promise<BucketSummary[]> {
    const out = await this.call(() => this.client.send(new ListBucketsCommand({}), { abortSignal: signal }));
    return (out.Buckets ?? [])
      .filter((b) => b.Name)
      .map((b) => (b.CreationDate ? { name: b.Name!, createdAt: b.CreationDate } : { name: b.Name! }));
  }

  async createBucket(name: string, region?: string): Promise<void> {
    // AWS in us-east-1 and Ceph RGW answer 200 when the caller already owns the bucket, so look
    // first. Racy (two creators can both pass the look), but then one of them owns the bucket.
    if (await this.bucketVisible(name)) {
      throw new StowageError('conflict', undefined, `BucketAlreadyOwnedByYou: ${name} already exists`);
    }
    // us-east-1 is the one region that must not be named as a location constraint. Other
    // upstreams name regions freely (a Ceph zonegroup, say), beyond the SDK's list of AWS ones.
    const constraint = region && region !== 'us-east-1' ? (region as BucketLocationConstraint) : undefined;
    await this.call(() =>
      this.client.send(
        new CreateBucketCommand({
          Bucket: name,
          ...(constraint ? { CreateBucketConfiguration: { LocationConstraint: constraint } } : {}),
        }),
      ),
    );
  }

  /** True when HeadBucket succeeds; a refusal (403: someone else's bucket) is left to the caller's next call. */
  private async bucketVisible(name: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: name }));
      return true;
    } catch {
      return false;
    }
  }

  async deleteBucket(name: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteBucketCommand({ Bucket: name })));
  }

  async headBucket(name: string): Promise<void> {
    await this.call(() => this.client.send(new HeadBucketCommand({ Bucket: name })));
  }

  // Bucket settings

  async getBucketVersioning(bucket: string): Promise<boolean> {
    this.require('versioning', 'getBucketVersioning');
    const out = await this.call(() => this.client.send(new GetBucketVersioningCommand({ Bucket: bucket })));
    return out.Status === 'Enabled';
  }

  async setBucketVersioning(bucket: string, enabled: boolean): Promise<void> {
    this.require('versioning', 'setBucketVersioning');
    await this.call(() =>
      this.client.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: enabled ? 'Enabled' : 'Suspended' },
        }),
      ),
    );
  }

  async getBucketCors(bucket: string): Promise<CorsRule[]> {
    this.require('cors', 'getBucketCors');
    const out = await this.callOr(
      () => this.client.send(new GetBucketCorsCommand({ Bucket: bucket })),
      NO_CORS,
      undefined,
    );
    return corsFromS3(out?.CORSRules);
  }

  /** An empty list removes the configuration. */
  async setBucketCors(bucket: string, rules: CorsRule[]): Promise<void> {
    this.require('cors', 'setBucketCors');
    if (rules.length === 0) {
      await this.call(() => this.client.send(new DeleteBucketCorsCommand({ Bucket: bucket })), INVALID_CORS);
      return;
    }
    await this.call(
      () =>
        this.client.send(
          new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: corsToS3(rules) } }),
        ),
      INVALID_CORS,
    );
  }

  /** The policy document, or '' when the bucket has none. */
  async getBucketPolicy(bucket: string): Promise<string> {
    this.require('bucket_policy', 'getBucketPolicy');
    const out = await this.callOr(
      () => this.client.send(new GetBucketPolicyCommand({ Bucket: bucket })),
      NO_POLICY,
      undefined,
    );
    return out?.Policy ?? '';
  }

  async setBucketPolicy(bucket: string, policy: string): Promise<void> {
    this.require('bucket_policy', 'setBucketPolicy');
    await this.call(() => this.client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })), {
      document: 'invalid_policy',
    });
  }

  async deleteBucketPolicy(bucket: string): Promise<void> {
    this.require('bucket_policy', 'deleteBucketPolicy');
    await this.call(() => this.client.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));
  }

  async getBucketLifecycle(bucket: string): Promise<LifecycleRule[]> {
    this.require('lifecycle', 'getBucketLifecycle');
    const out = await this.callOr(
      () => this.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
      NO_LIFECYCLE,
      undefined,
    );
    return lifecycleFromS3(out?.Rules);
  }

  /** An empty list removes the configuration. */
  async setBucketLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void> {
    this.require('lifecycle', 'setBucketLifecycle');
    if (rules.length === 0) {
      await this.call(() => this.client.send(new DeleteBucketLifecycleCommand({ Bucket: bucket })), INVALID_LIFECYCLE);
      return;
    }
    const s3Rules = lifecycleToS3(rules);
    await this.call(
      () =>
        this.client.send(
          new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: s3Rules } }),
        ),
      INVALID_LIFECYCLE,
    );
  }

  // The lean client

  /**
   * One signed request through the lean client. Answers 2xx and 304 as they are; a refusal or a
   * failure to get an answer throws its StowageError (see `mapS3Error`). A request that can be
   * sent again (no body, or one in memory) is, as the SDK's standard retry did, when the upstream
   * is busy (500, 502, 503, 504) or its connection was refused or reset, up to
   * {@link READ_ATTEMPTS} times in all; a silent upstream is not, its idle timeout has passed.
   */
  private async lean(request: LeanRequest, context: ErrorContext = {}): Promise<Dispatcher.ResponseData> {
    const retried = request.body === undefined || Buffer.isBuffer(request.body);
    for (let attempt = 1; ; attempt++) {
      const last = !retried || attempt >= READ_ATTEMPTS || request.signal?.aborted === true;
      let answer;
      try {
        answer = await this.upstream.send(this.config, {
          payloadHash: EMPTY_SHA256,
          ...request,
          headers: { ...request.headers },
          idleTimeoutMs: this.config.requestTimeoutMs ?? S3_DRIVER_DEFAULTS.requestTimeoutMs,
        });
      } catch (err) {
        if (last || !RETRIED_NETWORK_CODES.has((err as { code?: string }).code ?? '')) {
          throw this.refused(err, context);
        }
        await retryPause(attempt);
        continue;
      }
      if (answer.statusCode < 300 || answer.statusCode === 304) return answer;
      if (last || !RETRIED_STATUSES.has(answer.statusCode)) {
        throw this.refused(await upstreamRefusal(answer.statusCode, answer.headers, answer.body), context);
      }
      await answer.body.dump().catch(() => undefined);
      await retryPause(attempt);
    }
  }

  private refused(err: unknown, context: ErrorContext = {}): StowageError {
    return mapS3Error(err, { ...context, secrets: this.secrets });
  }

  /** A request whose answer carries nothing the driver reads. */
  private async leanDone(request: LeanRequest, context: ErrorContext = {}): Promise<Dispatcher.ResponseData> {
    const answer = await this.lean(request, context);
    await answer.body.dump();
    return answer;
  }

  /** A request whose XML body in memory is signed with its SHA-256 and declared with its MD5 (DeleteObjects needs one). */
  private withXml(request: Omit<LeanRequest, 'body' | 'payloadHash'>, xml: string): LeanRequest {
    const body = Buffer.from(xml, 'utf8');
    return {
      ...request,
      headers: {
        ...request.headers,
        'content-type': 'application/xml',
        'content-md5': createHash('md5').update(body).digest('base64'),
      },
      body,
      payloadHash: sha256Hex(body),
    };
  }

  /**
   * A request answered by an XML document, read by `read`: one it cannot read is a
   * `backend_error` 502 naming `what`, and an error document (S3 answers a copy or a completion
   * that failed after it began answering with status 200 and an `<Error>`) is a refusal like any
   * other, sent again (a request that can be) for a code that says the upstream was busy.
   */
  private async document<T>(
    request: LeanRequest,
    read: (xml: string) => Answer<T>,
    what: string,
    context: ErrorContext = {},
    limit = ANSWER_LIMIT,
  ): Promise<{ value: T; headers: Dispatcher.ResponseData['headers'] }> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.lean(request, context);
      let parsed: Answer<T>;
      try {
        parsed = read(await readDocument(answer.body, limit));
      } catch (err) {
        throw this.refused(err);
      }
      if (!parsed) {
        throw new StowageError('backend_error', undefined, `the upstream answered ${what} that could not be read`, {
          status: 502,
        });
      }
      if ('value' in parsed) return { value: parsed.value, headers: answer.headers };
      const resendable = request.body === undefined || Buffer.isBuffer(request.body);
      if (!resendable || attempt >= READ_ATTEMPTS || !RETRIED_CODES.has(parsed.error.code)) {
        throw this.refused(
          refusalOf(answer.statusCode, answer.headers, parsed.error.code, parsed.error.message),
          context,
        );
      }
      await retryPause(attempt);
    }
  }

  /** Like {@link document}, but answers `fallback` when the upstream says the sub-resource is unset. */
  private async documentOr<T>(
    request: LeanRequest,
    read: (xml: string) => Answer<T>,
    what: string,
    unset: ReadonlySet<string>,
    fallback: T,
  ): Promise<T> {
    try {
      return (await this.document(request, read, what)).value;
    } catch (err) {
      if (err instanceof StowageError && unset.has(upstreamCode(err.cause))) return fallback;
      throw err;
    }
  }

  // Objects

  async listObjects(request: ListObjectsRequest, signal?: AbortSignal): Promise<ListObjectsResult> {
    const maxKeys =
      request.maxKeys === undefined ? undefined : Math.min(1000, Math.max(1, Math.floor(request.maxKeys)));
    // s3rver answers 500 or 403 to a token it cannot read; others answer 400 InvalidArgument.
    const context: ErrorContext = {
      clientToken: request.continuationToken ? (this.kind === 's3rver' ? 'any' : 'refusal') : undefined,
    };
    // Keys url-encoded on the wire, so that characters XML cannot carry arrive intact.
    const params: QueryParam[] = [param('list-type', '2'), param('encoding-type', 'url')];
    if (request.prefix) params.push(param('prefix', request.prefix));
    if (request.delimiter) params.push(param('delimiter', request.delimiter));
    if (request.continuationToken) params.push(param('continuation-token', request.continuationToken));
    if (maxKeys !== undefined) params.push(param('max-keys', String(maxKeys)));
    const { value: page } = await this.document(
      { method: 'GET', bucket: request.bucket, key: '', params, headers: {}, signal },
      listed(parseListObjectsV2),
      'a listing',
      context,
      LISTING_LIMIT,
    );
    const result: ListObjectsResult = {
      objects: page.objects,
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
    if (page.isTruncated && page.nextContinuationToken) result.nextContinuationToken = page.nextContinuationToken;
    return result;
  }

  /** GetObject: the body is undici's, aborted with `options.signal`. */
  async getObject(bucket: string, key: string, options: GetObjectOptions = {}): Promise<ObjectStream> {
    const headers: Record<string, string> = {};
    if (options.range) {
      headers.range = formatRangeHeader(options.range);
      if (isSuffixRange(options.range)) this.require('suffix_ranges', 'getObject with a suffix range');
    }
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch;
    if (options.ifModifiedSince) headers['if-modified-since'] = options.ifModifiedSince.toUTCString();
    if (options.ifUnmodifiedSince) headers['if-unmodified-since'] = options.ifUnmodifiedSince.toUTCString();
    const answer = await this.read('GET', bucket, key, options.versionId, headers, options.signal);
    if (answer.statusCode === 304) {
      await answer.body.dump();
      return notModified(key, await upstreamRefusal(304, answer.headers));
    }
    // Callers release a body they will not send with a bare destroy(); undici's then emits an
    // AbortError, which must not go unheard. Whoever reads the body still sees its failures
    // through their own listeners.
    answer.body.on('error', ignoreReleased);
    const out = objectAnswerFrom(answer.headers);
    const contentLength = out.ContentLength ?? 0;
    const served = parseContentRange(out.ContentRange);
    const info = objectInfoFrom(key, out, served?.total ?? contentLength);
    const stream: ObjectStream = { info, contentLength, body: answer.body };
    if (out.ContentRange) stream.contentRange = out.ContentRange;
    return stream;
  }

  /** One signed GET or HEAD of an object (see {@link lean}). */
  private read(
    method: 'GET' | 'HEAD',
    bucket: string,
    key: string,
    versionId: string | undefined,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ) {
    const params = versionId ? [param('versionId', versionId)] : [];
    return this.lean({ method, bucket, key, params, headers, signal });
  }

  async headObject(bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
    return objectInfoFrom(key, await this.head(bucket, key, versionId));
  }

  private async head(bucket: string, key: string, versionId?: string): Promise<ObjectAnswer> {
    const answer = await this.read('HEAD', bucket, key, versionId, {});
    await answer.body.dump();
    if (answer.statusCode === 304) throw this.refused(await upstreamRefusal(304, answer.headers));
    return objectAnswerFrom(answer.headers);
  }

  /** Every version and delete marker under the prefix: by key, newest first within a key. */
  async listObjectVersions(bucket: string, keyPrefix: string): Promise<ObjectVersion[]> {
    this.require('versioning', 'listObjectVersions');
    const versions: (ObjectVersion & { order: number })[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      // No encoding-type: upstreams differ on which fields they encode then (Ceph RGW leaves the
      // markers of an upload listing as they are), so keys come as XML text, as the SDK had them.
      const params = [param('versions', '')];
      if (keyPrefix) params.push(param('prefix', keyPrefix));
      if (keyMarker) params.push(param('key-marker', keyMarker));
      if (versionIdMarker) params.push(param('version-id-marker', versionIdMarker));
      const { value: page } = await this.document(
        { method: 'GET', bucket, key: '', params, headers: {} },
        listed(parseListObjectVersions),
        'a version listing',
        {},
        LISTING_LIMIT,
      );
      for (const v of page.versions) versions.push({ ...v, order: versions.length });
      if (!page.isTruncated || (!page.nextKeyMarker && !page.nextVersionIdMarker)) break;
      if (page.nextKeyMarker === keyMarker && page.nextVersionIdMarker === versionIdMarker) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
    // Each page lists a key's versions newest first, with its delete markers beside them: sort
    // by key, then newest first, keeping the upstream's order for equal times.
    versions.sort(
      (a, b) =>
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
        (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0) ||
        a.order - b.order,
    );
    return versions.map(({ order: _order, ...v }) => v);
  }

  async putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    const { bucket, key, body, size } = request;
    const tags = request.tags && Object.keys(request.tags).length > 0 ? request.tags : undefined;
    if (tags) this.require('tagging', 'putObject with tags');
    const tagsSeparately = tags !== undefined && NO_TAGGING_HEADER.has(this.kind);
    if (tagsSeparately) this.checkTags(tags);

    if (request.ifNoneMatch && !request.absenceChecked && !HONOURS_IF_NONE_MATCH.has(this.kind)) {
      // This upstream may ignore `If-None-Match: *` (s3rver does), so look first. Racy: another
      // writer can create the key between this HeadObject and the PutObject below; the header,
      // still sent, closes that window on upstreams that do enforce it.
      if (await this.exists(bucket, key)) {
        throw new StowageError('object_exists', undefined, `${bucket}/${key} already exists`);
      }
    }

    const out = await this.sendBody(body, size, (sized) => {
      const headers = objectHeaders(request.contentType, request.metadata);
      if (tags && !tagsSeparately) headers['x-amz-tagging'] = tagsToHeader(tags);
      if (request.ifNoneMatch) headers['if-none-match'] = '*';
      return this.streamedWrite(bucket, key, [], headers, sized, size, {
        ifNoneMatchPut: request.ifNoneMatch === true,
      });
    });
    if (tags && tagsSeparately) await this.putTags(bucket, key, tags, out.VersionId);
    const info: ObjectInfo = { key, size };
    if (out.ETag) info.etag = out.ETag;
    if (request.contentType) info.contentType = request.contentType;
    if (out.VersionId && out.VersionId !== 'null') info.versionId = out.VersionId;
    if (request.metadata) info.metadata = { ...request.metadata };
    return info;
  }

  /**
   * A PutObject or UploadPart: the sized body streams with its declared length and an unsigned
   * payload, aborted with the body's signal when the body fails.
   */
  private async streamedWrite(
    bucket: string,
    key: string,
    params: QueryParam[],
    headers: Record<string, string>,
    sized: SizedBody,
    size: number,
    context: ErrorContext = {},
  ): Promise<ObjectAnswer> {
    headers['content-length'] = String(size);
    const answer = await this.leanDone(
      {
        method: 'PUT',
        bucket,
        key,
        params,
        headers,
        body: sized.body,
        payloadHash: UNSIGNED_PAYLOAD,
        signal: sized.signal,
      },
      context,
    );
    return objectAnswerFrom(answer.headers);
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.head(bucket, key);
      return true;
    } catch (err) {
      if (err instanceof StowageError && err.code === 'not_found') {
        // A missing bucket is not "free to write": let the PutObject report it.
        return false;
      }
      throw err;
    }
  }

  async deleteObject(bucket: string, key: string, versionId?: string): Promise<void> {
    await this.leanDone({ method: 'DELETE', bucket, key, params: versionParams(versionId), headers: {} });
  }

  /**
   * DeleteObjects in batches of 1,000. A key (or version id) XML 1.0 cannot carry cannot be named
   * in the request body without naming another key: such objects go one by one.
   */
  async deleteObjects(bucket: string, keys: ObjectIdentifier[]): Promise<DeleteObjectsResult> {
    const result: DeleteObjectsResult = { deleted: [], errors: [] };
    const carried = keys.filter((k) => xmlCarries(k.key) && (k.versionId === undefined || xmlCarries(k.versionId)));
    for (const k of keys) {
      if (carried.includes(k)) continue;
      try {
        await this.deleteObject(bucket, k.key, k.versionId);
        result.deleted.push(k.versionId ? { key: k.key, versionId: k.versionId } : { key: k.key });
      } catch (err) {
        if (!(err instanceof StowageError) || err.cause === undefined) throw err;
        result.errors.push({ key: k.key, code: upstreamCode(err.cause), message: err.detail ?? err.message });
      }
    }
    for (let i = 0; i < carried.length; i += DELETE_BATCH) {
      const batch = carried.slice(i, i + DELETE_BATCH);
      const { value } = await this.document(
        this.withXml(
          { method: 'POST', bucket, key: '', params: [param('delete', '')], headers: {} },
          deleteObjectsXml(batch),
        ),
        parseDeleteResult,
        'a DeleteObjects result',
        {},
        LISTING_LIMIT,
      );
      for (const d of value.deleted) result.deleted.push(d);
      for (const e of value.errors) result.errors.push({ key: e.key, code: e.code, message: e.message });
    }
    return result;
  }

  async copyObject(source: ObjectRef, target: ObjectRef, options: CopyOptions = {}): Promise<void> {
    const replace = options.metadata !== undefined || options.contentType !== undefined;
    const headers: Record<string, string> = {};
    if (replace) {
      // REPLACE drops every stored header: carry over from the source what the caller did not
      // set, and copy only the very version those headers were read from.
      const current = await this.head(source.bucket, source.key, source.versionId);
      Object.assign(
        headers,
        objectHeaders(options.contentType ?? current.ContentType, options.metadata ?? current.Metadata ?? {}),
      );
      for (const [name, field] of KEPT_ON_REPLACE) {
        const value = current[field];
        if (value !== undefined) headers[name] = value;
      }
      headers['x-amz-metadata-directive'] = 'REPLACE';
      if (current.ETag) headers['x-amz-copy-source-if-match'] = current.ETag;
    }
    await this.copy(target.bucket, target.key, [], source, headers, 'CopyObject');
  }

  /**
   * A CopyObject or UploadPartCopy of `source` (its key encoded, its version named) with
   * `headers`; answers the new ETag. A copy conditional on the source's ETag that the upstream
   * refuses with 412 is a `conflict`: the source changed in between.
   */
  private async copy(
    bucket: string,
    key: string,
    params: QueryParam[],
    source: ObjectRef,
    headers: Record<string, string>,
    operation: string,
  ): Promise<string> {
    headers['x-amz-copy-source'] = copySource(source.bucket, source.key, source.versionId);
    try {
      const { value } = await this.document(
        { method: 'PUT', bucket, key, params, headers },
        parseCopyResult,
        `a ${operation} result`,
      );
      return value.etag;
    } catch (err) {
      if (headers['x-amz-copy-source-if-match'] && err instanceof StowageError && upstreamStatus(err.cause) === 412) {
        throw new StowageError('conflict', undefined, `${source.key} changed during the copy`, { cause: err.cause });
      }
      throw err;
    }
  }

  // Tags and metadata

  async getObjectTagging(bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
    this.require('tagging', 'getObjectTagging');
    return this.documentOr(
      { method: 'GET', bucket, key, params: [param('tagging', ''), ...versionParams(versionId)], headers: {} },
      parseTagging,
      'a tag set',
      NO_TAGS,
      {},
    );
  }

  async setObjectTagging(bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
    this.require('tagging', 'setObjectTagging');
    if (Object.keys(tags).length === 0 && !NO_TAGGING_HEADER.has(this.kind)) {
      const params = [param('tagging', ''), ...versionParams(versionId)];
      await this.leanDone({ method: 'DELETE', bucket, key, params, headers: {} });
      return;
    }
    // An empty tag set also clears the tags where DeleteObjectTagging is missing.
    this.checkTags(tags);
    await this.putTags(bucket, key, tags, versionId);
  }

  private async putTags(bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
    const params = [param('tagging', ''), ...versionParams(versionId)];
    await this.leanDone(this.withXml({ method: 'PUT', bucket, key, params, headers: {} }, taggingXml(tags)));
  }

  /** Tags travel in an XML body: one XML 1.0 cannot carry would be stored as another tag. */
  private checkTags(tags: Record<string, string>): void {
    for (const [name, value] of Object.entries(tags)) {
      if (!xmlCarries(name) || !xmlCarries(value)) {
        throw new StowageError('bad_request', undefined, 'tags cannot hold control characters');
      }
    }
  }

  /** A self-copy with MetadataDirective REPLACE that keeps the content type and other headers. */
  async updateObjectMetadata(bucket: string, key: string, metadata: Record<string, string>): Promise<void> {
    await this.copyObject({ bucket, key }, { bucket, key }, { metadata });
  }

  // Multipart uploads

  async createMultipart(
    bucket: string,
    key: string,
    options: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<string> {
    const { value } = await this.document(
      {
        method: 'POST',
        bucket,
        key,
        params: [param('uploads', '')],
        headers: objectHeaders(options.contentType, options.metadata),
      },
      parseInitiateMultipartUpload,
      'a CreateMultipartUpload result',
    );
    return value.uploadId;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number,
  ): Promise<string> {
    this.checkPartNumber(partNumber);
    const params = partParams(partNumber, uploadId);
    const out = await this.sendBody(body, size, (sized) => this.streamedWrite(bucket, key, params, {}, sized, size));
    if (!out.ETag) throw new StowageError('backend_error', undefined, 'UploadPart returned no ETag');
    return out.ETag;
  }

  async uploadPartCopy(request: PartCopyRequest): Promise<string> {
    const { source, range, partNumber } = request;
    this.checkPartNumber(partNumber);
    const headers: Record<string, string> = { 'x-amz-copy-source-range': `bytes=${range.start}-${range.end}` };
    if (request.ifMatch) headers['x-amz-copy-source-if-match'] = request.ifMatch;
    const params = partParams(partNumber, request.uploadId);
    return this.copy(request.bucket, request.key, params, source, headers, 'UploadPartCopy');
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<ObjectInfo> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const { value, headers } = await this.document(
      this.withXml(
        { method: 'POST', bucket, key, params: [param('uploadId', uploadId)], headers: {} },
        completeMultipartXml(sorted),
      ),
      parseCompleteMultipartUpload,
      'a CompleteMultipartUpload result',
    );
    // The answer carries no size, and some upstreams (Ceph RGW) an empty ETag: ask for both.
    const answered = objectAnswerFrom(headers).VersionId;
    const versionId = answered && answered !== 'null' ? answered : undefined;
    const info = objectInfoFrom(key, await this.head(bucket, key, versionId));
    if (!info.etag && value.etag) info.etag = value.etag;
    return info;
  }

  private checkPartNumber(partNumber: number): void {
    const max = this.capabilities.max_multipart_parts;
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || (max > 0 && partNumber > max)) {
      throw new StowageError('bad_request', undefined, `part numbers run from 1 to ${max}, not ${partNumber}`);
    }
  }

  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    this.require('multipart_management', 'abortMultipart');
    await this.leanDone({ method: 'DELETE', bucket, key, params: [param('uploadId', uploadId)], headers: {} });
  }

  async listMultipartUploads(bucket: string, prefix?: string): Promise<MultipartUpload[]> {
    this.require('multipart_management', 'listMultipartUploads');
    const uploads: MultipartUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const params = [param('uploads', '')];
      if (prefix) params.push(param('prefix', prefix));
      if (keyMarker) params.push(param('key-marker', keyMarker));
      if (uploadIdMarker) params.push(param('upload-id-marker', uploadIdMarker));
      const { value: page } = await this.document(
        { method: 'GET', bucket, key: '', params, headers: {} },
        listed(parseListMultipartUploads),
        'a listing of uploads',
        {},
        LISTING_LIMIT,
      );
      uploads.push(...page.uploads);
      if (!page.isTruncated || (!page.nextKeyMarker && !page.nextUploadIdMarker)) break;
      if (page.nextKeyMarker === keyMarker && page.nextUploadIdMarker === uploadIdMarker) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
    return uploads;
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
    this.require('multipart_management', 'listParts');
    const parts: UploadedPart[] = [];
    let marker: number | undefined;
    for (;;) {
      const params = [param('uploadId', uploadId)];
      if (marker !== undefined) params.push(param('part-number-marker', String(marker)));
      const { value: page } = await this.document(
        { method: 'GET', bucket, key, params, headers: {} },
        listed(parseListParts),
        'a listing of parts',
        {},
        LISTING_LIMIT,
      );
      parts.push(...page.parts);
      if (!page.isTruncated || !page.nextPartNumberMarker || page.nextPartNumberMarker === marker) break;
      marker = page.nextPartNumberMarker;
    }
    return parts;
  }

  // Presigned URLs, signed here with the backend's keys

  async presignGet(bucket: string, key: string, ttlSeconds: number): Promise<string> {
    checkTtl(ttlSeconds);
    return this.upstream.presign(this.config, { method: 'GET', bucket, key, expiresSeconds: ttlSeconds });
  }

  /** A content type is signed, so the upload must declare exactly that type. */
  async presignPut(bucket: string, key: string, ttlSeconds: number, contentType?: string): Promise<string> {
    checkTtl(ttlSeconds);
    const headers = contentType ? { 'content-type': contentType } : undefined;
    return this.upstream.presign(this.config, { method: 'PUT', bucket, key, expiresSeconds: ttlSeconds, headers });
  }

  // Lifecycle of the driver

  async probe(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await this.client.send(new ListBucketsCommand({}), { abortSignal: signal });
    } catch (err) {
      if (signal.aborted) {
        throw new StowageError('backend_error', undefined, UNREACHABLE_DETAIL, {
          status: 502,
          cause: err,
        });
      }
      throw mapS3Error(err, { secrets: this.secrets });
    }
  }

  /** Releases the SDK client's connections; the lean client's pools belong to the application. */
  close(): void {
    this.client.destroy();
  }
}

function checkTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_SECONDS) {
    throw new StowageError('bad_request', undefined, `a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds`);
  }
}

/** `versionId` as a query parameter, when there is one. */
function versionParams(versionId: string | undefined): QueryParam[] {
  return versionId ? [param('versionId', versionId)] : [];
}

function partParams(partNumber: number, uploadId: string): QueryParam[] {
  return [param('partNumber', String(partNumber)), param('uploadId', uploadId)];
}

/** The content type and user metadata headers of a PutObject, CreateMultipartUpload or replacing copy. */
function objectHeaders(
  contentType: string | undefined,
  metadata: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  for (const [name, value] of Object.entries(metadata ?? {})) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
  return headers;
}

/** A listing reader (undefined or a page) as a document reader; listings never hold an error. */
function listed<T>(read: (xml: string) => T | undefined): (xml: string) => Answer<T> {
  return (xml) => {
    const page = read(xml);
    return page && { value: page };
  };
}

/** Swallows the AbortError of a read's body released early (see `getObject`). */
function ignoreReleased(): void {}

/** The answer to a conditional GET whose condition matched (304): headers only, no body. */
function notModified(key: string, refusal: UpstreamRefusal): ObjectStream {
  const headers = refusal.$response.headers;
  const info: ObjectInfo = { key, size: 0 };
  if (headers.etag) info.etag = headers.etag;
  if (headers['last-modified']) {
    const date = new Date(headers['last-modified']);
    if (!Number.isNaN(date.getTime())) info.lastModified = date;
  }
  return { info, contentLength: 0, notModified: true, body: Readable.from([]) };
}
