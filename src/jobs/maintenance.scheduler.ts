import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { StowageConfig } from '@stowage/config';
import { MetricsService } from '../metrics/metrics.service';
import { MaintenanceJob, PURGE_AUDIT_EVERY_MS, PURGE_SESSIONS_EVERY_MS, QueueName } from './queues';

/** Registers the recurring jobs; the scheduler id makes every replica register the same one. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
    private readonly config: StowageConfig,
    metrics: MetricsService,
  ) {
    metrics.gauge('stowage_queue_jobs', 'Jobs of each background queue, by state.', ['queue', 'state'], async (set) => {
      // A scrape must not fail (or hang) because Redis is away: the series are then left out.
      const counts = await Promise.race([
        this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => undefined),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref()),
      ]);
      for (const [state, n] of Object.entries(counts ?? {})) set({ queue: QueueName.Maintenance, state }, n);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      MaintenanceJob.PurgeExpiredSessions,
      { every: PURGE_SESSIONS_EVERY_MS },
      { name: MaintenanceJob.PurgeExpiredSessions, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    // Every replica registers (or removes) the same scheduler: the last configuration started wins.
    if (this.config.audit.retention > 0) {
      await this.queue.upsertJobScheduler(
        MaintenanceJob.PurgeAuditEvents,
        { every: PURGE_AUDIT_EVERY_MS },
        { name: MaintenanceJob.PurgeAuditEvents, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    } else {
      await this.queue.removeJobScheduler(MaintenanceJob.PurgeAuditEvents);
    }
  }
}
