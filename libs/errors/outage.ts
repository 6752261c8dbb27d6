/**
 * Recognises the failures that mean "a service Stowage depends on is away" (PostgreSQL or Redis
 * unreachable, restarting, failing over) as opposed to a bug or a bad request, so they can be
 * answered 503 with Retry-After instead of 500.
 */

/** Which dependency an outage error came from, when that can be told. */
export type Dependency = 'database' | 'cache' | 'unknown';

/** Seconds a client is told to wait before retrying after an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Socket-level failures to reach a server. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** SQLSTATE class 08 (connection exception) and 57P01-57P03 (admin/crash shutdown, cannot connect now). */
const PG_OUTAGE_STATE = /^(08[0-9A-Z]{3}|57P0[1-3])$/;

/** node-postgres and pg-pool failures that carry no code. */
const PG_MESSAGES = [
  'connection terminated',
  'timeout exceeded when trying to connect',
  'client has encountered a connection error',
  'client was closed and is not queryable',
  'cannot use a pool after calling end',
];

/** ioredis failures while the connection is down or flapping. */
const REDIS_MESSAGES = [
  'connection is closed',
  "stream isn't writeable",
  'reached the max retries per request limit',
  'command timed out',
];

const MAX_DEPTH = 5;

/**
 * The dependency behind `err` when it is a connection-class failure of PostgreSQL (TypeORM or
 * node-postgres errors, SQLSTATE 08xxx and 57P01-57P03, pool acquisition timeouts) or Redis
 * (ioredis "Connection is closed", offline-queue refusals, retries exhausted, command timeouts),
 * or a bare socket failure (ECONNREFUSED, ETIMEDOUT, ...); undefined for anything else. Looks
 * through `cause`, TypeORM's `driverError` and AggregateError's `errors`.
 */
export function dependencyOutage(err: unknown, depth = 0): Dependency | undefined {
  if (depth > MAX_DEPTH || err === null || typeof err !== 'object') return undefined;
  const e = err as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message.toLowerCase() : '';
  if (PG_OUTAGE_STATE.test(code) || PG_MESSAGES.some((m) => message.includes(m))) return 'database';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.includes(m))) return 'cache';
  for (const inner of [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = dependencyOutage(inner, depth + 1);
    if (found) return found === 'unknown' && e.driverError !== undefined ? 'database' : found;
  }
  if (SOCKET_CODES.has(code))
    return e.driverError !== undefined || name === 'QueryFailedError' ? 'database' : 'unknown';
  return undefined;
}

/** What an outage of `dependency` is called in a message to a caller. */
export function outageMessage(dependency: Dependency): string {
  switch (dependency) {
    case 'database':
      return 'The database is unavailable; please try again shortly.';
    case 'cache':
      return 'The cache (Redis) is unavailable; please try again shortly.';
    default:
      return 'The database or the cache is unavailable; please try again shortly.';
  }
}
