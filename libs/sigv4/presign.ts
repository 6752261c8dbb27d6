import { QueryParam, uriEncode } from './encoding';
import { ALGORITHM, formatAmzDate, MAX_PRESIGNED_EXPIRES_SECONDS, SCOPE_TERMINATOR } from './parse';
import { buildCanonicalRequest, buildStringToSign, signString } from './signing';

export interface PresignInput {
  method: string;
  /** The request path exactly as it will be sent (already URI-encoded). */
  path: string;
  /**
   * Headers the URL's user must send as they are, by lower-case name; `host` is required. All of
   * them are signed (a content type, say, which the upload must then declare).
   */
  headers: Readonly<Record<string, string>>;
  accessKeyId: string;
  /** The signing key derived for the date, region and service (see `deriveSigningKey`). */
  signingKey: Uint8Array;
  region: string;
  service: string;
  /** When the URL is signed, in ms since the epoch; its date must be the signing key's. */
  now: number;
  /** How long the URL stays good: 1 second to 7 days. */
  expiresSeconds: number;
}

const param = (key: string, raw: string): QueryParam => ({ key, value: uriEncode(raw), raw });

/**
 * The query string (without `?`) that makes a presigned URL of `input`: the `X-Amz-*` parameters
 * with the signature last. The payload is `UNSIGNED-PAYLOAD`, as S3 presigned URLs have it, so
 * the URL says nothing about the body it may carry.
 */
export function presignQuery(input: PresignInput): string {
  const { expiresSeconds } = input;
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new RangeError(`a presigned URL lives 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds`);
  }
  if (input.headers.host === undefined) throw new RangeError('a presigned URL signs its host');
  const amzDate = formatAmzDate(input.now);
  const scope = `${amzDate.slice(0, 8)}/${input.region}/${input.service}/${SCOPE_TERMINATOR}`;
  const signedHeaders = Object.keys(input.headers).sort();
  const params = [
    param('X-Amz-Algorithm', ALGORITHM),
    param('X-Amz-Credential', `${input.accessKeyId}/${scope}`),
    param('X-Amz-Date', amzDate),
    param('X-Amz-Expires', String(expiresSeconds)),
    param('X-Amz-SignedHeaders', signedHeaders.join(';')),
  ];
  const canonical = buildCanonicalRequest({
    method: input.method,
    path: input.path,
    query: params,
    headers: input.headers,
    signedHeaders,
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  const signature = signString(input.signingKey, buildStringToSign(amzDate, scope, canonical));
  params.push(param('X-Amz-Signature', signature));
  return params.map((p) => `${p.key}=${p.value}`).join('&');
}
