import { NestFactory } from '@nestjs/core';
import { StowageConfig } from '@stowage/config';
import { isStowageError } from '@stowage/errors';
import { createLogger, NestPinoLogger } from '../../logging/logger';
import { UsersService } from '../../accounts/users.service';
import { CliModule } from '../cli.module';

export interface CreateAdminOptions {
  username: string;
  password: string;
  email?: string;
  mustChangePassword: boolean;
}

export class CommandError extends Error {}

/** Creates a local admin and prints its id. Refuses (exit 1) when the username is taken. */
export async function createAdmin(
  config: StowageConfig,
  env: Record<string, string | undefined>,
  options: CreateAdminOptions,
): Promise<string> {
  // Keep stdout for the result: log only warnings, to stderr.
  const logger = createLogger({ ...config.log, level: 'warn' }, process.stderr);
  const context = await NestFactory.createApplicationContext(CliModule.forRoot(config, env, logger), {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  try {
    const user = await context.get(UsersService).createLocal({
      username: options.username,
      email: options.email,
      password: options.password,
      role: 'admin',
      mustChangePassword: options.mustChangePassword,
    });
    return user.id;
  } catch (err) {
    if (isStowageError(err)) {
      const reason =
        err.code === 'username_taken'
          ? 'username already taken'
          : err.code === 'email_taken'
            ? 'email already taken'
            : err.message;
      throw new CommandError(`${err.code}: ${reason}`);
    }
    throw err;
  } finally {
    await context.close();
  }
}
