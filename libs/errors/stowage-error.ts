import { ERROR_CATALOGUE, ErrorCode } from './catalogue';

export interface StowageErrorOptions {
  /** Overrides the catalogue status where the catalogue allows several (e.g. backend_error 500/502). */
  status?: number;
  /** Seconds a client should wait before retrying; rendered as `Retry-After`. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A domain error with a catalogue code. Services and libraries throw it; the HTTP layer alone
 * decides how it is rendered. `detail` is shown to the caller, so it must never carry a secret.
 */
export class StowageError extends Error {
  readonly status: number;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail = '',
    options: StowageErrorOptions = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'StowageError';
    this.status = options.status ?? ERROR_CATALOGUE[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
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
