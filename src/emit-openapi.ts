import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { loadConfig } from '@stowage/config';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { createLogger } from './logging/logger';
import { buildOpenApiDocument } from './docs/swagger';

/**
 * The OpenAPI document without a database, Redis or S3 server: Nest's preview mode scans the
 * module graph and the controllers' metadata but instantiates no provider, so nothing connects.
 * The version is fixed so that the document (and the web client's types generated from it) only
 * changes when the API does.
 */
export async function emitOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({ overrides: { log: { level: 'error' } } });
  const logger = createLogger(config.log);
  const app = await NestFactory.create(AppModule.forRoot({ config, env: {}, logger }), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app, '0');
  } finally {
    await app.close();
  }
}
