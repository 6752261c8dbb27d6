import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { FixedWindow } from '../redis/fixed-window';
import { RedisService } from '../redis/redis.service';

/**
 * `ratelimit.share_per_ip` requests per `share_window` per client address on every public
 * share route, counted in Redis so all replicas share one budget. Fails open when Redis cannot
 * answer: it protects capacity. The wrong-password limit, which protects secrets, fails closed.
 */
@Injectable()
export class ShareRateLimitGuard implements CanActivate {
  private readonly window: FixedWindow;

  constructor(
    private readonly config: StowageConfig,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.window = new FixedWindow(redis.client, config.ratelimit.share_per_ip, config.ratelimit.share_window);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { share_per_ip, share_window } = this.config.ratelimit;
    if (share_per_ip === 0) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    let wait: number;
    try {
      wait = await this.window.take(this.redis.key('ratelimit', 'share', request.ip));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'share rate limiter unavailable; request allowed');
      return true;
    }
    if (wait > 0)
      throw StowageError.rateLimited(
        wait / 1000,
        `limit of ${share_per_ip} requests per ${share_window / 1000}s to share links from this address`,
      );
    return true;
  }
}
