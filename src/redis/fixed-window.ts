import type Redis from 'ioredis';

/**
 * Takes a slot in the current window; refuses past the limit.
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

/** Gives a slot back, never below zero (the window may have rolled over in between). */
const GIVE_BACK = "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end";

/**
 * A fixed-window counter in Redis, shared by every replica: at most `limit` slots per `windowMs`
 * under one key. One script per call, so concurrent callers can never overshoot the limit.
 */
export class FixedWindow {
  constructor(
    private readonly client: Redis,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** 0 when a slot was taken; otherwise the milliseconds until the window ends. */
  async take(key: string): Promise<number> {
    return Number(await this.client.eval(TAKE_SLOT, 1, key, this.limit, this.windowMs));
  }

  async giveBack(key: string): Promise<void> {
    await this.client.eval(GIVE_BACK, 1, key);
  }
}
