import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { EnvService } from '../config/env.service';
import { LOGGER } from '../logging/logging.module';
import { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';

/**
 * The break-glass admin defined in configuration. It has a users row (so sessions, audit and
 * ownership work as for anyone) but its password hash comes from the environment and the API
 * never changes it.
 */
@Injectable()
export class StaticAccountService implements OnModuleInit {
  private account?: UserEntity;

  constructor(
    private readonly config: StowageConfig,
    private readonly env: EnvService,
    private readonly users: UsersRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.config.auth.modes.includes('static') && this.config.auth.static.enabled;
  }

  get username(): string {
    return this.config.auth.static.username.toLowerCase();
  }

  get passwordHash(): string | undefined {
    return this.env.get(this.config.auth.static.password_hash_env);
  }

  /** The static account's users row, when static mode is on and usable. */
  get user(): UserEntity | undefined {
    return this.account;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    if (!this.passwordHash) {
      this.logger.error(
        { env: this.config.auth.static.password_hash_env },
        'static account: the password hash variable is empty',
      );
    }
    const existing = await this.users.findWithPasswordHash({ username: this.username });
    if (existing && existing.identitySource !== 'static') {
      this.logger.error(
        { username: this.username },
        'static account disabled: a non-static user already has its username',
      );
      return;
    }
    if (existing) {
      if (existing.role !== 'admin' || !existing.enabled)
        await this.users.update(existing.id, { role: 'admin', enabled: true });
      this.account = (await this.users.findById(existing.id)) ?? undefined;
      return;
    }
    try {
      this.account = await this.users.insert({
        username: this.username,
        role: 'admin',
        identitySource: 'static',
        passwordHash: '',
      });
    } catch {
      // Another replica created it at the same moment.
      this.account = (await this.users.findWithPasswordHash({ username: this.username })) ?? undefined;
    }
  }
}
