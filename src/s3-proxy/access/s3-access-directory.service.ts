import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Semaphore, SemaphoreTimeoutError } from '@stowage/concurrency';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { isValidBucketName } from '@stowage/s3-naming';
import { MetricsService } from '../../metrics/metrics.service';
import { LOGGER } from '../../logging/logging.module';
import { RedisService } from '../../redis/redis.service';
import { RootKeyService } from '../../secrets/root-key.service';
import type { CorsRule } from '../../storage-backends/backend';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import { AnonymousBinding, BucketScope, MaybePromise, S3AccessDirectory, VirtualCredential } from './access.types';
import { credentialSecretContext, isIssuedAccessKeyShape } from './access-keys';
import { ExpiringCache } from './expiring-cache';
import { AccessChange, ChangeAnnouncer } from '../../change-announcer/change-announcer.service';

/** Longest an answer is served without asking PostgreSQL again, on any replica. */
export const DIRECTORY_TTL_MS = 1_000;
/**
 * Credentials in use are looked up again in the background, in one batch, before they expire:
 * requests on them never wait on PostgreSQL, and the one-second bound still holds.
 */
const RENEW_EVERY_MS = DIRECTORY_TTL_MS / 2;
const RENEW_USED_WITHIN_MS = 60_000;
const RENEW_MAX = 256;
const MAX_CREDENTIALS = 20_000;
const MAX_UNKNOWN_CREDENTIALS = 10_000;
const MAX_BUCKETS = 10_000;
/** Lookups this replica sends to PostgreSQL at once; the rest queue briefly, then are refused. */
const LOOKUP_CONCURRENCY = 8;
const LOOKUP_QUEUE = 2_000;
const LOOKUP_WAIT_MS = 2_000;
/** `last_used_at` is written at most this often per credential, across replicas. */
const TOUCH_INTERVAL_MS = 60_000;
const MAX_TOUCHED = 20_000;

interface CredentialRow {
  access_key: string;
  secret_key_sealed: Buffer;
  user_id: string | null;
  enabled: boolean;
  user_enabled: boolean;
  expires_at: Date | null;
  created_at: Date;
  scopes: Array<{ backend_id: string; bucket: string; kind: string; key_prefix: string | null }>;
}

const CREDENTIALS_SQL = `
  SELECT c.access_key, c.secret_key_sealed, c.user_id, c.enabled, c.expires_at, c.created_at,
         (u.id IS NULL OR u.enabled) AS user_enabled,
         COALESCE((SELECT json_agg(json_build_object('backend_id', s.backend_id, 'bucket', s.bucket, 'kind', s.kind, 'key_prefix', s.key_prefix) ORDER BY s.bucket)
                   FROM s3_credential_scopes s WHERE s.access_key = c.access_key), '[]'::json) AS scopes
    FROM s3_credentials c
    LEFT JOIN users u ON u.id = c.user_id
   WHERE c.access_key = ANY($1::text[])`;

const corsKey = (backendId: string, bucket: string) => `${backendId}\n${bucket}`;

/**
 * What the S3 proxy asks on every request: a virtual credential by access key id, the anonymous
 * binding of a bucket, a bucket's CORS rules. PostgreSQL holds the truth; answers (unknown keys
 * included) come from bounded in-process caches whose entries live at most one second, and every
 * change made on any replica is announced over Redis so it usually shows at once everywhere.
 *
 * While PostgreSQL cannot be asked (restart, failover), answers verified within
 * `s3_proxy.credential_grace` keep being served, so the data plane survives a routine database
 * outage: a change announced over Redis still removes an answer at once, and the proxy checks
 * `enabled` and `expiresAt` on every request. Anything else (a key never verified, or verified
 * too long ago) makes `credential()` reject rather than answer "unknown", or reject with
 * `rate_limited` when too many distinct keys are being looked up at once.
 */
@Injectable()
export class S3AccessDirectoryService implements S3AccessDirectory, OnModuleInit, OnModuleDestroy {
  private readonly lookups = new Semaphore(LOOKUP_CONCURRENCY, LOOKUP_QUEUE, LOOKUP_WAIT_MS);
  private readonly credentials: ExpiringCache<string, VirtualCredential | null>;
  private readonly anonymous: ExpiringCache<string, AnonymousBinding | null>;
  private readonly cors: ExpiringCache<string, readonly CorsRule[] | null>;
  private readonly touched = new Map<string, number>();
  private missingKeyWarned = false;
  private renewTimer?: NodeJS.Timeout;
  private renewing = false;
  private renewalFailing = false;

