import { Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { Semaphore, SemaphoreTimeoutError } from '@stowage/concurrency';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';

/** argon2id profile: 64 MiB, 3 passes, 2 lanes (OWASP's minimum for argon2id). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 2 } as const;

/** Longest password accepted anywhere; hashing cost must not be chosen by the caller. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Hashes and verifies passwords with argon2id, never more at once than configured: each run
 * takes about 64 MiB, so excess callers wait briefly and then get `rate_limited`.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly slots: Semaphore;
  /** Verified against when the user does not exist, so both cases cost the same. */
  private decoyHash = '';

  constructor(config: StowageConfig) {
    const { max_concurrent, max_queue, max_wait } = config.auth.hashing;
    this.slots = new Semaphore(max_concurrent, max_queue, max_wait);
  }

  async onModuleInit(): Promise<void> {
    this.decoyHash = await argon2.hash('stowage-decoy-password', ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => argon2.hash(password, ARGON2_OPTIONS));
  }

  /** False for a wrong password or an unusable hash; never throws for either. */
  verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const usable = typeof hash === 'string' && hash.startsWith('$argon2');
    const target = usable ? hash : this.decoyHash;
    return this.bounded(async () => {
      try {
        const ok = await argon2.verify(target, password.slice(0, MAX_PASSWORD_LENGTH));
        return usable && ok;
      } catch {
        return false;
      }
    });
  }

  /** Spends the same time as a real verification (for unknown users). */
  async verifyDecoy(password: string): Promise<false> {
    await this.verify(undefined, password);
    return false;
  }

  private async bounded<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.slots.run(task);
    } catch (err) {
      if (err instanceof SemaphoreTimeoutError)
        throw StowageError.rateLimited(1, 'password hashing is saturated; retry shortly');
      throw err;
    }
  }
}
