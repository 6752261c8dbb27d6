import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { AccountsModule } from './accounts/accounts.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BucketsModule } from './buckets/buckets.module';
import { coreModules } from './core-modules';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { DrainService } from './http/drain.service';
import { ObjectsModule } from './objects/objects.module';
import { PinsModule } from './pins/pins.module';
import { S3AccessModule } from './s3-proxy/access/s3-access.module';
import { S3ProxyModule } from './s3-proxy/proxy/s3-proxy.module';
import { SearchModule } from './search/search.module';
import { SecretsModule } from './secrets/secrets.module';
import { SharesModule } from './shares/shares.module';
import { StorageBackendsModule } from './storage-backends/storage-backends.module';
import { WebModule } from './web/web.module';

export interface AppModuleOptions {
  config: StowageConfig;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Extra modules (test-only routes in the end-to-end harness). */
  imports?: ModuleMetadata['imports'];
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...coreModules(options.config, options.env, options.logger),
        SecretsModule,
        AuditModule,
        HealthModule,
        AuthModule,
        AccountsModule,
        JobsModule.forRoot({ workers: options.config.workers.enabled }),
        StorageBackendsModule,
        ObjectsModule,
        BucketsModule,
        PinsModule,
        S3AccessModule,
        S3ProxyModule,
        SearchModule,
        SharesModule,
        DashboardModule,
        ...(options.imports ?? []),
        // Last: its wildcard route answers only what no other route does.
        WebModule,
      ],
      providers: [DrainService],
    };
  }
}
