import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DelayedError, Job, Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { LOGGER } from '../logging/logging.module';
import { QuotaReservations } from '../quotas/quota-reservations.service';
import { BucketRef, QuotaStore } from '../quotas/quota-store';
import { ScanBucketPayload, scanJobId, SIZE_SCAN_QUEUE, SizeScanJob } from '../quotas/size-scan.jobs';
import { RedisService } from '../redis/redis.service';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { closeWorker } from './close-worker';
import { QuotaMetrics } from './quota-metrics';

const PAGE = 1000;
/** A scan cut short (crash, restart) resumes from its saved position when retried within this. */
const RESUME_WITHIN_MS = 60 * 60_000;
/** Locks a running scan holds in Redis, renewed while it runs. */
const LOCK_MS = 30_000;
/** Scans of one bucket run one at a time by BullMQ's job id; this many buckets at once per worker. */
export const SCANS_PER_WORKER = 4;

/**
 * Takes a slot of `limit` in the sorted set `KEYS[1]` for member `ARGV[1]` until `ARGV[3]` (ms
 * since the epoch), after dropping slots that expired before `ARGV[2]`: 1 when taken, 0 when all
 * are in use.
 */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

/**
 * Counts buckets with ListObjectsV2, a page at a time, and replaces their usage with the result:
 * this corrects any drift (writes made upstream behind Stowage's back, deletes it could not
 * measure). One run per bucket cluster-wide (the job id, and a Redis lock against a stalled job
 * run twice), at most `quotas.scans_per_backend` per backend across all workers (slots in Redis;
 * a scan without one waits its turn as a delayed job). Progress is saved after every page, so a
 * scan whose worker died resumes where it stopped when BullMQ hands it out again. Setting the
 * final figures is idempotent.
 */