  constructor(
    config: StowageConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rootKey: RootKeyService,
    private readonly redis: RedisService,
    private readonly events: ChangeAnnouncer,
    private readonly registry: BackendRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    const isNegative = (value: unknown) => value === null;
    const graceMs = config.s3_proxy.credential_grace;
    this.credentials = new ExpiringCache(
      {
        ttlMs: DIRECTORY_TTL_MS,
        graceMs,
        maxEntries: MAX_CREDENTIALS,
        maxNegativeEntries: MAX_UNKNOWN_CREDENTIALS,
        isNegative,
        same: sameCredential,
      },
      async (accessKey) => (await this.loadCredentials([accessKey])).get(accessKey) ?? null,
    );
    this.anonymous = new ExpiringCache(
      { ttlMs: DIRECTORY_TTL_MS, graceMs, maxEntries: MAX_BUCKETS, maxNegativeEntries: MAX_BUCKETS, isNegative },
      (bucket) => this.loadAnonymous(bucket),
    );
    this.cors = new ExpiringCache(
      { ttlMs: DIRECTORY_TTL_MS, graceMs, maxEntries: MAX_BUCKETS, maxNegativeEntries: MAX_BUCKETS, isNegative },
      (key) => this.loadCors(key),
    );
    metrics.gauge('stowage_s3_credential_cache_size', 'Credentials (and refusals) in the S3 proxy cache.', [], (set) =>
      set({}, this.credentials.size),
    );
  }

  async onModuleInit(): Promise<void> {
    await this.events.listen((change) => this.forget(change));
    this.renewTimer = setInterval(() => void this.renewCredentials(), RENEW_EVERY_MS);
    this.renewTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.renewTimer);
  }

  private async renewCredentials(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const renewed = await this.credentials.renew((keys) => this.loadCredentials(keys), {
        olderThanMs: RENEW_EVERY_MS,
        usedWithinMs: RENEW_USED_WITHIN_MS,
        max: RENEW_MAX,
      });
      if (renewed > 0 && this.renewalFailing) this.logger.info('cached s3 credentials renewed again');
      if (renewed > 0) this.renewalFailing = false;
    } catch (err) {
      // The answers it would have renewed expire (or live on through their grace) and are looked
      // up again on their next use or renewal. Logged once per outage, not twice a second.
      if (!this.renewalFailing) {
        this.logger.warn(
          { err: (err as Error).message },
          'could not renew cached s3 credentials; serving them within their grace',
        );
      }
      this.renewalFailing = true;
    } finally {
      this.renewing = false;
    }
  }

  credential(accessKey: string): MaybePromise<VirtualCredential | undefined> {
    // Stowage issued every valid key, so anything else is unknown without a lookup.
    if (!isIssuedAccessKeyShape(accessKey)) return undefined;
    return orUndefined(this.credentials.get(accessKey));
  }

  anonymousBinding(bucket: string): MaybePromise<AnonymousBinding | undefined> {
    if (!isValidBucketName(bucket)) return undefined;
    return orUndefined(this.anonymous.get(bucket));
  }

  bucketCors(backendId: string, bucket: string): MaybePromise<readonly CorsRule[] | undefined> {
    return orUndefined(this.cors.get(corsKey(backendId, bucket)));
  }

  touch(accessKey: string): void {
    try {
      if (!isIssuedAccessKeyShape(accessKey)) return;
      const now = Date.now();
      const last = this.touched.get(accessKey);
      if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
      if (this.touched.size >= MAX_TOUCHED) this.touched.clear();
      this.touched.set(accessKey, now);
      this.recordUse(accessKey).catch((err: Error) =>
        this.logger.warn({ err: err.message, accessKey }, 'could not record s3 credential use'),
      );
    } catch {
      // Recording use is best effort and must never disturb the request.
    }
  }

  /** Drops what a change makes stale on this replica (the events service calls it). */
  forget(change: AccessChange): void {
    switch (change.kind) {
      case 'credential':
        this.credentials.invalidate(change.accessKey);
        break;
      case 'user':
        this.credentials.invalidateWhere((credential) => credential?.userId === change.userId);
        break;
      case 'anonymous':
        this.anonymous.invalidate(change.bucket);
        break;
      case 'cors':
        this.cors.invalidate(corsKey(change.backendId, change.bucket));
        break;
      case 'all':
        this.credentials.clear();
        this.anonymous.clear();
        this.cors.clear();
        break;
    }
  }

  private async recordUse(accessKey: string): Promise<void> {
    const key = this.redis.key('s3-credential', 'used', accessKey);
    const first = await this.redis.client.set(key, '1', 'PX', TOUCH_INTERVAL_MS, 'NX');
    if (first !== 'OK') return;
    await this.dataSource.query('UPDATE s3_credentials SET last_used_at = now() WHERE access_key = $1', [accessKey]);
  }

  private async query<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    try {
      return await this.lookups.run(() => this.dataSource.query<T[]>(sql, parameters));
    } catch (err) {
      if (err instanceof SemaphoreTimeoutError) throw StowageError.rateLimited(1, 'too many S3 access lookups at once');
      throw err;
    }
  }

  /** The credentials behind `accessKeys`: every key gets an answer, null when it is unknown or unusable. */
  private async loadCredentials(accessKeys: string[]): Promise<Map<string, VirtualCredential | null>> {
    const rows = await this.query<CredentialRow>(CREDENTIALS_SQL, [accessKeys]);
    const found = new Map<string, VirtualCredential | null>(accessKeys.map((key) => [key, null]));
    for (const row of rows) found.set(row.access_key, this.credentialOf(row));
    return found;
  }

  private credentialOf(row: CredentialRow): VirtualCredential | null {
    const accessKey = row.access_key;
    if (!this.rootKey.available) {
      if (!this.missingKeyWarned) this.logger.warn('s3 credentials cannot be opened without the root key');
      this.missingKeyWarned = true;
      return null;
    }
    let secretKey: string;
    try {
      secretKey = this.rootKey.require().openString(row.secret_key_sealed, credentialSecretContext(accessKey));
    } catch (err) {
      this.logger.error({ accessKey, err: (err as Error).message }, 'cannot open an s3 credential secret');
      return null;
    }
    const scopes: BucketScope[] = row.scopes.map(scopeOfRow);
    return {
      accessKey: row.access_key,
      secretKey,
      userId: row.user_id,
      enabled: row.enabled && row.user_enabled,
      expiresAt: row.expires_at,
      createdAt: row.created_at,
      scopes,
    };
  }

  private async loadAnonymous(bucket: string): Promise<AnonymousBinding | null> {
    const [row] = await this.query<{ backend_id: string; bucket: string; per_source_ip_rps: number }>(
      'SELECT backend_id, bucket, per_source_ip_rps FROM s3_anonymous_bindings WHERE bucket = $1 ORDER BY backend_id LIMIT 1',
      [bucket],
    );
    if (!row) return null;
    return { backendId: row.backend_id, bucket: row.bucket, mode: 'ReadOnly', perSourceIpRps: row.per_source_ip_rps };
  }

  /**
   * A bucket's CORS rules: those set in the dashboard; for a bucket inside some credential's
   * namespace without any, the bucket's own (upstream) rules, which its owner sets through the
   * proxy. Either way cached like every answer here, so a change shows within a second.
   */
  private async loadCors(key: string): Promise<readonly CorsRule[] | null> {
    const [backendId, bucket] = key.split('\n');
    const [row] = await this.query<{ rules: CorsRule[] }>(
      'SELECT rules FROM s3_bucket_cors WHERE backend_id = $1 AND bucket = $2',
      [backendId, bucket],
    );
    if (row) return row.rules;
    if (!isValidBucketName(bucket)) return null;
    const [namespace] = await this.query<{ found: number }>(
      `SELECT 1 AS found FROM s3_credential_scopes
        WHERE kind = 'namespace' AND backend_id = $1 AND starts_with($2, bucket) AND length($2) > length(bucket)
        LIMIT 1`,
      [backendId, bucket],
    );
    const backend = namespace ? this.registry.entry(backendId)?.backend : undefined;
    if (!backend) return null;
    try {
      const rules = await backend.getBucketCors(bucket);
      return rules.length > 0 ? rules : null;
    } catch {
      return null; // no configuration, or no bucket
    }
  }
}

