import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { SessionsService } from '../auth/sessions.service';
import { LOGGER } from '../logging/logging.module';
import { MaintenanceJob, QueueName } from './queues';

/** Housekeeping that any one replica may do: BullMQ hands each job to exactly one worker. */
@Processor(QueueName.Maintenance, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  async process(job: Job): Promise<{ purged: number }> {
    switch (job.name as MaintenanceJob) {
      case MaintenanceJob.PurgeExpiredSessions: {
        const purged = await this.sessions.purgeExpired();
        if (purged > 0) this.logger.info({ purged }, 'expired sessions purged');
        return { purged };
      }
      default:
        throw new UnrecoverableError(`unknown maintenance job ${job.name}`);
    }
  }
}
