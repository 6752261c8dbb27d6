#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError, loadConfig, StowageConfig } from '@stowage/config';
import { DataSource } from 'typeorm';
import { createApp, listen } from './bootstrap';
import { parseArgs, ParsedArgs } from './cli/args';
import { dataSourceOptions } from './database/data-source-options';
import { revertLastMigrationLocked, runMigrationsLocked } from './database/migrate';
import { createLogger } from './logging/logger';
import { VERSION } from './version';

const HELP = `stowage ${VERSION}: one control plane in front of your S3-compatible storage

Usage: stowage [command] [--config FILE]

Commands:
  serve              run the dashboard API (default)
  migrate            apply pending database migrations and exit
  migrate --revert   revert the most recent migration and exit
  version            print the version

Options:
  --config FILE      YAML configuration (also STOWAGE_CONFIG)
  --help             show this help
`;

class UsageError extends Error {}

function configFor(args: ParsedArgs): StowageConfig {
  const path = typeof args.flags.config === 'string' ? args.flags.config : process.env.STOWAGE_CONFIG;
  if (args.flags.config === true) throw new UsageError('--config needs a file path');
  return loadConfig({ path: path || undefined, env: process.env });
}

async function serve(args: ParsedArgs): Promise<void> {
  const config = configFor(args);
  const logger = createLogger(config.log);
  const app = await createApp({ config, env: process.env, logger });
  const address = await listen(app, config);
  logger.info({ version: VERSION, listen: `${address.host}:${address.port}` }, 'stowage is listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.server.shutdown_timeout }, 'shutting down: draining in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown timeout reached; exiting with requests still in flight');
      process.exit(1);
    }, config.server.shutdown_timeout);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function migrate(args: ParsedArgs): Promise<void> {
  const config = configFor(args);
  const logger = createLogger(config.log);
  const dataSource = await new DataSource(dataSourceOptions(config.db)).initialize();
  try {
    if (args.flags.revert) {
      await revertLastMigrationLocked(dataSource);
      logger.info('reverted the most recent migration');
    } else {
      const applied = await runMigrationsLocked(dataSource);
      logger.info(
        { migrations: applied.map((m) => m.name) },
        applied.length ? 'migrations applied' : 'schema is up to date',
      );
    }
  } finally {
    await dataSource.destroy();
  }
}

const COMMANDS: Record<string, (args: ParsedArgs) => Promise<void>> = {
  serve,
  migrate,
  version: async () => {
    process.stdout.write(`${VERSION}\n`);
  },
};

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.flags.help || args.command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const command = COMMANDS[args.command];
  if (!command) throw new UsageError(`unknown command "${args.command}" (see --help)`);
  await command(args);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`stowage: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`stowage: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