/** Whether two answers for one access key say the same thing. */
function sameCredential(a: VirtualCredential | null, b: VirtualCredential | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.secretKey === b.secretKey &&
    a.userId === b.userId &&
    a.enabled === b.enabled &&
    (a.expiresAt?.getTime() ?? null) === (b.expiresAt?.getTime() ?? null) &&
    a.scopes.length === b.scopes.length &&
    a.scopes.every(
      (scope, i) =>
        scope.backendId === b.scopes[i].backendId &&
        scope.bucket === b.scopes[i].bucket &&
        scope.namespace === b.scopes[i].namespace &&
        scope.keyPrefix === b.scopes[i].keyPrefix,
    )
  );
}

function scopeOfRow(s: CredentialRow['scopes'][number]): BucketScope {
  if (s.kind === 'namespace') return { backendId: s.backend_id, bucket: s.bucket, namespace: true };
  if (s.key_prefix !== null) return { backendId: s.backend_id, bucket: s.bucket, keyPrefix: s.key_prefix };
  return { backendId: s.backend_id, bucket: s.bucket };
}

/** A cached "none" (null) as undefined, keeping a cache hit synchronous. */
function orUndefined<T>(answer: MaybePromise<T | null>): MaybePromise<T | undefined> {
  if (answer instanceof Promise) return answer.then((value) => value ?? undefined);
  return answer ?? undefined;
}
