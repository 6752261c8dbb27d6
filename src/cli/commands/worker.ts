import { NestFactory } from '@nestjs/core';
import { StowageConfig } from '@stowage/config';
import { createLogger, NestPinoLogger } from '../../logging/logger';
import { VERSION } from '../../version';
import { WorkerModule } from '../worker.module';
import { stopOnSignal } from './stop-on-signal';

/**
 * Runs the BullMQ workers (size scans, housekeeping) without the dashboard or S3 listeners, so
 * they can be scaled apart from `serve`. On SIGTERM or SIGINT the workers finish their running
 * jobs (within `server.shutdown_timeout`) and the process exits.
 */
export async function worker(config: StowageConfig, env: Record<string, string | undefined>): Promise<void> {
  const logger = createLogger(config.log);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, env, logger), {
    logger: new NestPinoLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  await app.init();
  logger.info({ version: VERSION }, 'stowage workers are running');
  stopOnSignal(app, logger, {
    timeoutMs: config.server.shutdown_timeout,
    draining: 'finishing running jobs',
    unfinished: 'jobs still running',
  });
}
