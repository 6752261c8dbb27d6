import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { dataSourceOptions } from './data-source-options';
import { MigrationsOnBoot } from './migrations-on-boot';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [StowageConfig],
      useFactory: (config: StowageConfig) => dataSourceOptions(config.db),
      dataSourceFactory: async (options) => new DataSource(options!).initialize(),
    }),
  ],
  providers: [MigrationsOnBoot],
})
export class DatabaseModule {}
