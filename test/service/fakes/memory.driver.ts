import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { StowageError } from '@stowage/errors';
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
} from '../../../src/storage-backends/backend';
import {
  CapabilityFlag,
  FULL_CAPABILITIES,
  requireCapability,
} from '../../../src/storage-backends/drivers/capabilities';
import { isSuffixRange, resolveRange } from '../../../src/storage-backends/drivers/range';

export interface MemoryDriverOptions {
  id?: string;
  name?: string;
  /** Merged over every capability on (admin_api '', AWS's multipart limits). */
  capabilities?: Partial<Capabilities>;
}

interface StoredObject {
  data: Buffer;
  etag: string;
  contentType?: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  lastModified: Date;
}

interface StoredPart {
  data: Buffer;
  etag: string;
  lastModified: Date;
}

interface Upload {
  bucket: string;
  key: string;
  contentType?: string;
  metadata: Record<string, string>;
  parts: Map<number, StoredPart>;
  initiated: Date;
}

interface StoredBucket {
  createdAt: Date;
  objects: Map<string, StoredObject>;
  versioning: boolean;
  cors: CorsRule[];
  policy: string;
  lifecycle: LifecycleRule[];
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const clone = <T>(value: T): T => structuredClone(value);
const DEFAULT_MAX_KEYS = 1000;

/**
 * An in-memory backend for unit tests of logic above the driver seam. TEST ONLY: unlike every
 * real driver it collects request bodies into Buffers, which the Backend contract otherwise
 * forbids. Semantics are deliberately simple: versions are not kept (the versioning flag is only
 * remembered, and each object lists as its single `null` version), and conditions and ranges
 * follow S3's rules. Operations whose capability is off answer `not_supported`.
 */
export class MemoryDriver implements Backend {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: Capabilities;
  private readonly buckets = new Map<string, StoredBucket>();
  private readonly uploads = new Map<string, Upload>();
  private closed = false;

  constructor(options: MemoryDriverOptions = {}) {
    this.id = options.id ?? 'memory';
    this.displayName = options.name ?? this.id;
    this.capabilities = Object.freeze({ ...FULL_CAPABILITIES, ...options.capabilities });
  }

  /** True once {@link close} ran (lets tests check that owners release their drivers). */
  get isClosed(): boolean {
    return this.closed;
  }

  private require(flag: CapabilityFlag, operation: string): void {
    requireCapability(this.capabilities, flag, operation);
  }

  private bucket(name: string): StoredBucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new StowageError('not_found', undefined, `NoSuchBucket: ${name}`);
    return bucket;
  }

  private object(bucketName: string, key: string, versionId?: string): StoredObject {
    const object = this.bucket(bucketName).objects.get(key);
    if (!object || (versionId !== undefined && versionId !== 'null')) {
      throw new StowageError('not_found', undefined, `NoSuchKey: ${bucketName}/${key}`);
    }
    return object;
  }

