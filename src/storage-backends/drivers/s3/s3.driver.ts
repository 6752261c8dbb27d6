import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  AbortMultipartUploadCommand,
  BucketLocationConstraint,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BackendKind } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { parseListObjectsV2 } from '@stowage/s3-xml';
import { EMPTY_SHA256, QueryParam, uriEncode } from '@stowage/sigv4';
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
  tagSetToTags,
  tagsToHeader,
  tagsToTagSet,
} from './s3-mappers';
import { SizedBody, sizedBody } from './sized-body';
import { ObjectAnswer, objectAnswerFrom, readDocument, upstreamRefusal } from './upstream-answer';
import type { UpstreamClient, UpstreamRequest } from '../../upstream/upstream-client';

/** The lean signed client object reads go through (the S3 proxy's own). */
export type ObjectReader = Pick<UpstreamClient, 'send'>;
/** A lean request as the driver builds it; the payload hash defaults to that of an empty body. */
type LeanRequest = Omit<UpstreamRequest, 'payloadHash' | 'idleTimeoutMs'> & { payloadHash?: string };

/** The longest listing document read (1,000 keys of 1,024 bytes, each url-encoded, and their fields). */
const LISTING_LIMIT = 16 * 1024 * 1024;
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
/** How many times a request without a body is tried before its failure is reported. */
const READ_ATTEMPTS = 3;
const RETRIED_STATUSES = new Set([500, 502, 503, 504]);
const RETRIED_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const retryPause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 100 * attempt));

/** Writes of a document the upstream may refuse as malformed: the caller's error, not the backend's. */
const INVALID_CORS: ErrorContext = { document: 'invalid_cors' };
const INVALID_LIFECYCLE: ErrorContext = { document: 'invalid_lifecycle' };

const DELETE_BATCH = 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** The SDK logs to the console unless given a logger; failures reach callers as StowageErrors. */
const SILENT_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * The production driver: any S3-compatible upstream through `@aws-sdk/client-s3`, except object
 * reads (GetObject, HeadObject), which go through the lean signed {@link UpstreamClient} when one
 * is given (the backend factory always gives one). Bodies stream both ways; nothing here holds an
 * object in memory. Operations outside the upstream's capabilities (decided by `kind`) fail with
 * `not_supported` before any request is sent.
 */
export class S3Driver implements Backend {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: Capabilities;
  private readonly kind: BackendKind;
  private readonly client: S3Client;
  private readonly secrets: readonly string[];
  private presignClient?: S3Client;

  constructor(
    private readonly config: S3DriverConfig,
    private readonly reader?: ObjectReader,
  ) {
    this.id = config.id;
    this.displayName = config.name || config.id;
    this.kind = config.kind;
    this.capabilities = capabilitiesFor(config.kind);
    this.secrets = [config.secretKey];
    this.client = this.buildClient(config.checksums, true);
  }

