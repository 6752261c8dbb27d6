import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { generateRootKey, parseRootKey, Sealer } from '@stowage/crypto';
import { StowageError } from '@stowage/errors';
import { EnvService } from '../config/env.service';
import { LOGGER } from '../logging/logging.module';

export const ROOT_KEY_ENV = 'STOWAGE_SECRET_KEY';

/**
 * Holds the AES-256 root key that seals every stored secret. Taken from STOWAGE_SECRET_KEY,
 * else from `server.secret_key_file` (created with mode 0600 when missing), else absent: then
 * code that needs it answers 503 `secret_key_unset` and everything else keeps working.
 */
@Injectable()
export class RootKeyService {
  private readonly sealer?: Sealer;

  constructor(config: StowageConfig, env: EnvService, @Inject(LOGGER) logger: Logger) {
    const fromEnv = env.get(ROOT_KEY_ENV);
    const file = config.server.secret_key_file;
    if (fromEnv !== undefined) {
      this.sealer = new Sealer(parseRootKey(fromEnv));
    } else if (file) {
      this.sealer = new Sealer(RootKeyService.readOrCreate(file, logger));
    }
    if (this.sealer) logger.info({ fingerprint: this.sealer.fingerprint }, 'root key loaded');
    else
      logger.warn(
        `no root key (${ROOT_KEY_ENV} or server.secret_key_file): features that store secrets are unavailable`,
      );
  }

  get available(): boolean {
    return this.sealer !== undefined;
  }

  /** The sealer, or `secret_key_unset` when no key is configured. */
  require(): Sealer {
    if (!this.sealer)
      throw new StowageError('secret_key_unset', undefined, `set ${ROOT_KEY_ENV} or server.secret_key_file`);
    return this.sealer;
  }

  private static readOrCreate(file: string, logger: Logger): Buffer {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // 'wx' fails if another replica created the file in the meantime; then we read theirs.
      try {
        writeFileSync(file, `${generateRootKey().toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
        logger.warn({ file }, 'generated a new root key file; back it up: sealed secrets cannot be opened without it');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if ((statSync(file).mode & 0o077) !== 0)
      logger.warn({ file }, 'root key file is readable by group or others; chmod 600 it');
    return parseRootKey(readFileSync(file, 'utf8'));
  }
}
