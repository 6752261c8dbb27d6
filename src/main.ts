#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError, loadConfig, StowageConfig } from '@stowage/config';
import { parseArgs, ParsedArgs } from './cli/args';
import { migrate } from './cli/commands/migrate';
import { serve } from './cli/commands/serve';
import { VERSION } from './version';

const HELP = `stowage ${VERSION}: one control plane in front of your S3-compatible storage

Usage: stowage [command] [options]

Commands:
  serve              run the dashboard API (default)
  migrate            apply pending database migrations and exit
  migrate --revert   revert the most recent migration and exit
  version            print the version

Options:
  --config FILE      YAML configuration (also STOWAGE_CONFIG)
  --help             show this help
`;

export class UsageError extends Error {}

function configFor(args: ParsedArgs): StowageConfig {
  if (args.flags.config === true) throw new UsageError('--config needs a file path');
  const path = typeof args.flags.config === 'string' ? args.flags.config : process.env.STOWAGE_CONFIG;
  return loadConfig({ path: path || undefined, env: process.env });
}

const COMMANDS: Record<string, (args: ParsedArgs) => Promise<void>> = {
  serve: (args) => serve(configFor(args), { env: process.env }),
  migrate: (args) => migrate(configFor(args), { revert: args.flags.revert === true }),
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

/** Prints one line for a failure the operator can fix and exits non-zero. */
export function exitOnError(err: unknown): never {
  const expected = err instanceof ConfigError || err instanceof UsageError;
  process.stderr.write(`stowage: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(expected ? 2 : 1);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch(exitOnError);
}
