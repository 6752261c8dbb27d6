import type { Readable } from 'node:stream';
import type { ListedUpload, ListedVersion } from '@stowage/s3-xml';

/**
 * The one seam between every dashboard feature and an upstream S3-compatible service. Every
 * handler that touches storage goes through it; drivers live in `drivers/`. Bodies are
 * streams both ways: no method ever holds a whole object in memory.
 *
 * Drivers throw `StowageError`s: `not_found` for a missing bucket/object/upload,
 * `not_supported` for an operation outside `capabilities`, `bad_range` for an unsatisfiable
 * range, `conflict` for a bucket that is not empty or already exists, and `backend_error`
 * (with the upstream's message in `detail`) for anything else the upstream refused.
 */
export interface Backend {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: Capabilities;

  listBuckets(signal?: AbortSignal): Promise<BucketSummary[]>;
  createBucket(name: string, region?: string): Promise<void>;
  deleteBucket(name: string): Promise<void>;
  headBucket(name: string): Promise<void>;

  getBucketVersioning(bucket: string): Promise<boolean>;
  setBucketVersioning(bucket: string, enabled: boolean): Promise<void>;
  getBucketCors(bucket: string): Promise<CorsRule[]>;
  setBucketCors(bucket: string, rules: CorsRule[]): Promise<void>;
  getBucketPolicy(bucket: string): Promise<string>;
  setBucketPolicy(bucket: string, policy: string): Promise<void>;
  deleteBucketPolicy(bucket: string): Promise<void>;
  getBucketLifecycle(bucket: string): Promise<LifecycleRule[]>;
  setBucketLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void>;

  listObjects(request: ListObjectsRequest, signal?: AbortSignal): Promise<ListObjectsResult>;
  /** Opens an object for reading; `range` is inclusive on both ends. */
  getObject(bucket: string, key: string, options?: GetObjectOptions): Promise<ObjectStream>;
  headObject(bucket: string, key: string, versionId?: string): Promise<ObjectInfo>;
  listObjectVersions(bucket: string, keyPrefix: string): Promise<ObjectVersion[]>;
  putObject(request: PutObjectRequest): Promise<ObjectInfo>;
  deleteObject(bucket: string, key: string, versionId?: string): Promise<void>;
  deleteObjects(bucket: string, keys: ObjectIdentifier[]): Promise<DeleteObjectsResult>;
  /** Server-side copy within this backend. */
  copyObject(source: ObjectRef, target: ObjectRef, options?: CopyOptions): Promise<void>;

  getObjectTagging(bucket: string, key: string, versionId?: string): Promise<Record<string, string>>;
  /** An empty map removes every tag. */
  setObjectTagging(bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void>;
  /** Rewrites the user metadata in place (a self-copy on S3). */
  updateObjectMetadata(bucket: string, key: string, metadata: Record<string, string>): Promise<void>;

  createMultipart(
    bucket: string,
    key: string,
    options?: { contentType?: string; metadata?: Record<string, string> },
  ): Promise<string>;
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number,
  ): Promise<string>;
  /**
   * Fills one part of a multipart upload with a byte range of an existing object of this backend,
   * server side (UploadPartCopy); answers the part's ETag.
   */
  uploadPartCopy(request: PartCopyRequest): Promise<string>;
  completeMultipart(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<ObjectInfo>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
  listMultipartUploads(bucket: string, prefix?: string): Promise<MultipartUpload[]>;
  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]>;

  presignGet(bucket: string, key: string, ttlSeconds: number): Promise<string>;
  presignPut(bucket: string, key: string, ttlSeconds: number, contentType?: string): Promise<string>;

  /** A cheap call that proves the upstream answers with these credentials. */
  probe(timeoutMs: number): Promise<void>;
  /** Releases connections. */
  close(): void;
}

export type AdminApi = '' | 'minio' | 'garage' | 'seaweedfs';

/** What a backend can do; the dashboard hides what is false, the API answers `not_supported`. */
export interface Capabilities {
  versioning: boolean;
  object_lock: boolean;
  lifecycle: boolean;
  bucket_policy: boolean;
  cors: boolean;
  tagging: boolean;
  server_side_encrypt: boolean;
  /** ListParts, ListMultipartUploads and AbortMultipartUpload (resumable uploads). */
  multipart_management: boolean;
  /** Ranges of the form `bytes=-N`. */
  suffix_ranges: boolean;
  admin_api: AdminApi;
  max_multipart_parts: number;
  max_part_size_bytes: number;
}

export interface BucketSummary {
  name: string;
  createdAt?: Date;
}

export interface CorsRule {
  allowed_origins: string[];
  allowed_methods: string[];
  allowed_headers?: string[];
  expose_headers?: string[];
  max_age_seconds?: number;
}

export interface LifecycleRule {
  id?: string;
  prefix?: string;
  enabled: boolean;
  expiration_days?: number;
  noncurrent_expire_days?: number;
  abort_incomplete_days?: number;
  transition_days?: number;
  transition_storage_class?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  contentType?: string;
  storageClass?: string;
  versionId?: string;
  lastModified?: Date;
  metadata?: Record<string, string>;
}

export interface ListObjectsRequest {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  continuationToken?: string;
  maxKeys?: number;
}

export interface ListObjectsResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

export interface ByteRange {
  /** First byte; for a suffix range (`bytes=-N`) leave undefined and set `suffixLength`. */
  start?: number;
  /** Last byte, inclusive; undefined means "to the end". */
  end?: number;
  suffixLength?: number;
}

export interface GetObjectOptions {
  versionId?: string;
  range?: ByteRange;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
  signal?: AbortSignal;
}

export interface ObjectStream {
  info: ObjectInfo;
  /** The bytes sent (the range, when one was asked for). */
  contentLength: number;
  /** `bytes start-end/total` when a range was served. */
  contentRange?: string;
  /** True when a conditional header matched and no body follows (304). */
  notModified?: boolean;
  body: Readable;
}

export interface PutObjectRequest {
  bucket: string;
  key: string;
  body: Readable;
  /** Exact length of `body`. */
  size: number;
  contentType?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  /** Refuse (409 `object_exists`) when the key already exists. */
  ifNoneMatch?: boolean;
  /**
   * With `ifNoneMatch`: the caller has just looked and found no object at `key`, so a driver whose
   * upstream may ignore `If-None-Match` does not look again (the header is still sent).
   */
  absenceChecked?: boolean;
}

/** A version or a delete marker: what S3's ListObjectVersions lists of each. */
export type ObjectVersion = ListedVersion;

export interface ObjectIdentifier {
  key: string;
  versionId?: string;
}

export interface DeleteObjectsResult {
  deleted: ObjectIdentifier[];
  errors: { key: string; code: string; message: string }[];
}

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface CopyOptions {
  /** Replace the user metadata instead of copying it. */
  metadata?: Record<string, string>;
  contentType?: string;
}

export interface PartCopyRequest {
  source: ObjectRef;
  /** Inclusive bounds within the source. */
  range: { start: number; end: number };
  /** Refuse (`conflict`) when the source's ETag is no longer this one. */
  ifMatch?: string;
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface UploadedPart extends CompletedPart {
  size: number;
  lastModified?: Date;
}

/** An upload in progress: what S3's ListMultipartUploads lists of each. */
export type MultipartUpload = ListedUpload;
