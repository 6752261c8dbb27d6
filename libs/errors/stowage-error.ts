import { ERROR_CATALOGUE, ErrorCode } from './catalogue';
import { OUTAGE_RETRY_AFTER_SECONDS } from './outage';

export interface StowageErrorOptions {
  /** Overrides the catalogue status where the catalogue allows several (e.g. backend_error 500/502). */
  status?: number;
  /** Seconds a client should wait before retrying; rendered as `Retry-After`. */
  retryAfterSeconds?: number;
  /**
   * A dependency (database, cache) is away: answered 503 whatever the catalogue status, with
   * Retry-After (OUTAGE_RETRY_AFTER_SECONDS unless `retryAfterSeconds` says otherwise).
   */
  outage?: boolean;
  cause?: unknown;
}

/**
 * A domain error with a catalogue code. Services and libraries throw it; the HTTP layer alone
 * decides how it is rendered. `detail` is shown to the caller, so it must never carry a secret.
 */
export class StowageError extends Error {
  readonly status: number;
  readonly retryAfterSeconds?: number;
  /** Whether this error reports a dependency outage rather than a fault of the request or the code. */
  readonly outage: boolean;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail = '',
    options: StowageErrorOptions = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'StowageError';
    this.outage = options.outage === true;
    this.status = options.status ?? (this.outage ? 503 : ERROR_CATALOGUE[code].status);
    this.retryAfterSeconds = options.retryAfterSeconds ?? (this.outage ? OUTAGE_RETRY_AFTER_SECONDS : undefined);
  }

  /** `code` answered 503 with Retry-After because a dependency is away (`cause` is logged, not shown). */
  static outage(code: ErrorCode, message?: string, cause?: unknown): StowageError {
    return new StowageError(code, message, '', { outage: true, cause });
  }

  static rateLimited(retryAfterSeconds: number, detail = ''): StowageError {
    return new StowageError('rate_limited', undefined, detail, {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
    });
  }
}

export function isStowageError(err: unknown): err is StowageError {
  return err instanceof StowageError;
}
