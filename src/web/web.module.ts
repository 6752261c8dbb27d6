import { Module } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { loadWebApp, resolveWebDir, WEB_APP } from './web-app';
import { WebController } from './web.controller';

/** Serves the dashboard's single-page app; its hashed assets are served by `registerWebAssets`. */
@Module({
  controllers: [WebController],
  providers: [
    {
      provide: WEB_APP,
      inject: [StowageConfig],
      useFactory: (config: StowageConfig) => loadWebApp(resolveWebDir(config.server.web_dir)),
    },
  ],
})
export class WebModule {}