  private upload(bucket: string, key: string, uploadId: string): Upload {
    this.bucket(bucket);
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new StowageError('not_found', undefined, `NoSuchUpload: ${uploadId}`);
    }
    return upload;
  }

  private info(key: string, object: StoredObject): ObjectInfo {
    const info: ObjectInfo = {
      key,
      size: object.data.length,
      etag: object.etag,
      storageClass: 'STANDARD',
      lastModified: object.lastModified,
      metadata: { ...object.metadata },
    };
    if (object.contentType) info.contentType = object.contentType;
    return info;
  }

  // Buckets

  async listBuckets(): Promise<BucketSummary[]> {
    return [...this.buckets.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, b]) => ({ name, createdAt: b.createdAt }));
  }

  async createBucket(name: string): Promise<void> {
    if (this.buckets.has(name)) throw new StowageError('conflict', undefined, `BucketAlreadyOwnedByYou: ${name}`);
    this.buckets.set(name, {
      createdAt: new Date(),
      objects: new Map(),
      versioning: false,
      cors: [],
      policy: '',
      lifecycle: [],
    });
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name);
    const pending = [...this.uploads.values()].some((u) => u.bucket === name);
    if (bucket.objects.size > 0 || pending) throw new StowageError('conflict', undefined, `BucketNotEmpty: ${name}`);
    this.buckets.delete(name);
  }

  async headBucket(name: string): Promise<void> {
    this.bucket(name);
  }

  // Bucket settings

  async getBucketVersioning(bucket: string): Promise<boolean> {
    this.require('versioning', 'getBucketVersioning');
    return this.bucket(bucket).versioning;
  }

  async setBucketVersioning(bucket: string, enabled: boolean): Promise<void> {
    this.require('versioning', 'setBucketVersioning');
    this.bucket(bucket).versioning = enabled;
  }

  async getBucketCors(bucket: string): Promise<CorsRule[]> {
    this.require('cors', 'getBucketCors');
    return clone(this.bucket(bucket).cors);
  }

  async setBucketCors(bucket: string, rules: CorsRule[]): Promise<void> {
    this.require('cors', 'setBucketCors');
    this.bucket(bucket).cors = clone(rules);
  }

  async getBucketPolicy(bucket: string): Promise<string> {
    this.require('bucket_policy', 'getBucketPolicy');
    return this.bucket(bucket).policy;
  }

  async setBucketPolicy(bucket: string, policy: string): Promise<void> {
    this.require('bucket_policy', 'setBucketPolicy');
    try {
      JSON.parse(policy);
    } catch {
      throw new StowageError('backend_error', undefined, 'MalformedPolicy: the policy is not JSON', { status: 502 });
    }
    this.bucket(bucket).policy = policy;
  }

  async deleteBucketPolicy(bucket: string): Promise<void> {
    this.require('bucket_policy', 'deleteBucketPolicy');
    this.bucket(bucket).policy = '';
  }

  async getBucketLifecycle(bucket: string): Promise<LifecycleRule[]> {
    this.require('lifecycle', 'getBucketLifecycle');
    return clone(this.bucket(bucket).lifecycle);
  }

  async setBucketLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void> {
    this.require('lifecycle', 'setBucketLifecycle');
    this.bucket(bucket).lifecycle = clone(rules);
  }

  // Objects

  async listObjects(request: ListObjectsRequest): Promise<ListObjectsResult> {
    const bucket = this.bucket(request.bucket);
    const prefix = request.prefix ?? '';
    const delimiter = request.delimiter ?? '';
    const maxKeys = Math.min(DEFAULT_MAX_KEYS, Math.max(1, Math.floor(request.maxKeys ?? DEFAULT_MAX_KEYS)));
    const after = request.continuationToken ? decodeToken(request.continuationToken) : undefined;

    const result: ListObjectsResult = { objects: [], commonPrefixes: [], isTruncated: false };
    let last: ListPosition | undefined;
    let count = 0;
    for (const key of [...bucket.objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      // Resume after the last entry of the previous page, and past every key a prefix rolled up.
      if (after && (key <= after.entry || (after.isPrefix && key.startsWith(after.entry)))) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const entry = cut >= 0 ? key.slice(0, cut + delimiter.length) : key;
      if (last?.isPrefix && entry === last.entry) continue;
      if (count === maxKeys) {
        result.isTruncated = true;
        result.nextContinuationToken = encodeToken(last!);
        break;
      }
      if (cut >= 0) result.commonPrefixes.push(entry);
      else result.objects.push(this.info(key, bucket.objects.get(key)!));
      last = { entry, isPrefix: cut >= 0 };
      count++;
    }
    for (const object of result.objects) delete object.metadata;
    return result;
  }

  async getObject(bucket: string, key: string, options: GetObjectOptions = {}): Promise<ObjectStream> {
    if (options.range && isSuffixRange(options.range)) this.require('suffix_ranges', 'getObject with a suffix range');
    if (options.signal?.aborted) throw new StowageError('backend_error', undefined, 'the request was aborted');
    const object = this.object(bucket, key, options.versionId);
    const info = this.info(key, object);

    if (options.ifMatch !== undefined && !etagMatches(options.ifMatch, object.etag)) {
      throw preconditionFailed();
    }
    if (options.ifUnmodifiedSince && wholeSeconds(object.lastModified) > wholeSeconds(options.ifUnmodifiedSince)) {
      throw preconditionFailed();
    }
    if (options.ifNoneMatch !== undefined) {
      if (etagMatches(options.ifNoneMatch, object.etag)) return notModified(info);
    } else if (options.ifModifiedSince && wholeSeconds(object.lastModified) <= wholeSeconds(options.ifModifiedSince)) {
      return notModified(info);
    }

    if (!options.range) {
      return { info, contentLength: object.data.length, body: Readable.from([object.data]) };
    }
    const { start, end } = resolveRange(options.range, object.data.length);
    const slice = object.data.subarray(start, end + 1);
    return {
      info,
      contentLength: slice.length,
      contentRange: `bytes ${start}-${end}/${object.data.length}`,
      body: Readable.from([slice]),
    };
  }

  async headObject(bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
    return this.info(key, this.object(bucket, key, versionId));
  }

  async listObjectVersions(bucket: string, keyPrefix: string): Promise<ObjectVersion[]> {
    this.require('versioning', 'listObjectVersions');
    const objects = this.bucket(bucket).objects;
    return [...objects.keys()]
      .filter((key) => key.startsWith(keyPrefix))
      .sort()
      .map((key) => {
        const o = objects.get(key)!;
        return {
          key,
          versionId: 'null',
          isLatest: true,
          isDeleteMarker: false,
          size: o.data.length,
          etag: o.etag,
          storageClass: 'STANDARD',
          lastModified: o.lastModified,
        };
      });
  }

  async putObject(request: PutObjectRequest): Promise<ObjectInfo> {
    const tags = request.tags ?? {};
    if (Object.keys(tags).length > 0) this.require('tagging', 'putObject with tags');
    const bucket = this.bucket(request.bucket);
    if (request.ifNoneMatch && bucket.objects.has(request.key)) {
      throw new StowageError('object_exists', undefined, `${request.bucket}/${request.key} already exists`);
    }
    const data = await collect(request.body, request.size);
    const object: StoredObject = {
      data,
      etag: `"${md5(data)}"`,
      contentType: request.contentType ?? 'application/octet-stream',
      metadata: { ...request.metadata },
      tags: { ...tags },
      lastModified: new Date(),
    };
    bucket.objects.set(request.key, object);
    return this.info(request.key, object);
  }

  async deleteObject(bucket: string, key: string, versionId?: string): Promise<void> {
    const objects = this.bucket(bucket).objects;
    if (versionId === undefined || versionId === 'null') objects.delete(key);
  }

  async deleteObjects(bucket: string, keys: ObjectIdentifier[]): Promise<DeleteObjectsResult> {
    this.bucket(bucket);
    const result: DeleteObjectsResult = { deleted: [], errors: [] };
    for (const id of keys) {
      await this.deleteObject(bucket, id.key, id.versionId);
      result.deleted.push(id.versionId ? { key: id.key, versionId: id.versionId } : { key: id.key });
    }
    return result;
  }

  async copyObject(source: ObjectRef, target: ObjectRef, options: CopyOptions = {}): Promise<void> {
    const from = this.object(source.bucket, source.key, source.versionId);
    const to = this.bucket(target.bucket);
    const replace = options.metadata !== undefined || options.contentType !== undefined;
    to.objects.set(target.key, {
      data: from.data,
      etag: from.etag,
      contentType: options.contentType ?? from.contentType,
      metadata: { ...(replace && options.metadata ? options.metadata : from.metadata) },
      tags: { ...from.tags },
      lastModified: new Date(),
    });
  }

  // Tags and metadata

  async getObjectTagging(bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
    this.require('tagging', 'getObjectTagging');
    return { ...this.object(bucket, key, versionId).tags };
  }

  async setObjectTagging(bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
    this.require('tagging', 'setObjectTagging');
    this.object(bucket, key, versionId).tags = { ...tags };
  }

  async updateObjectMetadata(bucket: string, key: string, metadata: Record<string, string>): Promise<void> {
    const object = this.object(bucket, key);
    object.metadata = { ...metadata };
    object.lastModified = new Date();
  }

  // Multipart uploads

  async createMultipart(
    bucket: string,
    key: string,
    options: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<string> {
    this.bucket(bucket);
    const uploadId = randomUUID();
    this.uploads.set(uploadId, {
      bucket,
      key,
      contentType: options.contentType,
      metadata: { ...options.metadata },
      parts: new Map(),
      initiated: new Date(),
    });
    return uploadId;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number,
  ): Promise<string> {
    const upload = this.upload(bucket, key, uploadId);
    const max = this.capabilities.max_multipart_parts;
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || (max > 0 && partNumber > max)) {
      throw new StowageError('bad_request', undefined, `part numbers run from 1 to ${max}, not ${partNumber}`);
    }
    const data = await collect(body, size);
    const etag = `"${md5(data)}"`;
    upload.parts.set(partNumber, { data, etag, lastModified: new Date() });
    return etag;
  }

  async uploadPartCopy(request: PartCopyRequest): Promise<string> {
    const upload = this.upload(request.bucket, request.key, request.uploadId);
    const max = this.capabilities.max_multipart_parts;
    const { partNumber, range, source } = request;
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || (max > 0 && partNumber > max)) {
      throw new StowageError('bad_request', undefined, `part numbers run from 1 to ${max}, not ${partNumber}`);
    }
    const object = this.object(source.bucket, source.key, source.versionId);
    if (request.ifMatch !== undefined && !etagMatches(request.ifMatch, object.etag)) {
      throw new StowageError('conflict', undefined, `${source.key} changed during the copy`);
    }
    if (range.start < 0 || range.end < range.start || range.end >= object.data.length) {
      throw new StowageError('bad_range', undefined, `bytes=${range.start}-${range.end} of ${object.data.length}`);
    }
    const data = Buffer.from(object.data.subarray(range.start, range.end + 1));
    const etag = `"${md5(data)}"`;
    upload.parts.set(partNumber, { data, etag, lastModified: new Date() });
    return etag;
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<ObjectInfo> {
    const upload = this.upload(bucket, key, uploadId);
    if (parts.length === 0) throw invalidPart('no parts were named');
    const chosen: StoredPart[] = [];
    let previous = 0;
    for (const part of parts) {
      if (part.partNumber <= previous) throw invalidPart('parts must be listed in ascending order');
      previous = part.partNumber;
      const stored = upload.parts.get(part.partNumber);
      if (!stored || stored.etag !== normaliseEtag(part.etag)) throw invalidPart(`part ${part.partNumber} is unknown`);
      chosen.push(stored);
    }
    const data = Buffer.concat(chosen.map((p) => p.data));
    const digest = createHash('md5')
      .update(Buffer.concat(chosen.map((p) => Buffer.from(p.etag.slice(1, -1), 'hex'))))
      .digest('hex');
    const object: StoredObject = {
      data,
      etag: `"${digest}-${chosen.length}"`,
      contentType: upload.contentType ?? 'application/octet-stream',
      metadata: upload.metadata,
      tags: {},
      lastModified: new Date(),
    };
    this.bucket(bucket).objects.set(key, object);
    this.uploads.delete(uploadId);
    return this.info(key, object);
  }

  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    this.require('multipart_management', 'abortMultipart');
    this.upload(bucket, key, uploadId);
    this.uploads.delete(uploadId);
  }

  async listMultipartUploads(bucket: string, prefix = ''): Promise<MultipartUpload[]> {
    this.require('multipart_management', 'listMultipartUploads');
    this.bucket(bucket);
    return [...this.uploads.entries()]
      .filter(([, u]) => u.bucket === bucket && u.key.startsWith(prefix))
      .map(([uploadId, u]) => ({ key: u.key, uploadId, initiated: u.initiated }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.getTime() - b.initiated.getTime()));
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
    this.require('multipart_management', 'listParts');
    const upload = this.upload(bucket, key, uploadId);
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, p]) => ({ partNumber, etag: p.etag, size: p.data.length, lastModified: p.lastModified }));
  }

  // Presigned URLs: not fetchable, but shaped like the real thing.

  async presignGet(bucket: string, key: string, ttlSeconds: number): Promise<string> {
    return this.presign('GET', bucket, key, ttlSeconds);
  }

  async presignPut(bucket: string, key: string, ttlSeconds: number, contentType?: string): Promise<string> {
    return this.presign('PUT', bucket, key, ttlSeconds, contentType);
  }

  private presign(method: string, bucket: string, key: string, ttlSeconds: number, contentType?: string): string {
    const url = new URL(
      `memory://${this.id}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`,
    );
    url.searchParams.set('method', method);
    url.searchParams.set('expires', String(Math.floor(Date.now() / 1000) + ttlSeconds));
    if (contentType) url.searchParams.set('content-type', contentType);
    return url.toString();
  }

  async probe(): Promise<void> {
    if (this.closed) throw new StowageError('backend_error', undefined, 'the driver is closed', { status: 502 });
  }

  close(): void {
    this.closed = true;
  }
}

