import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisService } from '../redis/redis.service';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async ping(key: string, timeoutMs: number) {
    const check = this.indicator.check(key);
    try {
      await this.redis.ping(timeoutMs);
      return check.up();
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}
