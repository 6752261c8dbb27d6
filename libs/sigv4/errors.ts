import { RefusalError } from '@stowage/errors';

/**
 * The S3 error codes this library can answer with, and the HTTP status S3 uses for each. The
 * codes are S3's own, so a proxy can render them into S3's XML error shape unchanged.
 */
export const SIGV4_ERROR_STATUS = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  ExpiredToken: 400,
  IncompleteBody: 400,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidChunkSizeError: 400,
  InvalidPolicyDocument: 400,
  MalformedPOSTRequest: 400,
  InvalidRequest: 400,
  MissingSecurityHeader: 400,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type SigV4ErrorCode = keyof typeof SIGV4_ERROR_STATUS;

/**
 * The only error this library throws (or emits from its streams) for bad input. `message` is
 * S3-style and safe to show to the client; `details` carries extra S3 error fields (for
 * example `StringToSign` and `CanonicalRequest` on a signature mismatch, which S3 returns too).
 * Neither ever holds a secret key or signing key, though `details` may echo what the client sent.
 */
export class SigV4Error extends RefusalError {
  readonly status: number;
  readonly code: SigV4ErrorCode;
  readonly details?: Readonly<Record<string, string>>;

  constructor(code: SigV4ErrorCode, message: string, details?: Readonly<Record<string, string>>) {
    super(message);
    this.name = 'SigV4Error';
    this.code = code;
    this.details = details;
    this.status = SIGV4_ERROR_STATUS[code];
  }

  /**
   * The same error for a refusal that is handed back rather than thrown, built without running
   * Error's constructor (which still walks the stack with the trace limit at 0): a server turns
   * away bad signatures at line rate. It has no `stack`.
   */
  static refusal(code: SigV4ErrorCode, message: string, details?: Readonly<Record<string, string>>): SigV4Error {
    const error = Object.create(SigV4Error.prototype) as SigV4Error;
    // As Error's constructor makes it: an own property that does not enumerate.
    Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
    return Object.assign(error, { name: 'SigV4Error', code, details, status: SIGV4_ERROR_STATUS[code] });
  }
}

export function isSigV4Error(err: unknown): err is SigV4Error {
  return err instanceof SigV4Error;
}
