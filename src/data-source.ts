// Data source for the TypeORM CLI (`npm run migration:generate`); the service itself never uses it.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '@stowage/config';
import { dataSourceOptions } from './database/data-source-options';
import { ENTITIES } from './entities';

export default new DataSource(
  dataSourceOptions(loadConfig({ path: process.env.STOWAGE_CONFIG, env: process.env }).db, ENTITIES),
);
