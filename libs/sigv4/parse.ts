import { SigV4Error, SigV4ErrorCode } from './errors';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SCOPE_TERMINATOR = 'aws4_request';

export interface CredentialScope {
  readonly accessKeyId: string;
  /** `YYYYMMDD`. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** `date/region/service/aws4_request`, as it appears in the string to sign. */
  readonly scope: string;
}

export interface ParsedAuthorization {
  readonly credential: CredentialScope;
  /** Lower-case and sorted. */
  readonly signedHeaders: readonly string[];
  /** 64 lower-case hex characters. */
  readonly signature: string;
}

const ACCESS_KEY_ID = /^[\x21-\x2e\x30-\x7e]{1,128}$/;
const REGION = /^[A-Za-z0-9_.-]{1,64}$/;
const SERVICE = /^[A-Za-z0-9_.-]{1,64}$/;
const SHORT_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const HTTP_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIGNATURE = /^[0-9a-fA-F]{64}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_SIGNED_HEADERS = 128;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1];
}

/** Epoch milliseconds of a calendar date and time, or undefined when a field is out of range. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number | undefined {
  // Date.UTC reads years below 100 as 19xx; no signed request comes from the first millennium.
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC would roll 31 February over into March.
  if (day > daysInMonth(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The value of `length` ASCII digits of `value` from `start`, or -1 when one is not a digit. */
