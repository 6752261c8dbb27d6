import { NestFactory } from '@nestjs/core';
import { StowageConfig } from '@stowage/config';
import { createLogger, NestPinoLogger } from '../../logging/logger';
import { VERSION } from '../../version';
import { WorkerModule } from '../worker.module';

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
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing running jobs');
    const deadline = setTimeout(() => {
      logger.error('shutdown timeout reached; exiting with jobs still running');
      logger.flush(() => process.exit(1));
    }, config.server.shutdown_timeout);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('shutdown complete');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
