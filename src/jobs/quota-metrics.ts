import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { QuotaReservations } from '../quotas/quota-reservations.service';
import { QuotaStore } from '../quotas/quota-store';
import { SIZE_SCAN_QUEUE } from '../quotas/size-scan.jobs';
import { QueueName } from './queues';

/** Buckets reported per metric: the series stay bounded however many quotas there are. */
export const MAX_QUOTA_SERIES = 500;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;

/**
 * Quota and size metrics: usage, soft and hard caps of buckets with a quota (the first 500 by
 * backend and name, read from PostgreSQL when Prometheus scrapes), reservations refused by this
 * replica, scan durations and objects counted, and the depth of every job queue.
 */
@Injectable()
export class QuotaMetrics {
  readonly scanDuration: Histogram<'result'>;
  readonly scannedObjects: Counter;

  constructor(
    metrics: MetricsService,
    store: QuotaStore,
    reservations: QuotaReservations,
    @InjectQueue(SIZE_SCAN_QUEUE) sizeScans: Queue,
    @InjectQueue(QueueName.Maintenance) maintenance: Queue,
  ) {
    const registers = [metrics.registry];
    const usage = new Gauge({
      name: 'stowage_bucket_usage_bytes',
      help: 'Bytes counted in buckets that have a quota.',
      labelNames: ['backend', 'bucket'] as const,
      registers,
    });
    const soft = new Gauge({
      name: 'stowage_bucket_quota_soft_bytes',
      help: 'Soft quota of buckets that have one.',
      labelNames: ['backend', 'bucket'] as const,
      registers,
    });
    const hard = new Gauge({
      name: 'stowage_bucket_quota_hard_bytes',
      help: 'Hard quota of buckets that have one.',
      labelNames: ['backend', 'bucket'] as const,
      registers,
      async collect() {
        const rows = await store.allQuotas(MAX_QUOTA_SERIES).catch(() => []);
        usage.reset();
        soft.reset();
        hard.reset();
        for (const row of rows) {
          const labels = { backend: row.backendId, bucket: row.bucket };
          if (row.usedBytes !== null) usage.set(labels, row.usedBytes);
          if (row.softBytes !== null) soft.set(labels, row.softBytes);
          if (row.hardBytes !== null) hard.set(labels, row.hardBytes);
        }
      },
    });
    void hard;
    // Every refusal by a hard quota, API and proxy, by plane and backend (both bounded sets).
    reservations.onRefused(({ backendId, plane }) => metrics.quotaRefusals.inc({ plane, backend: backendId }));
    new Counter({
      name: 'stowage_quota_reservation_refusals_total',
      help: 'Writes refused because they would pass a hard quota (this replica).',
      registers,
      collect() {
        this.reset();
        this.inc(reservations.stats.refused);
      },
    });
    new Counter({
      name: 'stowage_quota_reservations_expired_bytes_total',
      help: 'Bytes of expired reservations (of replicas that stopped) released by this replica.',
      registers,
      collect() {
        this.reset();
        this.inc(reservations.stats.expiredBytes);
      },
    });
    this.scanDuration = new Histogram({
      name: 'stowage_size_scan_duration_seconds',
      help: 'Durations of bucket size scans run by this worker.',
      labelNames: ['result'] as const,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.scannedObjects = new Counter({
      name: 'stowage_size_scan_objects_total',
      help: 'Objects counted by size scans of this worker.',
      registers,
    });
    const queues = [sizeScans, maintenance];
    new Gauge({
      name: 'stowage_queue_jobs',
      help: 'Jobs in each BullMQ queue, by state.',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const queue of queues) {
          // A scrape must not fail (or hang) because Redis is away: the series are then left out.
          const counts = await Promise.race([
            queue.getJobCounts(...JOB_STATES).catch(() => undefined),
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref()),
          ]);
          if (!counts) continue;
          for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    });
  }

  scanFinished(ms: number, result: 'ok' | 'error'): void {
    this.scanDuration.observe({ result }, ms / 1000);
  }
}
