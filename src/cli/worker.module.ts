import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { AuditModule } from '../audit/audit.module';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { ENTITIES } from '../entities';
import { JobsModule } from '../jobs/jobs.module';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';
import { SecretsModule } from '../secrets/secrets.module';

/** The background workers and what they need, without the HTTP listeners (`stowage worker`). */
@Module({})
export class WorkerModule {
  static forRoot(config: StowageConfig, env: Record<string, string | undefined>, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config, env),
        LoggingModule.forRoot(logger),
        MetricsModule,
        DatabaseModule.forRoot(ENTITIES),
        RedisModule,
        SecretsModule,
        AuditModule,
        JobsModule.forRoot({ workers: true }),
      ],
    };
  }
}
