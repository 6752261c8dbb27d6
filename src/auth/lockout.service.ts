import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { StowageConfig } from '@stowage/config';
import { RedisService } from '../redis/redis.service';

/**
 * Counts a failure; on reaching the limit, sets the lock for the window and resets the count.
 * KEYS: failures, lock. ARGV: max attempts, window ms. Returns 1 when this failure locked it.
 */
const RECORD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

export interface LockState {
  failedAttempts: number;
  lockedUntil: Date | null;
}

/**
 * Per-account lockout after repeated failed logins, shared by every replica through Redis. A
 * submitted username that names no local account is counted and locked under its own subject
 * ({@link LockoutService.unknownSubject}), so that lockout answers alike for names that exist and
 * names that do not.
 */
@Injectable()
export class LockoutService {
  constructor(
    private readonly config: StowageConfig,
    private readonly redis: RedisService,
  ) {}

  /** The lockout subject of a username that names no local account (hashed: bounded key size). */
  static unknownSubject(username: string): string {
    return `name:${createHash('sha256').update(username).digest('base64url')}`;
  }

  private keys(userId: string): [string, string] {
    return [this.redis.key('lockout', 'failures', userId), this.redis.key('lockout', 'locked', userId)];
  }

  /** Milliseconds until the account unlocks; 0 when it is not locked. */
  async lockedFor(userId: string): Promise<number> {
    const ttl = await this.redis.client.pttl(this.keys(userId)[1]);
    return ttl > 0 ? ttl : 0;
  }

  /** Records a failed attempt; true when this attempt locked the account. */
  async recordFailure(userId: string): Promise<boolean> {
    const { max_attempts, window } = this.config.auth.local.lockout;
    const locked = await this.redis.client.eval(RECORD_FAILURE, 2, ...this.keys(userId), max_attempts, window);
    return locked === 1;
  }

  async clear(userId: string): Promise<void> {
    await this.redis.client.del(...this.keys(userId));
  }

  async states(userIds: string[]): Promise<Map<string, LockState>> {
    const result = new Map<string, LockState>();
    if (userIds.length === 0) return result;
    const pipeline = this.redis.client.pipeline();
    for (const id of userIds) {
      const [failures, lock] = this.keys(id);
      pipeline.get(failures).pttl(lock);
    }
    const replies = (await pipeline.exec()) ?? [];
    userIds.forEach((id, i) => {
      const failures = Number(replies[i * 2]?.[1] ?? 0) || 0;
      const ttl = Number(replies[i * 2 + 1]?.[1] ?? -2);
      result.set(id, { failedAttempts: failures, lockedUntil: ttl > 0 ? new Date(Date.now() + ttl) : null });
    });
    return result;
  }
}
