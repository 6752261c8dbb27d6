import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { GlobalErrorFilter } from './error.filter';

function queryFailed(code: string, message: string): QueryFailedError {
  return new QueryFailedError('SELECT $1', ['secret-input'], Object.assign(new Error(message), { code }));
}

describe('GlobalErrorFilter and database errors', () => {
  const logged: { level: string; fields: Record<string, unknown> }[] = [];
  const logger = {
    error: (fields: Record<string, unknown>) => logged.push({ level: 'error', fields }),
    warn: (fields: Record<string, unknown>) => logged.push({ level: 'warn', fields }),
  } as unknown as Logger;
  const filter = new GlobalErrorFilter(logger);
  const request = { id: 'req-1' } as FastifyRequest;
  beforeEach(() => logged.splice(0));

  it.each([
    ['22P02', 'invalid input syntax for type uuid: "secret-input"'],
    ['22003', 'value "100000000000000000000" is out of range for type bigint'],
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22001', 'value too long for type character varying(64)'],
  ])('answers a data exception (SQLSTATE %s) 400 bad_request without the database text', (code, message) => {
    const rendered = filter.render(queryFailed(code, message), request);
    expect([rendered.status, rendered.body.error.code]).toEqual([400, 'bad_request']);
    expect(JSON.stringify(rendered.body)).not.toMatch(/secret-input|invalid input|out of range|UTF8|varying/);
    expect(logged.map((l) => l.level)).toEqual(['warn']);
    expect(logged[0].fields).not.toHaveProperty('err');
  });

  it.each(['23505', '42P01'])(
    'leaves other database errors (SQLSTATE %s, neither data nor connection) to 500 internal',
    (code) => {
      const rendered = filter.render(queryFailed(code, 'some database text'), request);
      expect([rendered.status, rendered.body.error.code]).toEqual([500, 'internal']);
      expect(JSON.stringify(rendered.body)).not.toContain('some database text');
    },
  );
});

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
