import type { ModuleMetadata } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { createApp, listen } from '../../bootstrap';
import { createLogger } from '../../logging/logger';
import { tuneHeapGrowth } from '../../runtime/heap-growth';
import { VERSION } from '../../version';
import { stopOnSignal } from './stop-on-signal';

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

  stopOnSignal(app, logger, {
    timeoutMs: config.server.shutdown_timeout,
    draining: 'draining in-flight requests',
    unfinished: 'requests still in flight',
  });
}
