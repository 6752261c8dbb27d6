import { parseQuery, percentDecode, QueryParam } from './encoding';
import { checkPrepared, checkTime, SecretAnswer, SecretLookup } from './check';
import { isSigV4Error, SigV4Error } from './errors';
import {
  CredentialScope,
  formatAmzDate,
  parseAmzDate,
  parseAuthorizationHeader,
  parseHttpDate,
  parsePresignedParams,
  PRESIGNED_PARAMS,
  PresignedParam,
} from './parse';
import {
  buildCanonicalRequest,
  buildStringToSign,
  constantTimeEqual,
  deriveSigningKey,
  EMPTY_SHA256,
  HeaderMap,
  HeaderValue,
  SecretHolder,
  SigningKeyCache,
  signString,
} from './signing';

export type AuthMode = 'header' | 'presigned';

export type PayloadMode =
  'signed' | 'unsigned' | 'streaming-signed' | 'streaming-unsigned-trailer' | 'streaming-signed-trailer';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_UNSIGNED_PAYLOAD_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const STREAMING_SIGNED_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';

export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

export type { SecretAnswer, SecretLookup } from './check';

export interface SigV4RequestInput {
  method: string;
  /** The raw request path as received (still percent-encoded), without the query. */
  path: string;
  /** The raw query string as received, without `?`; empty when there is none. */
  query: string;
  /**
   * Headers keyed by lower-case name. Pass repeated headers as arrays (Node's
   * `req.headersDistinct`), since the canonical form joins them with `,` and not `, `.
   */
  headers: HeaderMap;
  /** The secret of an access key (or an object holding it), or undefined when the key is unknown. */
  lookupSecret: SecretLookup;
  /**
   * The body's hex SHA-256 when the caller knows it and the request carries no
   * `x-amz-content-sha256` (non-S3 services). S3 requests always carry the header.
   */
  payloadHash?: string;
}

export interface VerifyOptions {
  /** The current time; defaults to the system clock. */
  now?: Date;
  /** How far a request's date may be from `now`; 15 minutes by default, as in S3. */
  maxSkewMs?: number;
  /**
   * The region(s) a credential scope must name; any when unset. A function answers undefined for
   * a region it accepts and, for one it refuses, the region to name as expected.
   */
  region?: string | readonly string[] | ((region: string) => string | undefined);
  /** The service a credential scope must name; any when unset. */
  service?: string;
  /** Generic-service path normalisation; off for S3. */
  normalizePath?: boolean;
  /** Generic-service double encoding of the path; off for S3. */
  doubleEncode?: boolean;
  /** The signing-key cache; a shared 10,000-entry cache by default, `false` to derive every time. */
  signingKeyCache?: SigningKeyCache | false;
  /**
   * Refuse a request carrying an `x-amz-*` header that is not signed (S3 does, and a proxy that
   * forwards such headers must). On by default.
   */
  requireSignedAmzHeaders?: boolean;
}

