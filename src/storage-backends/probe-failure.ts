import { isStowageError } from '@stowage/errors';
import { UNREACHABLE_DETAIL, upstreamCode } from './drivers/s3/s3-errors';

/** S3 answers that mean "an S3 service, but not with these keys": worth telling an admin. */
const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AuthorizationHeaderMalformed',
]);

/**
 * What a failed probe or connection test tells its reader. An S3 service refusing the keys is
 * named; every other failure (refused, reset, timed out, an HTTP server that is not S3, a denied
 * address) reads the same, so that trying endpoints cannot map which ports of which hosts are open.
 */
export function probeFailureText(err: unknown): string {
  const cause = isStowageError(err) ? err.cause : err;
  const code = upstreamCode(cause);
  if (CREDENTIAL_CODES.has(code)) return `the endpoint refused these credentials (${code})`;
  return UNREACHABLE_DETAIL;
}

/** The real reason of a failure, for the server log only. */
export function describeCause(err: unknown): string {
  const cause = isStowageError(err) && err.cause ? err.cause : err;
  const e = (cause ?? {}) as { code?: string; name?: string; message?: string };
  return [e.name, e.code, e.message].filter(Boolean).join(': ').slice(0, 500);
}
