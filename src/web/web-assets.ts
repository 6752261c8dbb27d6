import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { StowageConfig } from '@stowage/config';
import { resolveWebDir } from './web-app';

/**
 * `/assets/*`: the app's content-hashed files, cached by browsers for a year without asking again
 * (a new build has new names). An unknown asset is a 404 `not_found`, never the app's page.
 */
export async function registerWebAssets(app: NestFastifyApplication, config: StowageConfig): Promise<void> {
  const root = join(resolveWebDir(config.server.web_dir), 'assets');
  if (!existsSync(root)) return;
  await app.register(fastifyStatic, {
    root,
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: '365d',
    immutable: true,
    etag: true,
    lastModified: false,
  });
}
