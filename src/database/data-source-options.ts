import type { DataSourceOptions } from 'typeorm';
import { DbConfig } from '@stowage/config';
import { MIGRATIONS } from './migrations';

/** The schema's entities: the app root owns the list and hands it to the database module. */
export type EntityList = NonNullable<DataSourceOptions['entities']>;

export function dataSourceOptions(db: DbConfig, entities: EntityList): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    // gen_random_uuid() is built into PostgreSQL 13+, so no extension has to be installed.
    uuidExtension: 'pgcrypto',
    migrationsRun: false,
    logging: false,
    // A request waits at most two seconds for a connection while PostgreSQL is away (then it is
    // answered 503), and TCP keep-alive notices a server that vanished without closing the socket.
    extra: { max: db.pool_size, connectionTimeoutMillis: 2000, keepAlive: true, application_name: 'stowage' },
  };
}