@Processor(SIZE_SCAN_QUEUE, { concurrency: SCANS_PER_WORKER })
export class SizeScanProcessor extends WorkerHost implements BeforeApplicationShutdown {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly store: QuotaStore,
    private readonly reservations: QuotaReservations,
    private readonly redis: RedisService,
    private readonly config: StowageConfig,
    private readonly metrics: QuotaMetrics,
    @InjectQueue(SIZE_SCAN_QUEUE) private readonly queue: Queue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await closeWorker(this.worker, this.redis, this.logger);
  }

  async process(job: Job, token?: string): Promise<unknown> {
    switch (job.name as SizeScanJob) {
      case SizeScanJob.ScanAll:
        return this.scanAll();
      case SizeScanJob.ScanBucket:
        return this.scanBucket(job as Job<ScanBucketPayload>, token);
      default:
        throw new UnrecoverableError(`unknown size scan job ${job.name}`);
    }
  }

  /** Enqueues a scan of every tracked bucket of every backend (one job per bucket, duplicates refused). */
  private async scanAll(): Promise<{ enqueued: number }> {
    let enqueued = 0;
    for (const { spec, backend } of this.registry.list()) {
      try {
        const [buckets, untracked] = await Promise.all([backend.listBuckets(), this.store.untrackedOf(spec.id)]);
        // Namespace bucket counts start again from what the upstream holds.
        await this.store
          .recountNamespaceBuckets(
            spec.id,
            buckets.map((b) => b.name),
          )
          .catch((err: Error) =>
            this.logger.warn({ backend: spec.id, err: err.message }, 'could not recount namespace buckets'),
          );
        const off = new Set(untracked.map((u) => u.bucket));
        const jobs = buckets
          .filter((b) => !off.has(b.name))
          .map((b) => ({
            name: SizeScanJob.ScanBucket,
            data: { backendId: spec.id, bucket: b.name, reason: 'schedule' as const },
            opts: { jobId: scanJobId(spec.id, b.name), removeOnComplete: true, removeOnFail: true },
          }));
        if (jobs.length > 0) await this.queue.addBulk(jobs);
        enqueued += jobs.length;
      } catch (err) {
        this.logger.warn({ backend: spec.id, err: (err as Error).message }, 'could not list buckets to scan');
      }
    }
    return { enqueued };
  }

  private async scanBucket(job: Job<ScanBucketPayload>, token: string | undefined): Promise<unknown> {
    const { backendId, bucket, reason } = job.data ?? ({} as ScanBucketPayload);
    if (typeof backendId !== 'string' || typeof bucket !== 'string') {
      throw new UnrecoverableError('a scan job needs backendId and bucket');
    }
    const ref: BucketRef = { backendId, bucket };
    const entry = this.registry.entry(backendId);
    if (!entry) return { skipped: 'no such backend' };
    if (reason !== 'recompute') {
      const tracking = await this.store.tracking(ref);
      if (tracking && !tracking.enabled) return { skipped: 'size tracking is off' };
    }
    const member = `${job.id}:${randomUUID()}`;
    const slotKey = this.redis.key('size-scan', 'slots', backendId);
    if (!(await this.takeSlot(slotKey, member))) {
      // Every slot of this backend is busy: try again shortly, without counting as a failure.
      await job.moveToDelayed(Date.now() + 1000 + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }
    const lockKey = this.redis.key('size-scan', 'lock', scanJobId(backendId, bucket));
    const locked = await this.redis.client.set(lockKey, member, 'PX', LOCK_MS, 'NX');
    if (locked !== 'OK') {
      await this.redis.client.zrem(slotKey, member).catch(() => undefined);
      return { skipped: 'another scan of this bucket is running' };
    }
    const renew = setInterval(() => {
      void this.takeSlot(slotKey, member).catch(() => undefined);
      void this.redis.client.pexpire(lockKey, LOCK_MS).catch(() => undefined);
    }, LOCK_MS / 3);
    const started = performance.now();
    try {
      const result = await this.count(ref, entry.backend, job);
      this.metrics.scanFinished(performance.now() - started, 'ok');
      return result;
    } catch (err) {
      this.metrics.scanFinished(performance.now() - started, 'error');
      const message = (err as Error).message ?? String(err);
      await this.store.failScan(ref, message).catch(() => undefined);
      this.logger.warn({ backend: backendId, bucket, err: message }, 'size scan failed');
      throw err;
    } finally {
      clearInterval(renew);
      await this.redis.client.zrem(slotKey, member).catch(() => undefined);
      // Only our own lock goes: compare and delete in one step.
      await this.redis.client
        .eval(
          `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
          1,
          lockKey,
          member,
        )
        .catch(() => undefined);
    }
  }

  private async count(
    ref: BucketRef,
    backend: ReturnType<BackendRegistry['get']>,
    job: Job,
  ): Promise<{ bytes: number; objects: number; resumed: boolean }> {
    const begun = await this.store.beginScan(ref, RESUME_WITHIN_MS);
    let { token, bytes, objects } = begun;
    const resumed = token !== null;
    if (resumed) this.logger.info({ bucket: ref.bucket, objects }, 'size scan resumes where it stopped');
    do {
      const page = await backend.listObjects({
        bucket: ref.bucket,
        continuationToken: token ?? undefined,
        maxKeys: PAGE,
      });
      for (const object of page.objects) bytes += object.size;
      objects += page.objects.length;
      this.metrics.scannedObjects.inc(page.objects.length);
      token = page.nextContinuationToken ?? null;
      if (token) {
        await this.store.scanProgress(ref, token, bytes, objects);
        await job.updateProgress({ objects, bytes }).catch(() => undefined);
      }
    } while (token);
    const durationMs = Date.now() - begun.startedAt.getTime();
    const result = await this.store.finishScan(ref, bytes, objects, durationMs);
    this.reservations.announceSoftCrossing(ref, result, { via: 'scan' });
    this.logger.info({ backend: ref.backendId, bucket: ref.bucket, bytes, objects, durationMs }, 'bucket size counted');
    return { bytes, objects, resumed };
  }

  private async takeSlot(key: string, member: string): Promise<boolean> {
    const now = Date.now();
    const taken = await this.redis.client.eval(
      TAKE_SLOT,
      1,
      key,
      member,
      now,
      now + LOCK_MS,
      this.config.quotas.scans_per_backend,
      LOCK_MS * 2,
    );
    return taken === 1;
  }
}
