import { DynamicModule, Global, Module } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { EnvService } from './env.service';

/** Makes the validated configuration injectable by its class: `constructor(config: StowageConfig)`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: StowageConfig, env: Record<string, string | undefined>): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: StowageConfig, useValue: config },
        { provide: EnvService, useValue: new EnvService(env) },
      ],
      exports: [StowageConfig, EnvService],
    };
  }
}
