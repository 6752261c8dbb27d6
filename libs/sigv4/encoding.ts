/**
 * URI encoding as SigV4 defines it: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay
 * as they are, every other byte of the UTF-8 form becomes `%XX` with upper-case hex.
 *
 * The canonicalising functions work on the raw text the client sent and go byte by byte, never
 * through a decoded JavaScript string, so a key holding invalid UTF-8 canonicalises to the very
 * bytes the client signed.
 */

const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

const PERCENT_HEX: string[] = [];
for (let b = 0; b < 256; b++) PERCENT_HEX.push(`%${b.toString(16).toUpperCase().padStart(2, '0')}`);

const SLASH = 0x2f;
const PERCENT = 0x25;
const PLUS = 0x2b;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function encodeByte(b: number): string {
  return b < 128 && UNRESERVED[b] === 1 ? String.fromCharCode(b) : PERCENT_HEX[b];
}

/** Appends the UTF-8 encoding of the code point at `value[i]`; returns how many UTF-16 units it used. */
function encodeCodePoint(value: string, i: number, out: string[]): number {
  const c = value.charCodeAt(i);
  if (c < 0x800) {
    out.push(PERCENT_HEX[0xc0 | (c >> 6)], PERCENT_HEX[0x80 | (c & 0x3f)]);
    return 1;
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
    const d = value.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out.push(
        PERCENT_HEX[0xf0 | (cp >> 18)],
        PERCENT_HEX[0x80 | ((cp >> 12) & 0x3f)],
        PERCENT_HEX[0x80 | ((cp >> 6) & 0x3f)],
        PERCENT_HEX[0x80 | (cp & 0x3f)],
      );
      return 2;
    }
  }
  // A lone surrogate encodes as U+FFFD, as Buffer.from(value, 'utf8') would.
  const cp = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
  out.push(PERCENT_HEX[0xe0 | (cp >> 12)], PERCENT_HEX[0x80 | ((cp >> 6) & 0x3f)], PERCENT_HEX[0x80 | (cp & 0x3f)]);
  return 1;
}

function isPlain(value: string, keepSlash: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || (UNRESERVED[c] !== 1 && !(keepSlash && c === SLASH))) return false;
  }
  return true;
}

/**
 * URI-encodes `value` as-is (a `%` becomes `%25`). With `keepSlash`, `/` is left alone, as in a
 * canonical URI path.
 */
export function uriEncode(value: string, keepSlash = false): string {
  if (isPlain(value, keepSlash)) return value;
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 128) out.push(keepSlash && c === SLASH ? '/' : encodeByte(c));
    else i += encodeCodePoint(value, i, out) - 1;
  }
  return out.join('');
}

/**
 * Decodes the percent-escapes of a raw URI component and re-encodes the resulting bytes
 * canonically, in one pass. A `%` that does not start a valid escape is taken literally. With
 * `plusAsSpace` a `+` means a space (query strings); with `keepSlash` a literal `/` stays (paths),
 * while an escaped `%2F` stays escaped.
 */
export function canonicalizeComponent(raw: string, plusAsSpace: boolean, keepSlash: boolean): string {
  if (isPlain(raw, keepSlash)) return raw;
  const out: string[] = [];
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT && i + 2 < n) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push(encodeByte((hi << 4) | lo));
        i += 2;
        continue;
      }
      out.push('%25');
    } else if (c === PLUS && plusAsSpace) {
      out.push('%20');
    } else if (c === SLASH && keepSlash) {
      out.push('/');
    } else if (c < 128) {
      out.push(encodeByte(c));
    } else {
      i += encodeCodePoint(raw, i, out) - 1;
    }
  }
  return out.join('');
}

/** Percent-decodes a raw URI component into a string (UTF-8); `+` means a space. */
export function percentDecode(raw: string): string {
  let plain = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT || c === PLUS) {
      plain = false;
      break;
    }
  }
  if (plain) return raw;
  const input = Buffer.from(raw, 'utf8');
  const output = Buffer.allocUnsafe(input.length);
  let o = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === PERCENT && i + 2 < input.length) {
      const hi = hexValue(input[i + 1]);
      const lo = hexValue(input[i + 2]);
      if (hi >= 0 && lo >= 0) {
        output[o++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    output[o++] = c === PLUS ? 0x20 : c;
  }
  return output.toString('utf8', 0, o);
}

/** Removes `.` and `..` segments and empty segments, keeping a trailing slash (generic AWS services). */
export function normalizeUriPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

export interface PathCanonicalization {
  /** Resolve `.`/`..` and collapse empty segments first (generic AWS services; never S3). */
  normalizePath?: boolean;
  /**
   * Encode the path as received, so an already-escaped path is escaped a second time (generic
   * AWS services). S3 (false) instead decodes each segment and encodes it once.
   */
  doubleEncode?: boolean;
}

/** The canonical URI of a raw request path (the part of the request target before `?`). */
export function canonicalUri(rawPath: string, options: PathCanonicalization = {}): string {
  let path = rawPath === '' ? '/' : rawPath;
  if (options.normalizePath) path = normalizeUriPath(path);
  return options.doubleEncode ? uriEncode(path, true) : canonicalizeComponent(path, false, true);
}

export interface QueryParam {
  /** The key, canonically encoded. */
  readonly key: string;
  /** The value, canonically encoded. */
  readonly value: string;
  /** The value exactly as received. */
  readonly raw: string;
}

/** Splits a raw query string (without `?`) into canonically encoded parameters, in order. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  let start = 0;
  while (start <= rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = rawQuery.length;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const rawKey = rawQuery.slice(start, hasValue ? eq : end);
      const raw = hasValue ? rawQuery.slice(eq + 1, end) : '';
      params.push({
        key: canonicalizeComponent(rawKey, true, false),
        value: canonicalizeComponent(raw, true, false),
        raw,
      });
    }
    start = end + 1;
  }
  return params;
}

function compareParams(a: QueryParam, b: QueryParam): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

/**
 * The canonical query string: parameters sorted by encoded key, then encoded value, joined as
 * `key=value` with `&`. `exclude` drops a parameter by its encoded key (the presigned
 * `X-Amz-Signature`).
 */
export function canonicalQueryString(params: readonly QueryParam[], exclude?: string): string {
  if (params.length === 0) return '';
  const kept = exclude === undefined ? params.slice() : params.filter((p) => p.key !== exclude);
  if (kept.length > 1) kept.sort(compareParams);
  let out = '';
  for (let i = 0; i < kept.length; i++) {
    if (i > 0) out += '&';
    out += `${kept[i].key}=${kept[i].value}`;
  }
  return out;
}
