import type { CorsRule } from '../../storage-backends/backend';

/**
 * What a virtual credential may reach through the S3 proxy, in one of three forms:
 * - a bucket: `{backendId, bucket}`, every object of one bucket;
 * - a key prefix inside a bucket: `{backendId, bucket, keyPrefix: 'home/alice/'}`, only the
 *   objects under it (listings must name a prefix inside it);
 * - a namespace: `{backendId, bucket: 'team-a-', namespace: true}`, every bucket whose name
 *   starts with the prefix, which the credential may also create, configure and delete.
 */
export interface BucketScope {
  readonly backendId: string;
  /** The bucket's name; for a namespace, the bucket-name prefix (it ends with `-`). */
  readonly bucket: string;
  readonly namespace?: boolean;
  /** Confines the scope to keys under this prefix (ends with `/`); absent: the whole bucket. */
  readonly keyPrefix?: string;
}

/**
 * A virtual credential as the proxy sees it on its hot path. The secret is unsealed and lives
 * only in memory; it never leaves the process.
 */
export interface VirtualCredential {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly userId: string | null;
  readonly enabled: boolean;
  readonly expiresAt: Date | null;
  /** When it was minted: the creation date its synthesised ListBuckets gives each bucket. */
  readonly createdAt: Date;
  /** At most one scope matches any bucket name: the bucket name alone picks the backend. */
  readonly scopes: readonly BucketScope[];
}

/** A bucket opened for anonymous reads. Bucket names are unique across bindings. */
export interface AnonymousBinding {
  readonly backendId: string;
  readonly bucket: string;
  readonly mode: 'ReadOnly';
  readonly perSourceIpRps: number;
}

/** Lookups the proxy makes per request; answers are at most one second stale on any replica. */
/** Answers come synchronously when they are cached, as a promise when they must be looked up. */
export type MaybePromise<T> = T | Promise<T>;

export interface S3AccessDirectory {
  credential(accessKey: string): MaybePromise<VirtualCredential | undefined>;
  anonymousBinding(bucket: string): MaybePromise<AnonymousBinding | undefined>;
  bucketCors(backendId: string, bucket: string): MaybePromise<readonly CorsRule[] | undefined>;
  /** Records that a credential was used (throttled: at most one write per key per minute). */
  touch(accessKey: string): void;
}