/** Reads a whole body into memory, checking it has the announced length. Test driver only. */
async function collect(body: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    length += buffer.length;
    if (length > size) break;
    chunks.push(buffer);
  }
  if (length !== size) {
    throw new StowageError(
      'bad_request',
      undefined,
      `the body has ${length > size ? 'more' : length} bytes, not ${size}`,
    );
  }
  return Buffer.concat(chunks, length);
}

function normaliseEtag(etag: string): string {
  const bare = etag.trim().replace(/^W\//, '');
  return bare.startsWith('"') ? bare : `"${bare}"`;
}

function etagMatches(condition: string, etag: string): boolean {
  return condition
    .split(',')
    .map((c) => c.trim())
    .some((c) => c === '*' || normaliseEtag(c) === etag);
}

/** HTTP dates have whole seconds. */
const wholeSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function notModified(info: ObjectInfo): ObjectStream {
  return { info, contentLength: 0, notModified: true, body: Readable.from([]) };
}

function preconditionFailed(): StowageError {
  return new StowageError('backend_error', undefined, 'PreconditionFailed: a condition did not hold', { status: 502 });
}

function invalidPart(why: string): StowageError {
  return new StowageError('backend_error', undefined, `InvalidPart: ${why}`, { status: 502 });
}

/** Where a listing page ended: its last key or common prefix. */
interface ListPosition {
  entry: string;
  isPrefix: boolean;
}

const encodeToken = (position: ListPosition) =>
  Buffer.from(JSON.stringify([position.entry, position.isPrefix]), 'utf8').toString('base64url');

function decodeToken(token: string): ListPosition {
  try {
    const [entry, isPrefix] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof entry === 'string' && typeof isPrefix === 'boolean') return { entry, isPrefix };
  } catch {
    // answered below
  }
  throw new StowageError('bad_request', undefined, 'invalid continuation token');
}
