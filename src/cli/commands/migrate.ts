import { StowageConfig } from '@stowage/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../database/data-source-options';
import { revertLastMigrationLocked, runMigrationsLocked } from '../../database/migrate';
import { ENTITIES } from '../../entities';
import { createLogger } from '../../logging/logger';

/** Applies pending migrations (or reverts the latest) and exits; safe beside running replicas. */
export async function migrate(config: StowageConfig, options: { revert: boolean }): Promise<void> {
  const logger = createLogger(config.log);
  const dataSource = await new DataSource(dataSourceOptions(config.db, ENTITIES)).initialize();
  try {
    if (options.revert) {
      await revertLastMigrationLocked(dataSource);
      logger.info('reverted the most recent migration');
    } else {
      const applied = await runMigrationsLocked(dataSource);
      logger.info(
        { migrations: applied.map((m) => m.name) },
        applied.length ? 'migrations applied' : 'schema is up to date',
      );
    }
  } finally {
    await dataSource.destroy();
  }
}
