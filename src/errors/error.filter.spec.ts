import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { GlobalErrorFilter } from './error.filter';

describe('GlobalErrorFilter and dependency outages', () => {
  const logged: string[] = [];
  const logger = {
    warn: (_obj: unknown, msg: string) => logged.push(`warn ${msg}`),
    error: (_obj: unknown, msg: string) => logged.push(`error ${msg}`),
  } as unknown as Logger;
  const filter = new GlobalErrorFilter(logger);
  const request = { id: 'req-1' } as FastifyRequest;
  const render = (err: unknown) => filter.render(err, request);

  beforeEach(() => (logged.length = 0));

  it('answers a PostgreSQL connection failure 503 store_unavailable with Retry-After, never echoing it', () => {
    const driverError = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    const rendered = render(new QueryFailedError('SELECT secret FROM t', [], driverError));
    expect([rendered.status, rendered.body.error.code, rendered.retryAfter]).toEqual([503, 'store_unavailable', 5]);
    expect(rendered.body.error.message).toMatch(/database/i);
    expect(JSON.stringify(rendered.body)).not.toMatch(/SELECT|administrator/);
    expect(logged).toEqual(['warn dependency unavailable']);
  });

  it('answers a Redis connection failure and a refused connection the same way', () => {
    for (const err of [
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('timeout exceeded when trying to connect'), {}),
    ]) {
      const rendered = render(err);
      expect([rendered.status, rendered.body.error.code, rendered.retryAfter]).toEqual([503, 'store_unavailable', 5]);
    }
  });

  it('renders an outage StowageError with its own code at 503', () => {
    const rendered = render(StowageError.outage('session_error', 'Cannot sign in right now.'));
    expect([rendered.status, rendered.body.error.code, rendered.retryAfter]).toEqual([503, 'session_error', 5]);
  });

  it('still answers anything else 500 internal', () => {
    const rendered = render(new QueryFailedError('INSERT', [], Object.assign(new Error('dup'), { code: '23505' })));
    expect([rendered.status, rendered.body.error.code, rendered.retryAfter]).toEqual([500, 'internal', undefined]);
  });
});
