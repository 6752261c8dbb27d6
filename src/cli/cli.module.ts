import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { coreModules } from '../core-modules';

/** The services administrative commands need, without the HTTP server. */
@Module({})
export class CliModule {
  static forRoot(config: StowageConfig, env: Record<string, string | undefined>, logger: Logger): DynamicModule {
    return {
      module: CliModule,
      imports: [...coreModules(config, env, logger), AuditModule, AuthModule, AccountsModule],
    };
  }
}