export interface VerifiedRequest {
  readonly accessKeyId: string;
  readonly mode: AuthMode;
  readonly payload: PayloadMode;
  /** The declared body SHA-256 (lower-case hex) when `payload` is `signed`. */
  readonly payloadHash?: string;
  /** The request signature; the first link of the chunk-signature chain for streaming payloads. */
  readonly seedSignature: string;
  /** The derived signing key; shared with the cache, so never modify it. */
  readonly signingKey: Buffer;
  /** `date/region/service/aws4_request`. */
  readonly scope: string;
  readonly credential: CredentialScope;
  /** The request timestamp in ISO 8601 basic form (`20150830T123600Z`). */
  readonly amzDate: string;
  readonly signedHeaders: readonly string[];
  readonly securityToken?: string;
  /** `x-amz-decoded-content-length` of a streaming upload, when given. */
  readonly decodedContentLength?: number;
  /** Lower-case names from `x-amz-trailer` for trailer payloads. */
  readonly trailerNames?: readonly string[];
  /** When a presigned URL stops being valid. */
  readonly expiresAt?: Date;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const DECIMAL = /^\d{1,15}$/;

const defaultCache = new SigningKeyCache(10_000);

/** Classifies an `x-amz-content-sha256` value; anything unknown is InvalidArgument. */
export function classifyPayload(value: string): { payload: PayloadMode; payloadHash?: string } {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { payload: 'unsigned' };
    case STREAMING_SIGNED_PAYLOAD:
      return { payload: 'streaming-signed' };
    case STREAMING_UNSIGNED_PAYLOAD_TRAILER:
      return { payload: 'streaming-unsigned-trailer' };
    case STREAMING_SIGNED_PAYLOAD_TRAILER:
      return { payload: 'streaming-signed-trailer' };
  }
  // The hash of an empty body comes with every GET, HEAD and DELETE.
  if (value === EMPTY_SHA256) return { payload: 'signed', payloadHash: value };
  if (SHA256_HEX.test(value)) return { payload: 'signed', payloadHash: value.toLowerCase() };
  throw new SigV4Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value.slice(0, 128) },
  );
}

function single(headers: HeaderMap, name: string): string | undefined {
  const value: HeaderValue = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  if (value.length === 1) return value[0];
  throw new SigV4Error('InvalidArgument', `The ${name} header may appear only once.`, { ArgumentName: name });
}

function checkScope(
  credential: CredentialScope,
  options: VerifyOptions,
  code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError',
): void {
  const expected = options.region;
  if (expected !== undefined) {
    let first: string | undefined;
    if (typeof expected === 'function') first = expected(credential.region);
    else if (typeof expected === 'string') first = credential.region === expected ? undefined : expected;
    else first = expected.includes(credential.region) ? undefined : (expected[0] ?? '');
    if (first !== undefined) {
      throw new SigV4Error(
        code,
        `${code === 'AuthorizationHeaderMalformed' ? 'The authorization header is malformed' : 'Error parsing the X-Amz-Credential parameter'}; the region '${credential.region}' is wrong; expecting '${first}'`,
        {
          Region: first,
        },
      );
    }
  }
  if (options.service !== undefined && credential.service !== options.service) {
    throw new SigV4Error(
      code,
      `The authorization header is malformed; incorrect service "${credential.service}". This endpoint belongs to "${options.service}".`,
    );
  }
}

function skewError(requestMs: number, nowMs: number, maxSkewMs: number): SigV4Error {
  return new SigV4Error(
    'RequestTimeTooSkewed',
    "The difference between the request time and the server's time is too large.",
    {
      RequestTime: formatAmzDate(requestMs),
      ServerTime: new Date(nowMs).toISOString(),
      MaxAllowedSkewMilliseconds: String(maxSkewMs),
    },
  );
}

function requireHostSigned(
  signedHeaders: readonly string[],
  code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError',
): void {
  if (!signedHeaders.includes('host')) throw new SigV4Error(code, 'The host header must be signed.');
}

function checkAmzHeadersSigned(headers: HeaderMap, signedHeaders: readonly string[], exempt?: string): void {
  for (const name in headers) {
    if (name.length > 6 && name.charCodeAt(0) === 0x78 && name.startsWith('x-amz-') && headers[name] !== undefined) {
      if (name !== exempt && !signedHeaders.includes(name)) {
        throw new SigV4Error('AccessDenied', 'There were headers present in the request which were not signed', {
          HeadersNotSigned: name,
        });
      }
    }
  }
}

