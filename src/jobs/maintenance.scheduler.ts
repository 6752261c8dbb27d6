import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { StowageConfig } from '@stowage/config';
import { MaintenanceJob, PURGE_AUDIT_EVERY_MS, PURGE_SESSIONS_EVERY_MS, QueueName } from './queues';

/** Registers the recurring jobs; the scheduler id makes every replica register the same one. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
    private readonly config: StowageConfig,
  ) {}

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
