import { createHmac } from 'node:crypto';
import { parseQuery, percentDecode, QueryParam } from './encoding';
import { checkPrepared, checkTime } from './check';
import { SigV4Error } from './errors';
import { parseAmzDate } from './parse';
import { constantTimeEqual, HeaderMap, HeaderValue } from './signing';
import { DEFAULT_MAX_SKEW_MS, SecretAnswer, SecretLookup } from './verify';

/**
 * AWS Signature Version 2 for S3 (`Authorization: AWS AKID:signature`, or a presigned URL with
 * `AWSAccessKeyId`, `Expires` and `Signature`), as legacy clients still send it: the aws CLI v1's
 * `s3 presign`, s3cmd with `signature_v2`, old SDKs. HMAC-SHA1 over the method, Content-MD5,
 * Content-Type, the date (or the expiry), the `x-amz-*` headers and the resource. The body is not
 * signed (a Content-MD5, when sent, is).
 */

export type SigV2Mode = 'header' | 'presigned';

/**
 * The query parameters that are part of the signed resource, as S3 and the clients that sign
 * (botocore's HmacV1, s3cmd) list them. Everything else in the query is not signed.
 */
export const SIGV2_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'delete',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'retention',
  'select',
  'select-type',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/** The query parameters of a SigV2 presigned URL: the signature itself, not part of the request. */
export const SIGV2_QUERY_PARAMS: ReadonlySet<string> = new Set(['AWSAccessKeyId', 'Expires', 'Signature']);

export interface SigV2RequestInput {
  method: string;
  /** The raw request path as received (still percent-encoded), without the query. */
  path: string;
  /** The raw query string as received, without `?`. */
  query: string;
  /** Headers keyed by lower-case name; repeated headers as arrays. */
  headers: HeaderMap;
  /**
   * The bucket named by a virtual-hosted `Host`, which the signed resource starts with
   * (`/bucket/key`); absent for path-style requests.
   */
  virtualHostedBucket?: string;
  lookupSecret: SecretLookup;
}

export interface SigV2VerifyOptions {
  now?: Date;
  /** How far a header-signed request's date may be from `now`; 15 minutes by default. */
  maxSkewMs?: number;
}

export interface SigV2VerifiedRequest {
  readonly accessKeyId: string;
  readonly mode: SigV2Mode;
  /** When a presigned URL stops being valid. */
  readonly expiresAt?: Date;
}

export type CheckedSigV2Request = SigV2VerifiedRequest | SigV4Error;

/** How a request is signed with SigV2, if it is: an `AWS ` Authorization header or a presigned URL. */
export function sigV2Mode(authorization: string | undefined, params: readonly QueryParam[]): SigV2Mode | undefined {
  if (authorization !== undefined) return authorization.startsWith('AWS ') ? 'header' : undefined;
  for (const p of params) if (p.key === 'AWSAccessKeyId' || p.key === 'Signature') return 'presigned';
  return undefined;
}

function single(headers: HeaderMap, name: string): string | undefined {
  const value: HeaderValue = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}

/** `x-amz-*` headers, lower-cased, sorted, each `name:value\n` with repeats joined by `,`. */
function canonicalAmzHeaders(headers: HeaderMap): string {
  const names: string[] = [];
  for (const name in headers) {
    if (name.startsWith('x-amz-') && headers[name] !== undefined) names.push(name);
  }
  if (names.length === 0) return '';
  names.sort();
  let out = '';
  for (const name of names) {
    const value = headers[name] as string | readonly string[];
    const values = typeof value === 'string' ? [value] : value;
    out += `${name}:${values.map((v) => v.trim().replace(/\s*\r?\n\s*/g, ' ')).join(',')}\n`;
  }
  return out;
}

/** The signed resource: `[/bucket]/path` as sent, then the sub-resources, sorted, values decoded. */
export function canonicalResourceV2(path: string, params: readonly QueryParam[], virtualHostedBucket?: string): string {
  let resource = virtualHostedBucket === undefined ? path : `/${virtualHostedBucket}${path}`;
  const signed = params.filter((p) => SIGV2_SUBRESOURCES.has(p.key));
  if (signed.length > 0) {
    signed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resource += `?${signed.map((p) => (p.raw === '' ? p.key : `${p.key}=${percentDecode(p.raw)}`)).join('&')}`;
  }
  return resource;
}

/**
 * The SigV2 string to sign. `dateOrExpires` is the Date header (empty when `x-amz-date` is sent,
 * which the `x-amz-*` headers then carry), or a presigned URL's `Expires`.
 */
export function stringToSignV2(input: {
  method: string;
  headers: HeaderMap;
  dateOrExpires: string;
  resource: string;
}): string {
  const { headers } = input;
  return [
    input.method,
    single(headers, 'content-md5') ?? '',
    single(headers, 'content-type') ?? '',
    input.dateOrExpires,
    `${canonicalAmzHeaders(headers)}${input.resource}`,
  ].join('\n');
}

/** Base64 HMAC-SHA1 of a string to sign. */
export function signV2(secretAccessKey: string, stringToSign: string): string {
  return createHmac('sha1', secretAccessKey).update(stringToSign, 'utf8').digest('base64');
}