function streamingDetails(
  headers: HeaderMap,
  payload: PayloadMode,
): { decodedContentLength?: number; trailerNames?: string[] } {
  if (payload === 'signed' || payload === 'unsigned') return {};
  let decodedContentLength: number | undefined;
  const declared = single(headers, 'x-amz-decoded-content-length');
  if (declared !== undefined) {
    if (!DECIMAL.test(declared)) {
      throw new SigV4Error('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer.', {
        ArgumentName: 'x-amz-decoded-content-length',
      });
    }
    decodedContentLength = Number(declared);
  }
  let trailerNames: string[] | undefined;
  if (payload !== 'streaming-signed') {
    const trailer = headers['x-amz-trailer'];
    if (trailer !== undefined) {
      trailerNames = [];
      for (const value of typeof trailer === 'string' ? [trailer] : trailer) {
        for (const name of value.split(',')) {
          const trimmed = name.trim().toLowerCase();
          if (trimmed !== '') trailerNames.push(trimmed);
        }
      }
    }
  }
  return { decodedContentLength, trailerNames };
}

interface Prepared {
  mode: AuthMode;
  credential: CredentialScope;
  signedHeaders: readonly string[];
  signature: string;
  amzDate: string;
  payload: PayloadMode;
  payloadHash?: string;
  canonicalPayload: string;
  securityToken?: string;
  expiresAt?: Date;
  excludeQueryParam?: string;
}

