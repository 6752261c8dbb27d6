import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { FixedWindow } from '../redis/fixed-window';
import { RedisService } from '../redis/redis.service';

/**
 * The per-client-IP limit on password attempts, shared by every replica. A slot is taken
 * before the password is checked (so a burst cannot overshoot) and given back when the login
 * succeeds: only failures count against an address.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly window: FixedWindow;

  constructor(
    private readonly config: StowageConfig,
    private readonly redis: RedisService,
  ) {
    const { login_per_ip, login_window } = config.ratelimit;
    this.window = new FixedWindow(redis.client, login_per_ip, login_window);
  }

  private keyOf(scope: string, ip: string): string {
    return this.redis.key('ratelimit', scope, ip);
  }

  async take(scope: string, ip: string): Promise<void> {
    if (this.config.ratelimit.login_per_ip === 0) return;
    const wait = await this.window.take(this.keyOf(scope, ip));
    if (wait > 0) throw StowageError.rateLimited(wait / 1000, 'too many failed sign-in attempts from this address');
  }

  async giveBack(scope: string, ip: string): Promise<void> {
    if (this.config.ratelimit.login_per_ip === 0) return;
    await this.window.giveBack(this.keyOf(scope, ip));
  }
}
