import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { LOGGER } from '../logging/logging.module';
import { runMigrationsLocked } from './migrate';

/** Brings the schema up to date before any other module starts using the database. */
@Injectable()
export class MigrationsOnBoot implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: StowageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.db.migrate_on_start) return;
    const applied = await runMigrationsLocked(this.dataSource);
    if (applied.length > 0) this.logger.info({ migrations: applied.map((m) => m.name) }, 'database migrations applied');
  }
}
