import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { QuotasModule } from '../quotas/quotas.module';
import { SIZE_SCAN_QUEUE } from '../quotas/size-scan.jobs';
import { RedisService } from '../redis/redis.service';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { QuotaAuditTrail } from './quota-audit.trail';
import { QuotaMetrics } from './quota-metrics';
import { QueueName } from './queues';
import { SizeScanProcessor } from './size-scan.processor';
import { SizeScanScheduler } from './size-scan.scheduler';

export interface JobsOptions {
  /** Run the workers (processors) in this process; the queues and schedules are registered either way. */
  workers: boolean;
}

/**
 * Background work on BullMQ over the shared Redis (under the deployment's key prefix): session
 * housekeeping and bucket size scans. `serve` runs the workers unless `workers.enabled` is off;
 * `stowage worker` runs them alone. Workers stop taking jobs and finish the running one when the
 * process shuts down.
 */
@Module({})
export class JobsModule {
  static forRoot(options: JobsOptions): DynamicModule {
    const workers: Provider[] = options.workers ? [MaintenanceProcessor, SizeScanProcessor] : [];
    return {
      module: JobsModule,
      imports: [
        BullModule.forRootAsync({
          inject: [RedisService],
          useFactory: (redis: RedisService) => ({
            connection: redis.connectionOptions(),
            prefix: `${redis.prefix}bull`,
            defaultJobOptions: {
              attempts: 3,
              backoff: { type: 'exponential', delay: 5000 },
              removeOnComplete: 1000,
              removeOnFail: 1000,
            },
          }),
        }),
        BullModule.registerQueue({ name: QueueName.Maintenance }, { name: SIZE_SCAN_QUEUE }),
        AuthModule,
        QuotasModule,
        StorageBackendsModule,
      ],
      providers: [MaintenanceScheduler, SizeScanScheduler, QuotaMetrics, QuotaAuditTrail, ...workers],
    };
  }
}
