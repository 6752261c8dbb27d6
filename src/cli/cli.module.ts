import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { ENTITIES } from '../entities';
import { LoggingModule } from '../logging/logging.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';

/** The services administrative commands need, without the HTTP server. */
@Module({})
export class CliModule {
  static forRoot(config: StowageConfig, env: Record<string, string | undefined>, logger: Logger): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config, env),
        LoggingModule.forRoot(logger),
        MetricsModule,
        DatabaseModule.forRoot(ENTITIES),
        RedisModule,
        AuditModule,
        AuthModule,
        AccountsModule,
      ],
    };
  }
}
