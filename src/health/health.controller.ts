import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../access/public.decorator';
import { RedisHealthIndicator } from './redis.health';

const PROBE_TIMEOUT_MS = 1000;

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** Liveness: the process answers. Depends on nothing, so an upstream hiccup never restarts a pod. */
  @Get('healthz')
  @Public()
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL and Redis answer within a second each. */
  @Get('readyz')
  @Public()
  @ApiOkResponse({
    schema: { example: { status: 'ready', checks: { database: { status: 'up' }, redis: { status: 'up' } } } },
  })
  @ApiServiceUnavailableResponse({
    schema: { example: { status: 'unavailable', checks: { redis: { status: 'down' } } } },
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      const result = await this.health.check([
        () => this.database.pingCheck('database', { timeout: PROBE_TIMEOUT_MS }),
        () => this.redis.ping('redis', PROBE_TIMEOUT_MS),
      ]);
      return { status: 'ready', checks: result.details };
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503).header('Cache-Control', 'no-store');
      return { status: 'unavailable', checks: (err.getResponse() as HealthCheckResult).details };
    }
  }
}
