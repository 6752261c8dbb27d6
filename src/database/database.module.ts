import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { dataSourceOptions, EntityList } from './data-source-options';
import { MigrationsOnBoot } from './migrations-on-boot';

/** The PostgreSQL connection, with the entities the app root names, and the migrations run at boot. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(entities: EntityList): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [StowageConfig],
          useFactory: (config: StowageConfig) => dataSourceOptions(config.db, entities),
          dataSourceFactory: async (options) => new DataSource(options!).initialize(),
        }),
      ],
      providers: [MigrationsOnBoot],
    };
  }
}
