import { dependencyOutage, OUTAGE_RETRY_AFTER_SECONDS } from './outage';
import { StowageError } from './stowage-error';

/** An error shaped like the ones node-postgres, TypeORM and ioredis throw (as observed). */
function failure(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

describe('dependencyOutage', () => {
  it.each([
    [
      'TypeORM QueryFailedError 57P01 (server shutting down)',
      failure('terminating connection due to administrator command', {
        name: 'QueryFailedError',
        code: '57P01',
        driverError: failure('x', { code: '57P01' }),
      }),
    ],
    ['SQLSTATE 57P03 (cannot connect now)', failure('the database system is starting up', { code: '57P03' })],
    ['SQLSTATE class 08', failure('connection failure', { code: '08006' })],
    ['pg: connection terminated unexpectedly', failure('Connection terminated unexpectedly')],
    ['pg: connection timeout', failure('Connection terminated due to connection timeout')],
    ['pg-pool: acquisition timeout', failure('timeout exceeded when trying to connect')],
    ['pg: client not queryable', failure('Client has encountered a connection error and is not queryable')],
    [
      'QueryFailedError wrapping ECONNRESET',
      failure('read ECONNRESET', {
        name: 'QueryFailedError',
        code: 'ECONNRESET',
        driverError: failure('read ECONNRESET', { code: 'ECONNRESET' }),
      }),
    ],
  ])('recognises a database outage: %s', (_what, err) => {
    expect(dependencyOutage(err)).toBe('database');
  });

  it.each([
    ['offline queue off', failure("Stream isn't writeable and enableOfflineQueue options is false")],
    ['connection closed', failure('Connection is closed.')],
    [
      'retries exhausted',
      failure('Reached the max retries per request limit (which is 1).', { name: 'MaxRetriesPerRequestError' }),
    ],
    ['command timeout', failure('Command timed out')],
  ])('recognises a cache outage: %s', (_what, err) => {
    expect(dependencyOutage(err)).toBe('cache');
  });

  it('recognises bare socket failures, also inside an AggregateError or a cause', () => {
    const refused = failure('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' });
    expect(dependencyOutage(refused)).toBe('unknown');
    expect(dependencyOutage(failure('connect ETIMEDOUT', { code: 'ETIMEDOUT' }))).toBe('unknown');
    expect(dependencyOutage(new AggregateError([refused], 'all attempts failed'))).toBe('unknown');
    expect(dependencyOutage(new Error('wrapped', { cause: failure('Connection is closed.') }))).toBe('cache');
  });

  it.each([
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'a unique violation',
      failure('duplicate key value violates unique constraint', { name: 'QueryFailedError', code: '23505' }),
    ],
    ['a data error', failure('invalid input syntax for type uuid', { name: 'QueryFailedError', code: '22P02' })],
    ['a statement timeout', failure('canceling statement due to statement timeout', { code: '57014' })],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
    ['a numeric code', failure('x', { code: 8006 })],
  ])('leaves anything else alone: %s', (_what, err) => {
    expect(dependencyOutage(err)).toBeUndefined();
  });

  it('stops on a cycle of causes', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(dependencyOutage(a)).toBeUndefined();
  });
});

describe('StowageError.outage', () => {
  it('answers 503 with Retry-After whatever the catalogue status of the code, keeping the code', () => {
    const cause = failure('Connection is closed.');
    const err = StowageError.outage('session_error', 'Cannot sign in right now.', cause);
    expect([err.code, err.status, err.retryAfterSeconds, err.outage, err.cause]).toEqual([
      'session_error',
      503,
      OUTAGE_RETRY_AFTER_SECONDS,
      true,
      cause,
    ]);
    expect(new StowageError('session_error').status).toBe(500);
    expect(new StowageError('session_error').outage).toBe(false);
    expect(
      new StowageError('session_error', undefined, '', { outage: true, retryAfterSeconds: 2 }).retryAfterSeconds,
    ).toBe(2);
  });
});
