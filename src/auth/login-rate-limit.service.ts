import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { RedisService } from '../redis/redis.service';

/**
 * Takes a slot for one attempt in the current window; refuses past the limit.
 * KEYS: counter. ARGV: limit, window ms. Returns 0 when allowed, else ms until the window ends.
 */
const TAKE_SLOT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1 then ttl = 1 end
  return ttl
end
return 0
`;

/**
 * The per-client-IP limit on password attempts, shared by every replica. A slot is taken
 * before the password is checked (so a burst cannot overshoot) and given back when the login
 * succeeds: only failures count against an address.
 */
@Injectable()
export class LoginRateLimiter {
  constructor(
    private readonly config: StowageConfig,
    private readonly redis: RedisService,
  ) {}

  private keyOf(scope: string, ip: string): string {
    return this.redis.key('ratelimit', scope, ip);
  }

  async take(scope: string, ip: string): Promise<void> {
    const { login_per_ip, login_window } = this.config.ratelimit;
    if (login_per_ip === 0) return;
    const wait = Number(await this.redis.client.eval(TAKE_SLOT, 1, this.keyOf(scope, ip), login_per_ip, login_window));
    if (wait > 0) throw StowageError.rateLimited(wait / 1000, 'too many failed sign-in attempts from this address');
  }

  async giveBack(scope: string, ip: string): Promise<void> {
    if (this.config.ratelimit.login_per_ip === 0) return;
    const key = this.keyOf(scope, ip);
    // Never below zero, even if the window rolled over in between.
    await this.redis.client.eval(
      "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end",
      1,
      key,
    );
  }
}
