import type { ModuleMetadata } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ENTITIES } from './entities';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';

/**
 * The modules every process of Stowage starts with (the API, `stowage worker`, the administrative
 * commands): typed config, logging, metrics, PostgreSQL and Redis.
 */
export function coreModules(
  config: StowageConfig,
  env: Record<string, string | undefined>,
  logger: Logger,
): NonNullable<ModuleMetadata['imports']> {
  return [
    ConfigModule.forRoot(config, env),
    LoggingModule.forRoot(logger),
    MetricsModule,
    DatabaseModule.forRoot(ENTITIES),
    RedisModule,
  ];
}
