import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RedisService } from '../redis/redis.service';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { QueueName } from './queues';

/**
 * Background work on BullMQ over the shared Redis (under the deployment's key prefix). Workers
 * stop taking jobs and finish the running one when the process shuts down.
 */
@Module({
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
    BullModule.registerQueue({ name: QueueName.Maintenance }),
    AuthModule,
  ],
  providers: [MaintenanceProcessor, MaintenanceScheduler],
})
export class JobsModule {}