  private buildClient(checksums: S3DriverConfig['checksums'], withHandler: boolean): S3Client {
    const c = this.config;
    const mode = checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
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
      ...(withHandler
        ? {
            requestHandler: new NodeHttpHandler({
              connectionTimeout: S3_DRIVER_DEFAULTS.connectionTimeoutMs,
              // An idle timeout, not a total one: a large body may legitimately stream for hours.
              socketTimeout: c.requestTimeoutMs ?? S3_DRIVER_DEFAULTS.requestTimeoutMs,
              httpAgent: new HttpAgent({ keepAlive: true, maxSockets, ...(c.lookup ? { lookup: c.lookup } : {}) }),
              httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, ...(c.lookup ? { lookup: c.lookup } : {}) }),
            }),
          }
        : {}),
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

  /** Runs one upstream call, turning whatever it throws into a StowageError. */
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

  // Objects

  async listObjects(request: ListObjectsRequest, signal?: AbortSignal): Promise<ListObjectsResult> {
    const maxKeys =
      request.maxKeys === undefined ? undefined : Math.min(1000, Math.max(1, Math.floor(request.maxKeys)));
    // s3rver answers 500 or 403 to a token it cannot read; others answer 400 InvalidArgument.
    const context: ErrorContext = {
      clientToken: request.continuationToken ? (this.kind === 's3rver' ? 'any' : 'refusal') : undefined,
    };
    if (this.reader) return this.leanList(request, maxKeys, context, signal);
    const out = await this.call(
      () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: request.bucket,
            Prefix: request.prefix || undefined,
            Delimiter: request.delimiter || undefined,
            ContinuationToken: request.continuationToken || undefined,
            MaxKeys: maxKeys,
          }),
          { abortSignal: signal },
        ),
      context,
    );
    const objects: ObjectInfo[] = (out.Contents ?? [])
      .filter((o) => o.Key !== undefined)
      .map((o) => {
        const info: ObjectInfo = { key: o.Key!, size: o.Size ?? 0 };
        if (o.ETag) info.etag = o.ETag;
        if (o.StorageClass) info.storageClass = o.StorageClass;
        if (o.LastModified) info.lastModified = o.LastModified;
        return info;
      });
    const result: ListObjectsResult = {
      objects,
      commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix).filter((p): p is string => !!p),
      isTruncated: out.IsTruncated === true,
    };
    if (out.IsTruncated && out.NextContinuationToken) result.nextContinuationToken = out.NextContinuationToken;
    return result;
  }

  /**
   * ListObjectsV2 through the lean client, keys url-encoded on the wire (so characters XML cannot
   * carry arrive intact) and the answer read strictly (see `parseListObjectsV2`).
   */
  private async leanList(
    request: ListObjectsRequest,
    maxKeys: number | undefined,
    context: ErrorContext,
    signal?: AbortSignal,
  ): Promise<ListObjectsResult> {
    const params: QueryParam[] = [param('list-type', '2'), param('encoding-type', 'url')];
    if (request.prefix) params.push(param('prefix', request.prefix));
    if (request.delimiter) params.push(param('delimiter', request.delimiter));
    if (request.continuationToken) params.push(param('continuation-token', request.continuationToken));
    if (maxKeys !== undefined) params.push(param('max-keys', String(maxKeys)));
    const answer = await this.lean(
      { method: 'GET', bucket: request.bucket, key: '', params, headers: {}, signal },
      context,
    );
    let xml: string;
    try {
      xml = await readDocument(answer.body, LISTING_LIMIT);
    } catch (err) {
      throw mapS3Error(err, { secrets: this.secrets });
    }
    const page = parseListObjectsV2(xml);
    if (!page)
      throw new StowageError('backend_error', undefined, 'the upstream answered a listing that could not be read', {
        status: 502,
      });
    const result: ListObjectsResult = {
      objects: page.objects,
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
    if (page.isTruncated && page.nextContinuationToken) result.nextContinuationToken = page.nextContinuationToken;
    return result;
  }

  async getObject(bucket: string, key: string, options: GetObjectOptions = {}): Promise<ObjectStream> {
    let range: string | undefined;
    if (options.range) {
      range = formatRangeHeader(options.range);
      if (isSuffixRange(options.range)) this.require('suffix_ranges', 'getObject with a suffix range');
    }
    if (this.reader) return this.leanGet(bucket, key, options, range);
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          VersionId: options.versionId,
          Range: range,
          IfMatch: options.ifMatch,
          IfNoneMatch: options.ifNoneMatch,
          IfModifiedSince: options.ifModifiedSince,
          IfUnmodifiedSince: options.ifUnmodifiedSince,
        }),
        { abortSignal: options.signal },
      );
    } catch (err) {
      if (upstreamStatus(err) === 304) return notModified(key, err);
      throw mapS3Error(err, { secrets: this.secrets });
    }
    const contentLength = out.ContentLength ?? 0;
    const served = parseContentRange(out.ContentRange);
    const info = objectInfoFrom(key, out, served?.total ?? contentLength);
    const stream: ObjectStream = { info, contentLength, body: toNodeReadable(out.Body) };
    if (out.ContentRange) stream.contentRange = out.ContentRange;
    return stream;
  }

  /** GetObject through the lean client: the body is undici's, aborted with `options.signal`. */
  private async leanGet(bucket: string, key: string, options: GetObjectOptions, range?: string): Promise<ObjectStream> {
    const headers: Record<string, string> = {};
    if (range) headers.range = range;
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch;
    if (options.ifModifiedSince) headers['if-modified-since'] = options.ifModifiedSince.toUTCString();
    if (options.ifUnmodifiedSince) headers['if-unmodified-since'] = options.ifUnmodifiedSince.toUTCString();
    const answer = await this.read('GET', bucket, key, options.versionId, headers, options.signal);
    if (answer.statusCode === 304) {
      await answer.body.dump();
      return notModified(key, await upstreamRefusal(304, answer.headers));
    }
    // Callers release a body they will not send with a bare destroy(), as they may an SDK
    // (IncomingMessage) body; undici's then emits an AbortError, which must not go unheard.
    // Whoever reads the body still sees its failures through their own listeners.
    answer.body.on('error', ignoreReleased);
    const out = objectAnswerFrom(answer.headers);
    const contentLength = out.ContentLength ?? 0;
    const served = parseContentRange(out.ContentRange);
    const info = objectInfoFrom(key, out, served?.total ?? contentLength);
    const stream: ObjectStream = { info, contentLength, body: answer.body };
    if (out.ContentRange) stream.contentRange = out.ContentRange;
    return stream;
  }

  /** One signed GET or HEAD of an object through the lean client (see {@link lean}). */
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

  /**
   * One signed request through the lean client. Answers 2xx and 304 as they are; a refusal or a
   * failure to get an answer throws the StowageError the SDK path would. A request without a
   * body (a read or a listing) is asked again, as the SDK's standard retry did, when the upstream
   * is busy (500, 502, 503, 504) or its connection was refused or reset, up to
   * {@link READ_ATTEMPTS} times in all; a silent upstream is not, its idle timeout has passed.
   */
  private async lean(request: LeanRequest, context: ErrorContext = {}): Promise<Dispatcher.ResponseData> {
    const retried = request.body === undefined;
    for (let attempt = 1; ; attempt++) {
      const last = !retried || attempt >= READ_ATTEMPTS || request.signal?.aborted === true;
      let answer;
      try {
        answer = await this.reader!.send(this.config, {
          payloadHash: EMPTY_SHA256,
          ...request,
          headers: { ...request.headers },
          idleTimeoutMs: this.config.requestTimeoutMs ?? S3_DRIVER_DEFAULTS.requestTimeoutMs,
        });
      } catch (err) {
        if (last || !RETRIED_NETWORK_CODES.has((err as { code?: string }).code ?? '')) {
          throw mapS3Error(err, { ...context, secrets: this.secrets });
        }
        await retryPause(attempt);
        continue;
      }
      if (answer.statusCode < 300 || answer.statusCode === 304) return answer;
      if (last || !RETRIED_STATUSES.has(answer.statusCode)) {
        throw mapS3Error(await upstreamRefusal(answer.statusCode, answer.headers, answer.body), {
          ...context,
          secrets: this.secrets,
        });
      }
      await answer.body.dump().catch(() => undefined);
      await retryPause(attempt);
    }
  }

  async headObject(bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
    const out = await this.head(bucket, key, versionId);
    return objectInfoFrom(key, out);
  }

  private async head(bucket: string, key: string, versionId?: string): Promise<ObjectAnswer | HeadObjectCommandOutput> {
    if (!this.reader) {
      return this.call(() =>
        this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      );
    }
    const answer = await this.read('HEAD', bucket, key, versionId, {});
    await answer.body.dump();
    if (answer.statusCode === 304) throw mapS3Error(await upstreamRefusal(304, answer.headers));
    return objectAnswerFrom(answer.headers);
  }

  /** Every version and delete marker under the prefix: by key, newest first within a key. */
  async listObjectVersions(bucket: string, keyPrefix: string): Promise<ObjectVersion[]> {
    this.require('versioning', 'listObjectVersions');
    const versions: (ObjectVersion & { order: number })[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const out = await this.call(() =>
        this.client.send(
          new ListObjectVersionsCommand({
            Bucket: bucket,
            Prefix: keyPrefix || undefined,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        ),
      );
      for (const v of out.Versions ?? []) {
        if (v.Key === undefined) continue;
        const version: ObjectVersion & { order: number } = {
          key: v.Key,
          versionId: v.VersionId ?? 'null',
          isLatest: v.IsLatest === true,
          isDeleteMarker: false,
          size: v.Size ?? 0,
          order: versions.length,
        };
        if (v.ETag) version.etag = v.ETag;
        if (v.StorageClass) version.storageClass = v.StorageClass;
        if (v.LastModified) version.lastModified = v.LastModified;
        versions.push(version);
      }
      for (const m of out.DeleteMarkers ?? []) {
        if (m.Key === undefined) continue;
        const marker: ObjectVersion & { order: number } = {
          key: m.Key,
          versionId: m.VersionId ?? 'null',
          isLatest: m.IsLatest === true,
          isDeleteMarker: true,
          size: 0,
          order: versions.length,
        };
        if (m.LastModified) marker.lastModified = m.LastModified;
        versions.push(marker);
      }
      if (!out.IsTruncated || (!out.NextKeyMarker && !out.NextVersionIdMarker)) break;
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
    // S3 answers versions and delete markers in two lists; merge them back into one history.
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

    if (request.ifNoneMatch && !HONOURS_IF_NONE_MATCH.has(this.kind)) {
      // This upstream may ignore `If-None-Match: *` (s3rver does), so look first. Racy: another
      // writer can create the key between this HeadObject and the PutObject below; the header,
      // still sent, closes that window on upstreams that do enforce it.
      if (await this.exists(bucket, key)) {
        throw new StowageError('object_exists', undefined, `${bucket}/${key} already exists`);
      }
    }

    const out = await this.sendBody(body, size, (sized) => {
      if (this.reader) {
        const headers: Record<string, string> = {};
        if (request.contentType !== undefined) headers['content-type'] = request.contentType;
        for (const [name, value] of Object.entries(request.metadata ?? {})) {
          headers[`x-amz-meta-${name.toLowerCase()}`] = value;
        }
        if (tags && !tagsSeparately) headers['x-amz-tagging'] = tagsToHeader(tags);
        if (request.ifNoneMatch) headers['if-none-match'] = '*';
        return this.leanWrite(bucket, key, [], headers, sized, size, { ifNoneMatchPut: request.ifNoneMatch === true });
      }
      return this.call(
        () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: sized.body,
              ContentLength: size,
              ContentType: request.contentType,
              Metadata: request.metadata,
              Tagging: tags && !tagsSeparately ? tagsToHeader(tags) : undefined,
              IfNoneMatch: request.ifNoneMatch ? '*' : undefined,
            }),
            { abortSignal: sized.signal },
          ),
        { ifNoneMatchPut: request.ifNoneMatch === true },
      );
    });
    if (tags && tagsSeparately) {
      await this.call(() =>
        this.client.send(
          new PutObjectTaggingCommand({
            Bucket: bucket,
            Key: key,
            VersionId: out.VersionId,
            Tagging: { TagSet: tagsToTagSet(tags) },
          }),
        ),
      );
    }
    const info: ObjectInfo = { key, size };
    if (out.ETag) info.etag = out.ETag;
    if (request.contentType) info.contentType = request.contentType;
    if (out.VersionId && out.VersionId !== 'null') info.versionId = out.VersionId;
    if (request.metadata) info.metadata = { ...request.metadata };
    return info;
  }

  /**
   * A PutObject or UploadPart through the lean client: the sized body streams with its declared
   * length and an unsigned payload, aborted with the body's signal when the body fails.
   */
  private async leanWrite(
    bucket: string,
    key: string,
    params: QueryParam[],
    headers: Record<string, string>,
    sized: SizedBody,
    size: number,
    context: ErrorContext = {},
  ): Promise<{ ETag?: string; VersionId?: string }> {
    headers['content-length'] = String(size);
    const answer = await this.lean(
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
    await answer.body.dump();
    const out = objectAnswerFrom(answer.headers);
    return { ETag: out.ETag, VersionId: out.VersionId };
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
    await this.call(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
    );
  }

  async deleteObjects(bucket: string, keys: ObjectIdentifier[]): Promise<DeleteObjectsResult> {
    const result: DeleteObjectsResult = { deleted: [], errors: [] };
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.call(() =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((k) => ({ Key: k.key, VersionId: k.versionId })), Quiet: false },
          }),
        ),
      );
      for (const d of out.Deleted ?? []) {
        if (d.Key === undefined) continue;
        result.deleted.push(d.VersionId ? { key: d.Key, versionId: d.VersionId } : { key: d.Key });
      }
      for (const e of out.Errors ?? []) {
        result.errors.push({ key: e.Key ?? '', code: e.Code ?? 'Error', message: e.Message ?? '' });
      }
    }
    return result;
  }

  async copyObject(source: ObjectRef, target: ObjectRef, options: CopyOptions = {}): Promise<void> {
    const replace = options.metadata !== undefined || options.contentType !== undefined;
    // REPLACE drops every stored header; carry over from the source what the caller did not set.
    const current = replace ? await this.head(source.bucket, source.key, source.versionId) : undefined;
    await this.call(() =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          CopySource: copySource(source.bucket, source.key, source.versionId),
          ...(current
            ? {
                MetadataDirective: 'REPLACE',
                Metadata: options.metadata ?? current.Metadata ?? {},
                ContentType: options.contentType ?? current.ContentType,
                CacheControl: current.CacheControl,
                ContentDisposition: current.ContentDisposition,
                ContentEncoding: current.ContentEncoding,
                ContentLanguage: current.ContentLanguage,
              }
            : {}),
        }),
      ),
    );
  }

  // Tags and metadata

  async getObjectTagging(bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
    this.require('tagging', 'getObjectTagging');
    const out = await this.callOr(
      () => this.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      NO_TAGS,
      undefined,
    );
    return tagSetToTags(out?.TagSet);
  }

  async setObjectTagging(bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
    this.require('tagging', 'setObjectTagging');
    if (Object.keys(tags).length === 0 && !NO_TAGGING_HEADER.has(this.kind)) {
      await this.call(() =>
        this.client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId })),
      );
      return;
    }
    // An empty tag set also clears the tags where DeleteObjectTagging is missing.
    await this.call(() =>
      this.client.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          Tagging: { TagSet: tagsToTagSet(tags) },
        }),
      ),
    );
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
    const out = await this.call(() =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ContentType: options.contentType,
          Metadata: options.metadata,
        }),
      ),
    );
    if (!out.UploadId) throw new StowageError('backend_error', undefined, 'CreateMultipartUpload returned no UploadId');
    return out.UploadId;
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
    const out = await this.sendBody(body, size, (sized) => {
      if (this.reader) {
        const params = [param('partNumber', String(partNumber)), param('uploadId', uploadId)];
        return this.leanWrite(bucket, key, params, {}, sized, size);
      }
      return this.call(() =>
        this.client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: sized.body,
            ContentLength: size,
          }),
          { abortSignal: sized.signal },
        ),
      );
    });
    if (!out.ETag) throw new StowageError('backend_error', undefined, 'UploadPart returned no ETag');
    return out.ETag;
  }

  async uploadPartCopy(request: PartCopyRequest): Promise<string> {
    const { source, range, partNumber } = request;
    this.checkPartNumber(partNumber);
    let out;
    try {
      out = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: request.bucket,
          Key: request.key,
          UploadId: request.uploadId,
          PartNumber: partNumber,
          CopySource: copySource(source.bucket, source.key, source.versionId),
          CopySourceRange: `bytes=${range.start}-${range.end}`,
          CopySourceIfMatch: request.ifMatch,
        }),
      );
    } catch (err) {
      if (request.ifMatch && upstreamStatus(err) === 412) {
        throw new StowageError('conflict', undefined, `${source.key} changed during the copy`, { cause: err });
      }
      throw mapS3Error(err, { secrets: this.secrets });
    }
    const etag = out.CopyPartResult?.ETag;
    if (!etag) throw new StowageError('backend_error', undefined, 'UploadPartCopy returned no ETag');
    return etag;
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<ObjectInfo> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const out = await this.call(() =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      ),
    );
    // The answer carries no size, and some upstreams (Ceph RGW) an empty ETag: ask for both.
    const versionId = out.VersionId && out.VersionId !== 'null' ? out.VersionId : undefined;
    const info = objectInfoFrom(key, await this.head(bucket, key, versionId));
    if (!info.etag && out.ETag) info.etag = out.ETag;
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
    await this.call(() =>
      this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    );
  }

  async listMultipartUploads(bucket: string, prefix?: string): Promise<MultipartUpload[]> {
    this.require('multipart_management', 'listMultipartUploads');
    const uploads: MultipartUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const out = await this.call(() =>
        this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix || undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        ),
      );
      for (const u of out.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined) continue;
        uploads.push(
          u.Initiated
            ? { key: u.Key, uploadId: u.UploadId, initiated: u.Initiated }
            : { key: u.Key, uploadId: u.UploadId },
        );
      }
      if (!out.IsTruncated || (!out.NextKeyMarker && !out.NextUploadIdMarker)) break;
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
    return uploads;
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
    this.require('multipart_management', 'listParts');
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await this.call(() =>
        this.client.send(
          new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        ),
      );
      for (const p of out.Parts ?? []) {
        if (p.PartNumber === undefined) continue;
        const part: UploadedPart = { partNumber: p.PartNumber, etag: p.ETag ?? '', size: p.Size ?? 0 };
        if (p.LastModified) part.lastModified = p.LastModified;
        parts.push(part);
      }
      if (!out.IsTruncated || !out.NextPartNumberMarker || out.NextPartNumberMarker === marker) break;
      marker = out.NextPartNumberMarker;
    }
    return parts;
  }

  // Presigned URLs

  async presignGet(bucket: string, key: string, ttlSeconds: number): Promise<string> {
    checkTtl(ttlSeconds);
    return this.call(() =>
      getSignedUrl(this.signer(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttlSeconds }),
    );
  }

  async presignPut(bucket: string, key: string, ttlSeconds: number, contentType?: string): Promise<string> {
    checkTtl(ttlSeconds);
    // A content type is signed, so the upload must declare exactly that type.
    return this.call(() =>
      getSignedUrl(this.signer(), new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType }), {
        expiresIn: ttlSeconds,
        ...(contentType ? { signableHeaders: new Set(['content-type']) } : {}),
      }),
    );
  }

  /**
   * The client that signs URLs. With `when_supported` checksums the SDK would sign a CRC32 of an
   * empty body into presigned PUTs, which no real upload matches; signing always uses "when
   * required". Presigning sends nothing, so this client needs no connection pool.
   */
  private signer(): S3Client {
    if (this.config.checksums === 'when_required') return this.client;
    this.presignClient ??= this.buildClient('when_required', false);
    return this.presignClient;
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

  close(): void {
    this.client.destroy();
    this.presignClient?.destroy();
  }
}

function checkTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_SECONDS) {
    throw new StowageError('bad_request', undefined, `a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds`);
  }
}

/** Swallows the AbortError of a lean read's body released early (see `leanGet`). */
function ignoreReleased(): void {}

/** The answer to a conditional GET whose condition matched (304): headers only, no body. */
function notModified(key: string, err: unknown): ObjectStream {
  const headers = ((err as { $response?: { headers?: Record<string, string> } }).$response?.headers ?? {}) as Record<
    string,
    string | undefined
  >;
  const info: ObjectInfo = { key, size: 0 };
  if (headers.etag) info.etag = headers.etag;
  if (headers['last-modified']) {
    const date = new Date(headers['last-modified']);
    if (!Number.isNaN(date.getTime())) info.lastModified = date;
  }
  return { info, contentLength: 0, notModified: true, body: Readable.from([]) };
}

/** The SDK's body is an IncomingMessage under Node; anything else is adapted. */
function toNodeReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body && typeof (body as { transformToWebStream?: unknown }).transformToWebStream === 'function') {
    const web = (body as { transformToWebStream(): WebReadableStream }).transformToWebStream();
    return Readable.fromWeb(web);
  }
  return Readable.from([]);
}
