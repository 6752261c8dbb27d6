import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { AuditModule } from '../audit/audit.module';
import { coreModules } from '../core-modules';
import { JobsModule } from '../jobs/jobs.module';
import { SecretsModule } from '../secrets/secrets.module';

/** The background workers and what they need, without the HTTP listeners (`stowage worker`). */
@Module({})
export class WorkerModule {
  static forRoot(config: StowageConfig, env: Record<string, string | undefined>, logger: Logger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [...coreModules(config, env, logger), SecretsModule, AuditModule, JobsModule.forRoot({ workers: true })],
    };
  }
}