function digits(value: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Parses an ISO 8601 basic timestamp (`20150830T123600Z`) into epoch milliseconds. */
export function parseAmzDate(value: string): number | undefined {
  // Read by position rather than by regular expression: this runs once per signed request.
  if (value.length !== 16 || value.charCodeAt(8) !== 0x54 /* T */ || value.charCodeAt(15) !== 0x5a /* Z */) {
    return undefined;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 4, 2);
  const day = digits(value, 6, 2);
  const hour = digits(value, 9, 2);
  const minute = digits(value, 11, 2);
  const second = digits(value, 13, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  return utc(year, month, day, hour, minute, second);
}

/** Parses an IMF-fixdate HTTP date (`Sun, 30 Aug 2015 12:36:00 GMT`) into epoch milliseconds. */
export function parseHttpDate(value: string): number | undefined {
  const m = HTTP_DATE.exec(value);
  if (!m) return undefined;
  return utc(+m[3], MONTHS.indexOf(m[2]) + 1, +m[1], +m[4], +m[5], +m[6]);
}

/** Formats epoch milliseconds as an ISO 8601 basic timestamp (`20150830T123600Z`). */
export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Parses `AKID/YYYYMMDD/region/service/aws4_request`. */
export function parseCredential(value: string, code: SigV4ErrorCode): CredentialScope {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw new SigV4Error(
      code,
      `The credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/${SCOPE_TERMINATOR}".`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts;
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw new SigV4Error(code, 'The credential has a malformed access key id.');
  const d = SHORT_DATE.exec(date);
  if (!d || utc(+d[1], +d[2], +d[3]) === undefined) {
    throw new SigV4Error(code, `Invalid credential date "${date}". This date is not the expected format YYYYMMDD.`);
  }
  if (!REGION.test(region)) throw new SigV4Error(code, 'The credential has a malformed region.');
  if (!SERVICE.test(service)) throw new SigV4Error(code, 'The credential has a malformed service.');
  if (terminator !== SCOPE_TERMINATOR) {
    throw new SigV4Error(code, `Incorrect terminal "${terminator}". This endpoint uses "${SCOPE_TERMINATOR}".`);
  }
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/${SCOPE_TERMINATOR}` };
}

/** Parses a `;`-separated SignedHeaders list; names come back lower-cased and sorted. */
export function parseSignedHeaders(value: string, code: SigV4ErrorCode): string[] {
  const names = value.split(';');
  if (names.length > MAX_SIGNED_HEADERS) throw new SigV4Error(code, 'Too many signed headers.');
  let sorted = true;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!HEADER_NAME.test(name)) throw new SigV4Error(code, 'SignedHeaders holds an invalid header name.');
    names[i] = name.toLowerCase();
    if (i > 0 && names[i] <= names[i - 1]) sorted = false;
  }
  if (!sorted) {
    names.sort();
    for (let i = 1; i < names.length; i++) {
      if (names[i] === names[i - 1]) throw new SigV4Error(code, 'SignedHeaders lists a header twice.');
    }
  }
  return names;
}

/** Validates a hex signature and returns it lower-cased. */
export function parseSignature(value: string, code: SigV4ErrorCode): string {
  if (!SIGNATURE.test(value)) throw new SigV4Error(code, 'The signature must be 64 hexadecimal characters.');
  return value.toLowerCase();
}

const SIGNATURE_KEY = 'Signature=';
const SIGNATURE_HEX_LENGTH = 64;
/** Bounds on the remembered header prefixes: a few hundred clients' worth, at most ~1 MiB. */
const MAX_REMEMBERED_PREFIXES = 1024;
const MAX_REMEMBERED_PREFIX = 1024;
const authorizationPrefixes = new Map<string, Omit<ParsedAuthorization, 'signature'>>();

const UNSUPPORTED_MECHANISM =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (SigV4).';

/**
 * Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
 * SignedHeaders=a;b, Signature=hex`. Components may come in any order, with or without spaces
 * after the commas.
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorization {
  const code = 'AuthorizationHeaderMalformed';
  // A client sends the same Credential and SignedHeaders with every request of a kind all day;
  // only the signature at the end changes. Their parse is remembered by everything before it.
  const cut = value.length - SIGNATURE_HEX_LENGTH;
  const prefix = cut > 0 && value.endsWith(SIGNATURE_KEY, cut) ? value.slice(0, cut) : undefined;
  if (prefix !== undefined) {
    const known = authorizationPrefixes.get(prefix);
    const signature = value.slice(cut);
    if (known !== undefined && SIGNATURE.test(signature)) {
      return { credential: known.credential, signedHeaders: known.signedHeaders, signature: signature.toLowerCase() };
    }
  }
  const space = value.indexOf(' ');
  const algorithm = space === -1 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    if (algorithm === 'AWS' || algorithm.startsWith('AWS4-'))
      throw new SigV4Error('InvalidRequest', UNSUPPORTED_MECHANISM);
    throw new SigV4Error(code, 'The authorization header is malformed; it must start with AWS4-HMAC-SHA256.');
  }
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  for (const part of value.slice(space + 1).split(',')) {
    const component = part.trim();
    const eq = component.indexOf('=');
    if (eq === -1)
      throw new SigV4Error(code, `The authorization header is malformed; "${component}" is not key=value.`);
    const key = component.slice(0, eq);
    const v = component.slice(eq + 1);
    if (key === 'Credential' && credential === undefined) credential = v;
    else if (key === 'SignedHeaders' && signedHeaders === undefined) signedHeaders = v;
    else if (key === 'Signature' && signature === undefined) signature = v;
    else throw new SigV4Error(code, `The authorization header is malformed; unexpected or repeated "${key}".`);
  }
  if (credential === undefined) throw new SigV4Error(code, 'The authorization header is missing Credential.');
  if (signedHeaders === undefined) throw new SigV4Error(code, 'The authorization header is missing SignedHeaders.');
  if (signature === undefined) throw new SigV4Error(code, 'The authorization header is missing Signature.');
  const parsed: ParsedAuthorization = {
    credential: Object.freeze(parseCredential(credential, code)),
    signedHeaders: Object.freeze(parseSignedHeaders(signedHeaders, code)),
    signature: parseSignature(signature, code),
  };
  if (prefix !== undefined && prefix.length <= MAX_REMEMBERED_PREFIX && value.slice(cut) === signature) {
    if (authorizationPrefixes.size >= MAX_REMEMBERED_PREFIXES) authorizationPrefixes.clear();
    authorizationPrefixes.set(prefix, { credential: parsed.credential, signedHeaders: parsed.signedHeaders });
  }
  return parsed;
}

export interface ParsedPresignedQuery extends ParsedAuthorization {
  readonly amzDate: string;
  readonly expiresSeconds: number;
  readonly securityToken?: string;
  /** `X-Amz-Content-Sha256` when the URL carries one. */
  readonly contentSha256?: string;
}

export const PRESIGNED_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
] as const;
export type PresignedParam = (typeof PRESIGNED_PARAMS)[number];

/** The longest lifetime S3 allows a presigned URL: seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604800;

/**
 * The lifetime `X-Amz-Expires` names, in seconds, refused as S3 refuses it: not a decimal number,
 * negative, zero, or longer than seven days (however many digits it has).
 */
function parseExpires(expires: string): number {
  const code = 'AuthorizationQueryParametersError';
  if (/^-\d+$/.test(expires)) throw new SigV4Error(code, 'X-Amz-Expires must be non-negative');
  if (!/^\d+$/.test(expires)) throw new SigV4Error(code, 'X-Amz-Expires should be a number');
  const significant = expires.replace(/^0+/, '');
  if (
    significant.length > String(MAX_PRESIGNED_EXPIRES_SECONDS).length ||
    Number(significant) > MAX_PRESIGNED_EXPIRES_SECONDS
  ) {
    throw new SigV4Error(code, 'X-Amz-Expires must be less than a week (in seconds) that is; 7 days');
  }
  const seconds = Number(significant);
  if (seconds < 1) throw new SigV4Error(code, 'X-Amz-Expires must be a positive number of seconds');
  return seconds;
}

/**
 * Validates the decoded `X-Amz-*` parameters of a presigned URL. `params` maps each parameter
 * present to its decoded value (a repeated parameter is refused before this is called).
 */
export function parsePresignedParams(params: Partial<Record<PresignedParam, string>>): ParsedPresignedQuery {
  const code = 'AuthorizationQueryParametersError';
  const algorithm = params['X-Amz-Algorithm'];
  const credential = params['X-Amz-Credential'];
  const amzDate = params['X-Amz-Date'];
  const expires = params['X-Amz-Expires'];
  const signedHeaders = params['X-Amz-SignedHeaders'];
  const signature = params['X-Amz-Signature'];
  if (
    algorithm === undefined ||
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    throw new SigV4Error(
      code,
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (algorithm !== ALGORITHM) throw new SigV4Error(code, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".');
  if (parseAmzDate(amzDate) === undefined) {
    throw new SigV4Error(code, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'".`);
  }
  const expiresSeconds = parseExpires(expires);
  return {
    credential: parseCredential(credential, code),
    signedHeaders: parseSignedHeaders(signedHeaders, code),
    signature: parseSignature(signature, code),
    amzDate,
    expiresSeconds,
    securityToken: params['X-Amz-Security-Token'],
    contentSha256: params['X-Amz-Content-Sha256'],
  };
}
