import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { RedisService } from '../redis/redis.service';

/**
 * `ratelimit.api_per_minute` per session across all of /api, counted in Redis so every
 * replica shares the budget. If Redis cannot answer, requests are let through (fail open):
 * the limit protects capacity, not data, and sessions already fall back to PostgreSQL.
 */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  @Inject(RedisService) private readonly redis!: RedisService;
  @Inject(LOGGER) private readonly log!: Logger;

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return !request.identity || !request.url.startsWith('/api/');
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return (request as unknown as FastifyRequest).identity!.sessionId;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return this.redis.key('ratelimit', name, tracker);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (err) {
      if (err instanceof StowageError) throw err;
      this.log.warn({ err: (err as Error).message }, 'rate limiter unavailable; request allowed');
      return true;
    }
  }

  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw StowageError.rateLimited(
      detail.timeToBlockExpire,
      `limit of ${detail.limit} requests per minute for this session`,
    );
  }
}