/** Epoch milliseconds of an RFC 1123 date (any zone) or an ISO 8601 basic timestamp. */
function parseRequestDate(value: string): number | undefined {
  const basic = parseAmzDate(value);
  if (basic !== undefined) return basic;
  if (!/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC|[+-]\d{4})$/.test(value.trim())) {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

interface PreparedV2 {
  accessKeyId: string;
  signature: string;
  mode: SigV2Mode;
  stringToSign: string;
  expiresAt?: Date;
}

const ACCESS_KEY_ID = /^[\x21-\x39\x3b-\x7e]{1,128}$/;
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{27}=$/;
const EXPIRES = /^\d{1,12}$/;

function prepareV2(
  input: SigV2RequestInput,
  params: readonly QueryParam[],
  options: SigV2VerifyOptions,
  nowMs: number,
) {
  const authorization = single(input.headers, 'authorization');
  const presigned = params.some((p) => p.key === 'Signature' || p.key === 'AWSAccessKeyId' || p.key === 'Expires');
  if (authorization !== undefined && presigned) {
    throw new SigV4Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  }
  const resource = canonicalResourceV2(input.path, params, input.virtualHostedBucket);
  if (authorization !== undefined) {
    const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization);
    if (!m || !ACCESS_KEY_ID.test(m[1])) {
      throw new SigV4Error(
        'InvalidArgument',
        'The authorization header is malformed; expecting "AWS AccessKeyId:Signature".',
        {
          ArgumentName: 'Authorization',
        },
      );
    }
    const amzDate = single(input.headers, 'x-amz-date');
    const date = single(input.headers, 'date');
    const dated = amzDate ?? date;
    const requestMs = dated === undefined ? undefined : parseRequestDate(dated);
    // A date before the epoch is no valid date at all (S3 says AccessDenied, not a skew).
    if (requestMs === undefined || requestMs < 0) {
      throw new SigV4Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    if (Math.abs(requestMs - nowMs) > maxSkewMs) {
      throw new SigV4Error(
        'RequestTimeTooSkewed',
        "The difference between the request time and the server's time is too large.",
        {
          RequestTime: dated as string,
          ServerTime: new Date(nowMs).toISOString(),
          MaxAllowedSkewMilliseconds: String(maxSkewMs),
        },
      );
    }
    const stringToSign = stringToSignV2({
      method: input.method,
      headers: input.headers,
      // With x-amz-date, the Date line is empty and x-amz-date is signed among the x-amz-* headers.
      dateOrExpires: amzDate !== undefined ? '' : (date as string),
      resource,
    });
    return { accessKeyId: m[1], signature: m[2], mode: 'header', stringToSign } satisfies PreparedV2;
  }
  const found: Record<string, string> = {};
  for (const p of params) {
    if (!SIGV2_QUERY_PARAMS.has(p.key)) continue;
    if (found[p.key] !== undefined) {
      throw new SigV4Error('InvalidArgument', `The query parameter ${p.key} may appear only once.`, {
        ArgumentName: p.key,
      });
    }
    found[p.key] = percentDecode(p.raw);
  }
  const { AWSAccessKeyId: accessKeyId, Signature: signature, Expires: expires } = found;
  if (accessKeyId === undefined || signature === undefined || expires === undefined) {
    throw new SigV4Error(
      'AccessDenied',
      'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
    );
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new SigV4Error('InvalidArgument', 'AWSAccessKeyId is malformed.', { ArgumentName: 'AWSAccessKeyId' });
  }
  if (!EXPIRES.test(expires)) {
    throw new SigV4Error('InvalidArgument', 'Expires must be a number of seconds since the epoch.', {
      ArgumentName: 'Expires',
    });
  }
  const expiresMs = Number(expires) * 1000;
  if (nowMs > expiresMs) {
    throw new SigV4Error('AccessDenied', 'Request has expired', {
      Expires: new Date(expiresMs).toISOString(),
      ServerTime: new Date(nowMs).toISOString(),
    });
  }
  const stringToSign = stringToSignV2({
    method: input.method,
    headers: input.headers,
    dateOrExpires: expires,
    resource,
  });
  return {
    accessKeyId,
    signature,
    mode: 'presigned',
    stringToSign,
    expiresAt: new Date(expiresMs),
  } satisfies PreparedV2;
}

function checkV2Signature(prepared: PreparedV2, answer: SecretAnswer): CheckedSigV2Request {
  const secret = typeof answer === 'object' && answer !== null ? answer.secretKey : answer;
  if (secret === undefined || secret === null || secret === '') {
    return SigV4Error.refusal(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      {
        AWSAccessKeyId: prepared.accessKeyId,
      },
    );
  }
  const expected = signV2(secret, prepared.stringToSign);
  if (!BASE64_SIGNATURE.test(prepared.signature) || !constantTimeEqual(expected, prepared.signature)) {
    return SigV4Error.refusal(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: prepared.accessKeyId,
        StringToSign: prepared.stringToSign,
        SignatureProvided: prepared.signature,
      },
    );
  }
  return {
    accessKeyId: prepared.accessKeyId,
    mode: prepared.mode,
    ...(prepared.expiresAt ? { expiresAt: prepared.expiresAt } : {}),
  };
}

/**
 * Verifies a SigV2 request (Authorization header or presigned URL). Hands a refusal back as a
 * {@link SigV4Error} (the library's one error type) instead of throwing it, and answers
 * synchronously when `lookupSecret` does. Errors thrown by `lookupSecret` still throw.
 */
export function checkSigV2Request(
  input: SigV2RequestInput,
  options: SigV2VerifyOptions = {},
): CheckedSigV2Request | Promise<CheckedSigV2Request> {
  const nowMs = checkTime(options);
  const params = parseQuery(input.query);
  return checkPrepared(
    () => prepareV2(input, params, options, nowMs),
    (prepared) => prepared.accessKeyId,
    input.lookupSecret,
    checkV2Signature,
  );
}
