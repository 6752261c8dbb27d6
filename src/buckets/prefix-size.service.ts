import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { prefixProblem } from '@stowage/s3-naming';
import { LOGGER } from '../logging/logging.module';
import { BucketRef } from '../quotas/quota-store';
import { RedisService } from '../redis/redis.service';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { PrefixSizeDto } from './dto/quota.dto';

const PAGE = 1000;
/** Longest a walk holds the cross-replica lock; callers waiting on another replica's walk give up after it. */
const WALK_LOCK_MS = 120_000;
const WAIT_POLL_MS = 100;

/**
 * The bytes and objects under a prefix, walked with ListObjectsV2. An answer is kept in Redis for
 * `quotas.prefix_size_cache`; callers asking for the same prefix at once share one walk (in this
 * process through one promise, across replicas through a Redis lock whose holder fills the cache).
 */
@Injectable()
export class PrefixSizeService {
  private readonly walks = new Map<string, Promise<PrefixSizeDto>>();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly redis: RedisService,
    private readonly config: StowageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async size(ref: BucketRef, prefix: string): Promise<PrefixSizeDto> {
    const problem = prefixProblem(prefix);
    if (problem) throw new StowageError('invalid_prefix', undefined, `prefix: ${problem}`);
    const backend = this.registry.forBucket(ref);
    const id = Buffer.from(`${ref.backendId}/${ref.bucket}/${prefix}`).toString('base64url');
    const running = this.walks.get(id);
    if (running) return running;
    const walk = this.cachedOrWalk(id, () => this.walk(backend, ref.bucket, prefix)).finally(() =>
      this.walks.delete(id),
    );
    this.walks.set(id, walk);
    return walk;
  }

  private async cachedOrWalk(id: string, walk: () => Promise<PrefixSizeDto>): Promise<PrefixSizeDto> {
    const ttl = this.config.quotas.prefix_size_cache;
    if (ttl <= 0) return walk();
    const cacheKey = this.redis.key('prefix-size', id);
    const lockKey = this.redis.key('prefix-size-walk', id);
    const cached = await this.read(cacheKey);
    if (cached) return cached;
    const deadline = Date.now() + WALK_LOCK_MS;
    for (;;) {
      const locked = await this.redis.client.set(lockKey, '1', 'PX', WALK_LOCK_MS, 'NX').catch(() => 'OK');
      if (locked === 'OK') break;
      // Another replica walks this prefix: its answer lands in the cache.
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      const answer = await this.read(cacheKey);
      if (answer) return answer;
      if (Date.now() > deadline) break;
    }
    try {
      const result = await walk();
      await this.redis.client.set(cacheKey, JSON.stringify(result), 'PX', ttl).catch(() => undefined);
      return result;
    } finally {
      await this.redis.client.del(lockKey).catch(() => undefined);
    }
  }

  private async read(key: string): Promise<PrefixSizeDto | undefined> {
    const text = await this.redis.client.get(key).catch(() => null);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as PrefixSizeDto;
    } catch {
      return undefined;
    }
  }

  private async walk(
    backend: ReturnType<BackendRegistry['forBucket']>,
    bucket: string,
    prefix: string,
  ): Promise<PrefixSizeDto> {
    const started = Date.now();
    let bytes = 0;
    let count = 0;
    let token: string | undefined;
    do {
      const page = await backend.listObjects({ bucket, prefix, continuationToken: token, maxKeys: PAGE });
      for (const object of page.objects) {
        bytes += object.size;
        count++;
      }
      token = page.nextContinuationToken;
    } while (token);
    this.logger.debug({ bucket, count, ms: Date.now() - started }, 'prefix size walked');
    return { prefix, bytes, count, computed_at: new Date().toISOString() };
  }
}
