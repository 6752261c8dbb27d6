import type { DataSourceOptions } from 'typeorm';
import { DbConfig } from '@stowage/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export function dataSourceOptions(db: DbConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    migrationsRun: false,
    logging: false,
    extra: { max: db.pool_size, connectionTimeoutMillis: 5000, application_name: 'stowage' },
  };
}
