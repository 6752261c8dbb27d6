import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { MaintenanceJob, PURGE_SESSIONS_EVERY_MS, QueueName } from './queues';

/** Registers the recurring jobs; the scheduler id makes every replica register the same one. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QueueName.Maintenance) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      MaintenanceJob.PurgeExpiredSessions,
      { every: PURGE_SESSIONS_EVERY_MS },
      { name: MaintenanceJob.PurgeExpiredSessions, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }
}
