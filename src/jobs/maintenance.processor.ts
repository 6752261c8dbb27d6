import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { AuditRetentionService } from '../audit/audit-retention.service';
import { SessionsService } from '../auth/sessions.service';
import { LOGGER } from '../logging/logging.module';
import { closeWorker } from './close-worker';
import { RedisService } from '../redis/redis.service';
import { MaintenanceJob, QueueName } from './queues';

/** Housekeeping that any one replica may do: BullMQ hands each job to exactly one worker. */
@Processor(QueueName.Maintenance, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost implements BeforeApplicationShutdown {
  constructor(
    private readonly sessions: SessionsService,
    private readonly redis: RedisService,
    private readonly auditRetention: AuditRetentionService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  /** Stops taking jobs and lets the running one finish (by force with Redis away). */
  async beforeApplicationShutdown(): Promise<void> {
    await closeWorker(this.worker, this.redis, this.logger);
  }

  async process(job: Job): Promise<{ purged: number }> {
    switch (job.name as MaintenanceJob) {
      case MaintenanceJob.PurgeExpiredSessions: {
        const purged = await this.sessions.purgeExpired();
        if (purged > 0) this.logger.info({ purged }, 'expired sessions purged');
        return { purged };
      }
      case MaintenanceJob.PurgeAuditEvents: {
        const { purged, batches } = await this.auditRetention.purge();
        if (purged > 0) this.logger.info({ purged, batches }, 'audit rows past retention purged');
        return { purged };
      }
      default:
        throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
    }
  }
}
