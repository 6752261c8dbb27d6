import { dependencyOutage, OUTAGE_RETRY_AFTER_SECONDS, RefusalError, StowageError } from '@stowage/errors';
import { isSigV4Error } from '@stowage/sigv4';

/** S3 error codes the proxy itself answers with, and their HTTP status. */
export const PROXY_ERROR_STATUS = {
  AccessDenied: 403,
  BadGateway: 502,
  BucketAlreadyOwnedByYou: 409,
  /** A write that would take its bucket past the hard quota Stowage keeps (507, as the reference answers). */
  EntityTooLarge: 507,
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidRequest: 400,
  InvalidURI: 400,
  MalformedXML: 400,
  MissingContentLength: 411,
  NotImplemented: 501,
  ServiceUnavailable: 503,
  SlowDown: 429,
  /** A CreateBucket in a namespace that already holds its `max_buckets`. */
  TooManyBuckets: 400,
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERROR_STATUS;

/** Why the proxy refused a request, as metrics and the audit log name it. */
export type RefusalReason =
  | 'unknown_access_key'
  | 'bad_signature'
  | 'disabled'
  | 'expired'
  | 'bad_authorization_format'
  | 'time_skew'
  | 'invalid_request'
  | 'scope_violation'
  | 'operation_refused'
  | 'rate_limited'
  | 'disabled_globally'
  | 'no_binding'
  | 'operation_not_allowed'
  | 'upstream_unavailable'
  | 'quota_exceeded'
  | 'store_unavailable';

/** A refusal rendered as an S3 XML error. */
export class S3ProxyError extends RefusalError {
  readonly status: number;
  readonly code: ProxyErrorCode;
  readonly reason?: RefusalReason;
  readonly options: { retryAfterSeconds?: number; extra?: Record<string, string> };

  constructor(
    code: ProxyErrorCode,
    message: string,
    reason?: RefusalReason,
    options: { retryAfterSeconds?: number; extra?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'S3ProxyError';
    this.code = code;
    this.reason = reason;
    this.options = options;
    this.status = PROXY_ERROR_STATUS[code];
  }
}

/** The S3 code, status and extra fields of any error the request pipeline can raise. */
export function describeError(err: unknown): {
  code: string;
  status: number;
  message: string;
  extra?: Readonly<Record<string, string>>;
  retryAfterSeconds?: number;
} {
  if (err instanceof S3ProxyError) {
    return {
      code: err.code,
      status: err.status,
      message: err.message,
      extra: err.options.extra,
      retryAfterSeconds: err.options.retryAfterSeconds,
    };
  }
  if (isSigV4Error(err)) return { code: err.code, status: err.status, message: err.message, extra: err.details };
  if (err instanceof StowageError && err.code === 'rate_limited') {
    return {
      code: 'SlowDown',
      status: 429,
      message: 'Please reduce your request rate.',
      retryAfterSeconds: err.retryAfterSeconds ?? 1,
    };
  }
  // PostgreSQL or Redis away (a quota reservation, a credential lookup): the request may succeed
  // once it is back, so it is the service that is unavailable, not an internal fault.
  if ((err instanceof StowageError && err.code === 'store_unavailable') || dependencyOutage(err) !== undefined) {
    return {
      code: 'ServiceUnavailable',
      status: 503,
      message: 'Please reduce your request rate or try again shortly.',
      retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
    };
  }
  return { code: 'InternalError', status: 500, message: 'We encountered an internal error. Please try again.' };
}

/** The metrics reason of a verification failure. */
export function authFailureReason(code: string): RefusalReason {
  switch (code) {
    case 'InvalidAccessKeyId':
      return 'unknown_access_key';
    case 'SignatureDoesNotMatch':
    case 'XAmzContentSHA256Mismatch':
    case 'BadDigest':
      return 'bad_signature';
    case 'RequestTimeTooSkewed':
      return 'time_skew';
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
      return 'bad_authorization_format';
    case 'AccessDenied':
      return 'expired';
    default:
      return 'invalid_request';
  }
}
