#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError, loadConfig, StowageConfig } from '@stowage/config';
import { parseArgs, ParsedArgs } from './cli/args';
import { CommandError, createAdmin } from './cli/commands/create-admin';
import { hashPassword, readStdin } from './cli/commands/hash-password';
import { migrate } from './cli/commands/migrate';
import { serve } from './cli/commands/serve';
import { worker } from './cli/commands/worker';
import { VERSION } from './version';

const HELP = `stowage ${VERSION}: one control plane in front of your S3-compatible storage

Usage: stowage [command] [options]

Commands:
  serve              run the dashboard API, the S3 endpoint and the job workers (default)
  worker             run only the background job workers (size scans, housekeeping)
  create-admin       create a local admin and print its id
                       --username NAME --password PW (or --password=PW, or --password-stdin)
                       [--email ADDRESS] [--must-change-password]
  hash-password      print the argon2id hash of a password (for auth.static)
                       --password PW (or the password on standard input)
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

function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags[name];
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value === false ? undefined : value;
}

async function passwordFrom(args: ParsedArgs, stdinFlag: boolean): Promise<string> {
  const password = stringFlag(args, 'password') ?? (stdinFlag || !process.stdin.isTTY ? await readStdin() : undefined);
  if (!password) throw new UsageError('a password is required: --password PW or on standard input');
  return password;
}

const COMMANDS: Record<string, (args: ParsedArgs) => Promise<void>> = {
  serve: (args) => serve(configFor(args), { env: process.env }),
  worker: (args) => worker(configFor(args), process.env),
  'create-admin': async (args) => {
    const username = stringFlag(args, 'username');
    if (!username) throw new UsageError('--username is required');
    const id = await createAdmin(configFor(args), process.env, {
      username,
      password: await passwordFrom(args, args.flags['password-stdin'] === true),
      email: stringFlag(args, 'email'),
      mustChangePassword: args.flags['must-change-password'] === true,
    });
    process.stdout.write(`${id}\n`);
  },
  'hash-password': async (args) => {
    process.stdout.write(`${await hashPassword(await passwordFrom(args, true))}\n`);
  },
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
  const expected = err instanceof ConfigError || err instanceof UsageError || err instanceof CommandError;
  process.stderr.write(`stowage: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(expected ? 2 : 1);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch(exitOnError);
}
