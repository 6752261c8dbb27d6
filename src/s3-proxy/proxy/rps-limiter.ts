import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../logging/logging.module';
import { RedisService } from '../../redis/redis.service';

/**
 * Generic cell rate algorithm on the Redis clock, so every replica shares one budget per key.
 * KEYS: the key's theoretical arrival time (ms, fractional). ARGV: emission interval ms, burst.
 * Returns 0 when the request may go, else the ms to wait before the next one would.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local early = tat - now
if early > tolerance then return math.ceil(early - tolerance) end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
return 0
`;

type TakeCommand = (key: string, intervalMs: string, burst: number) => Promise<number>;

/**
 * Requests-per-second limits shared by every replica: a burst of one second's worth, then an
 * even rate. When Redis cannot answer, requests pass (the limits protect capacity; refusing
 * all traffic because the limiter is away would be worse) and the miss is logged.
 */
@Injectable()
export class RpsLimiter {
  private readonly take: TakeCommand;
  private lastWarning = 0;

  constructor(
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const client = redis.client as unknown as Record<string, TakeCommand> & typeof redis.client;
    if (typeof client.stowageRpsTake !== 'function') {
      redis.client.defineCommand('stowageRpsTake', { numberOfKeys: 1, lua: TAKE });
    }
    this.take = (key, interval, burst) => client.stowageRpsTake(key, interval, burst);
  }

  /** Seconds to wait before retrying, or 0 when the request may go. `rps` 0 means unlimited. */
  async acquire(name: string, rps: number): Promise<number> {
    if (!(rps > 0)) return 0;
    const interval = (1000 / rps).toFixed(3);
    const burst = Math.max(1, Math.ceil(rps));
    try {
      const waitMs = Number(await this.take(this.redis.key('s3rps', name), interval, burst));
      return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
    } catch (err) {
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.logger.warn(
          { err: (err as Error).message },
          'S3 proxy rate limiter unavailable; letting requests through',
        );
      }
      return 0;
    }
  }
}
