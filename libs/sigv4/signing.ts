import { createHmac, hash } from 'node:crypto';
import { canonicalQueryString, canonicalUri, parseQuery, PathCanonicalization, QueryParam } from './encoding';
import { ALGORITHM, SCOPE_TERMINATOR } from './parse';

export type HeaderValue = string | readonly string[] | undefined;
/** Request headers keyed by lower-case name. Repeated headers may be given as arrays. */
export type HeaderMap = Readonly<Record<string, HeaderValue>>;

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

export function hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`. */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(`AWS4${secretAccessKey}`, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, SCOPE_TERMINATOR);
}

const WHITESPACE_RUN = /[ \t]+/g;

function trimAll(value: string): string {
  // Fast path: nothing to collapse or trim.
  const n = value.length;
  if (n === 0) return value;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (
    first !== 0x20 &&
    first !== 0x09 &&
    last !== 0x20 &&
    last !== 0x09 &&
    !value.includes('  ') &&
    !value.includes('\t')
  ) {
    return value;
  }
  const collapsed = value.replace(WHITESPACE_RUN, ' ');
  const start = collapsed.charCodeAt(0) === 0x20 ? 1 : 0;
  const end =
    collapsed.length > start && collapsed.charCodeAt(collapsed.length - 1) === 0x20
      ? collapsed.length - 1
      : collapsed.length;
  return collapsed.slice(start, end);
}

/** A header's canonical value: each value trimmed with inner runs of spaces collapsed, joined with `,`. */
export function canonicalHeaderValue(value: HeaderValue): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return trimAll(value);
  let out = '';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ',';
    out += trimAll(value[i]);
  }
  return out;
}

export interface CanonicalRequestInput extends PathCanonicalization {
  method: string;
  /** The raw request path, before `?`. */
  path: string;
  /** The raw query string without `?`, or already parsed parameters. */
  query: string | readonly QueryParam[];
  headers: HeaderMap;
  /** Lower-case and sorted. */
  signedHeaders: readonly string[];
  /** The last line of the canonical request: a hex SHA-256 or a literal such as UNSIGNED-PAYLOAD. */
  payloadHash: string;
  /** Drop this query parameter (by its encoded key), e.g. `X-Amz-Signature` for presigned URLs. */
  excludeQueryParam?: string;
}

export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const params = typeof input.query === 'string' ? parseQuery(input.query) : input.query;
  let headerLines = '';
  let signedList = '';
  const names = input.signedHeaders;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    headerLines += `${name}:${canonicalHeaderValue(input.headers[name])}\n`;
    signedList += i === 0 ? name : `;${name}`;
  }
  return (
    `${input.method}\n${canonicalUri(input.path, input)}\n${canonicalQueryString(params, input.excludeQueryParam)}\n` +
    `${headerLines}\n${signedList}\n${input.payloadHash}`
  );
}

export function buildStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * Whether two strings are equal, in time that depends on their length only. For signatures in
 * hex: comparing the strings directly saves decoding both into buffers for every request.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** The hex signature of a string to sign. */
export function signString(signingKey: Uint8Array, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

/** An object holding a secret that never changes (a changed secret comes in a new object). */
export interface SecretHolder {
  readonly secretKey: string;
}

/**
 * A bounded LRU of derived signing keys. Entries are keyed by access key, date, region, service
 * and the SHA-256 of the secret, so a rotated secret never reuses a key derived from the old one,
 * and no secret is kept in the cache.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Buffer>();
  private newest?: string;
  /** The last key handed out per secret holder (see `forHolder`); dies with the holder. */
  private byHolder = new WeakMap<object, HolderKey>();

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The signing key for the scope, derived on a miss. Callers must not modify the returned buffer. */
  get(accessKeyId: string, secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const fingerprint = hash('sha256', secretAccessKey, 'base64');
    const key = `${accessKeyId}\n${date}\n${region}\n${service}\n${fingerprint}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Moving the newest entry to the end changes nothing; skipping it spares the map a
      // shrink-and-grow when one key does all the work.
      if (key !== this.newest) {
        this.entries.delete(key);
        this.entries.set(key, hit);
        this.newest = key;
      }
      return hit;
    }
    const derived = deriveSigningKey(secretAccessKey, date, region, service);
    this.entries.set(key, derived);
    this.newest = key;
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return derived;
  }

  /**
   * The signing key for the secret of `holder` and the scope: the one last handed out for that
   * holder when the scope matches (no fingerprint of the secret to compute), otherwise as `get`.
   * A holder's secret must never change; a changed secret comes in a new holder.
   */
  forHolder(holder: SecretHolder, accessKeyId: string, date: string, region: string, service: string): Buffer {
    const last = this.byHolder.get(holder);
    if (
      last !== undefined &&
      last.date === date &&
      last.region === region &&
      last.service === service &&
      last.accessKeyId === accessKeyId
    ) {
      return last.key;
    }
    const key = this.get(accessKeyId, holder.secretKey, date, region, service);
    this.byHolder.set(holder, { accessKeyId, date, region, service, key });
    return key;
  }

  clear(): void {
    this.entries.clear();
    this.byHolder = new WeakMap();
  }
}

interface HolderKey {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  key: Buffer;
}
