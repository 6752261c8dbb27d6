import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
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

  it.each(['23505', '42P01', '08006', '57P01'])(
    'leaves other database errors (SQLSTATE %s) to 500 internal',
    (code) => {
      const rendered = filter.render(queryFailed(code, 'some database text'), request);
      expect([rendered.status, rendered.body.error.code]).toEqual([500, 'internal']);
      expect(JSON.stringify(rendered.body)).not.toContain('some database text');
    },
  );
});
