import type { ModuleMetadata } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { createApp, listen } from '../../bootstrap';
import { createLogger } from '../../logging/logger';
import { tuneHeapGrowth } from '../../runtime/heap-growth';
import { VERSION } from '../../version';

export interface ServeOptions {
  env: Record<string, string | undefined>;
  imports?: ModuleMetadata['imports'];
}

/**
 * Runs the service until SIGTERM or SIGINT, then drains: no new connections, in-flight
 * requests finish, connections close. Past `server.shutdown_timeout` the process exits 1.
 */
export async function serve(config: StowageConfig, options: ServeOptions): Promise<void> {
  tuneHeapGrowth();
  const logger = createLogger(config.log);
  const app = await createApp({ config, env: options.env, logger, imports: options.imports });
  const address = await listen(app, config);
  logger.info({ version: VERSION, listen: `${address.host}:${address.port}` }, 'stowage is listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.server.shutdown_timeout }, 'shutting down: draining in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown timeout reached; exiting with requests still in flight');
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