/** The credential's date against the request's, its region and service, and a signed `host`. */
function checkCredential(
  credential: CredentialScope,
  signedHeaders: readonly string[],
  amzDate: string,
  options: VerifyOptions,
  code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError',
): void {
  if (credential.date !== amzDate.slice(0, 8)) {
    throw new SigV4Error(
      code,
      `Invalid credential date "${credential.date}". Date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  checkScope(credential, options, code);
  requireHostSigned(signedHeaders, code);
}

/**
 * The request as both ways of signing (header and presigned URL) leave it once their own fields
 * are read: the declared payload classified and every `x-amz-*` header checked to be signed (a
 * presigned URL may carry `x-amz-content-sha256` unsigned, as its query names the payload).
 */
function prepared(
  input: SigV4RequestInput,
  options: VerifyOptions,
  parsed: { credential: CredentialScope; signedHeaders: readonly string[]; signature: string },
  amzDate: string,
  canonicalPayload: string,
  extra: Pick<Prepared, 'mode' | 'securityToken' | 'expiresAt' | 'excludeQueryParam'>,
): Prepared {
  const { payload, payloadHash } = classifyPayload(canonicalPayload);
  if (options.requireSignedAmzHeaders !== false) {
    const exempt = extra.mode === 'presigned' ? 'x-amz-content-sha256' : undefined;
    checkAmzHeadersSigned(input.headers, parsed.signedHeaders, exempt);
  }
  return {
    credential: parsed.credential,
    signedHeaders: parsed.signedHeaders,
    signature: parsed.signature,
    amzDate,
    payload,
    payloadHash,
    canonicalPayload,
    ...extra,
  };
}

function prepareHeaderAuth(
  input: SigV4RequestInput,
  authorization: string,
  options: VerifyOptions,
  nowMs: number,
): Prepared {
  const parsed = parseAuthorizationHeader(authorization);
  const { credential, signedHeaders } = parsed;
  const headers = input.headers;

  let amzDate = single(headers, 'x-amz-date');
  let requestMs: number | undefined;
  if (amzDate !== undefined) {
    requestMs = parseAmzDate(amzDate);
  } else {
    const date = single(headers, 'date');
    if (date !== undefined) {
      requestMs = parseHttpDate(date);
      if (requestMs !== undefined) amzDate = formatAmzDate(requestMs);
    }
  }
  if (requestMs === undefined || amzDate === undefined) {
    throw new SigV4Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  checkCredential(credential, signedHeaders, amzDate, options, 'AuthorizationHeaderMalformed');

  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(requestMs - nowMs) > maxSkewMs) throw skewError(requestMs, nowMs, maxSkewMs);

  const contentSha256 = single(headers, 'x-amz-content-sha256');
  let canonicalPayload: string;
  if (contentSha256 !== undefined) {
    canonicalPayload = contentSha256;
  } else if (input.payloadHash !== undefined) {
    canonicalPayload = input.payloadHash;
  } else {
    throw new SigV4Error('MissingSecurityHeader', 'Missing required header for this request: x-amz-content-sha256', {
      MissingHeaderName: 'x-amz-content-sha256',
    });
  }
  return prepared(input, options, parsed, amzDate, canonicalPayload, {
    mode: 'header',
    securityToken: single(headers, 'x-amz-security-token'),
  });
}

function preparePresigned(
  input: SigV4RequestInput,
  params: readonly QueryParam[],
  options: VerifyOptions,
  nowMs: number,
): Prepared {
  const code = 'AuthorizationQueryParametersError';
  const found: Partial<Record<PresignedParam, string>> = {};
  for (const param of params) {
    // The SDK presigners hoist the x-amz-content-sha256 header under its lower-case name.
    const name = (param.key === 'x-amz-content-sha256' ? 'X-Amz-Content-Sha256' : param.key) as PresignedParam;
    if (!(PRESIGNED_PARAMS as readonly string[]).includes(name)) continue;
    if (found[name] !== undefined) throw new SigV4Error(code, `The query parameter ${name} may appear only once.`);
    found[name] = percentDecode(param.raw);
  }
  const parsed = parsePresignedParams(found);
  const { credential, signedHeaders, amzDate, expiresSeconds } = parsed;
  checkCredential(credential, signedHeaders, amzDate, options, code);

  // A presigned URL is good from its date (give or take the skew, for a signer whose clock runs
  // ahead) until date + expires, and not a moment longer.
  const requestMs = parseAmzDate(amzDate) as number;
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (requestMs - nowMs > maxSkewMs) throw skewError(requestMs, nowMs, maxSkewMs);
  const expiresMs = requestMs + expiresSeconds * 1000;
  if (nowMs > expiresMs) {
    throw new SigV4Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expiresSeconds),
      Expires: new Date(expiresMs).toISOString(),
      ServerTime: new Date(nowMs).toISOString(),
    });
  }

  return prepared(input, options, parsed, amzDate, parsed.contentSha256 ?? UNSIGNED_PAYLOAD, {
    mode: 'presigned',
    securityToken: parsed.securityToken,
    expiresAt: new Date(expiresMs),
    excludeQueryParam: 'X-Amz-Signature',
  });
}

function isPresigned(params: readonly QueryParam[]): boolean {
  for (const p of params) {
    if (p.key === 'X-Amz-Algorithm' || p.key === 'X-Amz-Credential' || p.key === 'X-Amz-Signature') return true;
  }
  return false;
}

/** A verified request, or why it was refused. */
export type CheckedRequest = VerifiedRequest | SigV4Error;

/**
 * Verifies an AWS Signature Version 4 request (header-signed or presigned URL) like
 * {@link verifyRequest}, but hands a refusal back as a {@link SigV4Error} instead of throwing it,
 * and answers synchronously when `lookupSecret` does. A server refusing bad requests at line
 * rate saves the throw, the promise and the microtask that way. Errors thrown by
 * `lookupSecret`, and invalid options, still throw.
 */
export function checkRequest(
  input: SigV4RequestInput,
  options: VerifyOptions = {},
): CheckedRequest | Promise<CheckedRequest> {
  const nowMs = checkTime(options);
  if (options.maxSkewMs !== undefined && !(options.maxSkewMs >= 0))
    throw new RangeError('options.maxSkewMs must be >= 0');
  const params = parseQuery(input.query);
  return checkPrepared(
    () => prepare(input, params, options, nowMs),
    (prepared) => prepared.credential.accessKeyId,
    input.lookupSecret,
    (prepared, found) => checkSignature(input, params, options, prepared, found),
  );
}

/**
 * Verifies an AWS Signature Version 4 request (header-signed or presigned URL). Resolves with
 * what the caller needs to read the body; rejects with a {@link SigV4Error} for every problem
 * with the request. Errors thrown by `lookupSecret` propagate unchanged.
 */
export async function verifyRequest(input: SigV4RequestInput, options: VerifyOptions = {}): Promise<VerifiedRequest> {
  const checked = await checkRequest(input, options);
  if (isSigV4Error(checked)) throw checked;
  return checked;
}

function prepare(input: SigV4RequestInput, params: QueryParam[], options: VerifyOptions, nowMs: number): Prepared {
  const authorization = single(input.headers, 'authorization');
  const presigned = isPresigned(params);
  if (authorization !== undefined && presigned) {
    throw new SigV4Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization' },
    );
  }
  if (authorization !== undefined) return prepareHeaderAuth(input, authorization, options, nowMs);
  if (presigned) return preparePresigned(input, params, options, nowMs);
  throw new SigV4Error('AccessDenied', 'Access Denied: the request is not signed.');
}

/** Derived afresh without a cache; from a holder, remembered on it; otherwise from the cache. */
function signingKeyFor(
  cache: SigningKeyCache | false,
  { accessKeyId, date, region, service }: CredentialScope,
  secret: string,
  holder: SecretHolder | undefined,
): Buffer {
  if (!cache) return deriveSigningKey(secret, date, region, service);
  if (holder) return cache.forHolder(holder, accessKeyId, date, region, service);
  return cache.get(accessKeyId, secret, date, region, service);
}

function checkSignature(
  input: SigV4RequestInput,
  params: QueryParam[],
  options: VerifyOptions,
  prepared: Prepared,
  answer: SecretAnswer,
): CheckedRequest {
  const { credential } = prepared;
  let holder: SecretHolder | undefined;
  let secret: string | undefined | null;
  if (typeof answer === 'object' && answer !== null) {
    holder = answer;
    secret = answer.secretKey;
  } else {
    secret = answer;
  }
  if (secret === undefined || secret === null || secret === '') {
    return SigV4Error.refusal(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      {
        AWSAccessKeyId: credential.accessKeyId,
      },
    );
  }

  const cache = options.signingKeyCache === undefined ? defaultCache : options.signingKeyCache;
  const signingKey = signingKeyFor(cache, credential, secret, holder);

  const canonicalRequest = buildCanonicalRequest({
    method: input.method,
    path: input.path,
    query: params,
    headers: input.headers,
    signedHeaders: prepared.signedHeaders,
    payloadHash: prepared.canonicalPayload,
    excludeQueryParam: prepared.excludeQueryParam,
    normalizePath: options.normalizePath,
    doubleEncode: options.doubleEncode,
  });
  const stringToSign = buildStringToSign(prepared.amzDate, credential.scope, canonicalRequest);
  // Both are lower-case hex (the parser lower-cases the provided one).
  if (!constantTimeEqual(signString(signingKey, stringToSign), prepared.signature)) {
    return SigV4Error.refusal(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: credential.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: prepared.signature,
        CanonicalRequest: canonicalRequest,
      },
    );
  }

  let streaming: ReturnType<typeof streamingDetails>;
  try {
    streaming = streamingDetails(input.headers, prepared.payload);
  } catch (err) {
    if (isSigV4Error(err)) return err;
    throw err;
  }
  return {
    accessKeyId: credential.accessKeyId,
    mode: prepared.mode,
    payload: prepared.payload,
    payloadHash: prepared.payloadHash,
    seedSignature: prepared.signature,
    signingKey,
    scope: credential.scope,
    credential,
    amzDate: prepared.amzDate,
    signedHeaders: prepared.signedHeaders,
    securityToken: prepared.securityToken,
    decodedContentLength: streaming.decodedContentLength,
    trailerNames: streaming.trailerNames,
    expiresAt: prepared.expiresAt,
  };
}
