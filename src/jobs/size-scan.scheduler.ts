import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { LOGGER } from '../logging/logging.module';
import { SIZE_SCAN_QUEUE, SizeScanJob } from '../quotas/size-scan.jobs';

/**
 * Registers the repeatable count of every tracked bucket at `quotas.scan_interval` (the scheduler
 * id makes every replica register the same one); a negative interval removes it.
 */
@Injectable()
export class SizeScanScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(SIZE_SCAN_QUEUE) private readonly queue: Queue,
    private readonly config: StowageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const every = this.config.quotas.scan_interval;
    try {
      if (every <= 0) {
        await this.queue.removeJobScheduler(SizeScanJob.ScanAll);
        return;
      }
      await this.queue.upsertJobScheduler(
        SizeScanJob.ScanAll,
        { every },
        { name: SizeScanJob.ScanAll, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not register the size scan schedule');
    }
  }
}
