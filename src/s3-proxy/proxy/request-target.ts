import { objectKeyProblem, opaqueTokenProblem } from '@stowage/s3-naming';
import { parseDeleteObjects, type DeleteListEntry } from '@stowage/s3-xml';
import { percentDecode, QueryParam, uriEncode } from '@stowage/sigv4';
import { S3ProxyError } from './proxy-error';

/**
 * Where a proxy request points: bucket and key decoded, path and query exactly as received.
 *
 * The bucket and key here are the ONLY target the proxy acts on: the scope check reads them and
 * the upstream client encodes exactly them again (never the raw path), and a key that a server
 * could resolve to somewhere else (`.`/`..` segments, also split on `\\`, control characters)
 * never gets this far. The copy source and the keys of a DeleteObjects body go through the same
 * check ({@link parseCopySource}, {@link checkDeleteList}); the query parameters that name a
 * target of their own (upload ids, version ids, tokens) through {@link checkQuery}.
 */
export interface RequestTarget {
  readonly bucket: string;
  readonly key: string;
  /** The request path as received (still percent-encoded): what the client signed. */
  readonly rawPath: string;
  /** The query string as received, without `?`. */
  readonly rawQuery: string;
  readonly virtualHosted: boolean;
}

/** Percent-decodes a path component; `+` stays a plus sign, as S3 reads paths. */
function decode(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The bucket named by a virtual-hosted `Host` (`<bucket>.<suffix>[:port]`), if any. */
export function bucketFromHost(host: string | undefined, suffixes: readonly string[]): string | undefined {
  if (!host || suffixes.length === 0) return undefined;
  let name = host.toLowerCase();
  const colon = name.lastIndexOf(':');
  if (colon !== -1 && !name.endsWith(']')) name = name.slice(0, colon);
  for (const suffix of suffixes) {
    if (name.length > suffix.length + 1 && name.endsWith(suffix) && name[name.length - suffix.length - 1] === '.') {
      return name.slice(0, name.length - suffix.length - 1);
    }
  }
  return undefined;
}

function invalidArgument(message: string, name: string, value: string): S3ProxyError {
  return new S3ProxyError('InvalidArgument', message, 'invalid_request', {
    extra: { ArgumentName: name, ArgumentValue: value.length > 256 ? value.slice(0, 256) : value },
  });
}

const BACKSLASH_SEGMENTS = /[\\/]/;

/**
 * Why the proxy will not act on an object key, or undefined: the rules of `objectKeyProblem`,
 * with `\\` read as a separator as well (some servers map it to `/`). Most keys pass a single
 * scan without a segment, a `.` at a segment's start or a control character to look at closer.
 */
export function keyProblem(key: string): string | undefined {
  const n = key.length;
  let suspect = n === 0 || n > 341 || key.charCodeAt(0) === 0x2f;
  for (let i = 0; i < n && !suspect; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) suspect = true;
    else if (c === 0x2e && (i === 0 || key.charCodeAt(i - 1) === 0x2f)) suspect = true;
  }
  if (!suspect) return undefined;
  const problem = objectKeyProblem(key);
  if (problem !== undefined) return problem;
  if (key.includes('\\') && key.split(BACKSLASH_SEGMENTS).some((s) => s === '.' || s === '..')) {
    return 'must not contain "." or ".." path segments, also between backslashes';
  }
  return undefined;
}

/** Refuses a key the proxy will not act on, as S3 answers a bad argument. */
function checkKey(key: string, argument: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw invalidArgument(`Object key ${problem}.`, argument, key);
}

/**
 * Splits a request target into bucket and key, path-style (`/bucket/key`) or virtual-hosted
 * (`bucket.<suffix>/key`). Undefined when the target is not a path or does not decode; throws
 * InvalidArgument for a key the proxy will not act on.
 */
export function parseTarget(
  url: string,
  host: string | undefined,
  suffixes: readonly string[],
): RequestTarget | undefined {
  if (url.charCodeAt(0) !== 0x2f) return undefined;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const hosted = bucketFromHost(host, suffixes);
  if (hosted !== undefined) {
    const key = decode(rawPath.slice(1));
    if (key === undefined) return undefined;
    if (key !== '') checkKey(key, 'Key');
    return { bucket: hosted, key, rawPath, rawQuery, virtualHosted: true };
  }
  const slash = rawPath.indexOf('/', 1);
  const bucket = decode(slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash === -1 ? '' : decode(rawPath.slice(slash + 1));
  if (bucket === undefined || key === undefined) return undefined;
  if (key !== '') checkKey(key, 'Key');
  return { bucket, key, rawPath, rawQuery, virtualHosted: false };
}

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/**
 * `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. Undefined when malformed;
 * throws InvalidArgument for a key or version id the proxy will not act on.
 */
export function parseCopySource(value: string): CopySource | undefined {
  const q = value.indexOf('?');
  const path = q === -1 ? value : value.slice(0, q);
  const decoded = decode(path.startsWith('/') ? path.slice(1) : path);
  if (decoded === undefined) return undefined;
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) return undefined;
  let versionId: string | undefined;
  if (q !== -1) {
    const query = new URLSearchParams(value.slice(q + 1));
    versionId = query.get('versionId') ?? undefined;
    if (versionId === undefined || [...query.keys()].length !== 1) return undefined;
    const problem = opaqueTokenProblem(versionId, { allowSlash: true });
    if (problem !== undefined)
      throw invalidArgument(`The copy source version id ${problem}.`, 'x-amz-copy-source', value);
  }
  const key = decoded.slice(slash + 1);
  checkKey(key, 'x-amz-copy-source');
  return { bucket: decoded.slice(0, slash), key, versionId };
}

/** The copy source as sent upstream: each part encoded once, the way S3 itself decodes it. */
export function formatCopySource(source: CopySource): string {
  const path = `/${uriEncode(source.bucket)}/${uriEncode(source.key, true)}`;
  return source.versionId === undefined ? path : `${path}?versionId=${uriEncode(source.versionId)}`;
}

/**
 * Checks the objects of a DeleteObjects body, refusing the whole request for any key or version
 * id the proxy will not act on. The body is forwarded as it was read here, so the upstream acts
 * on exactly these keys (a Content-MD5 or checksum the client sent stays valid). A key is also
 * checked with its surrounding spaces trimmed, as some servers' XML parsers read it. With a
 * credential confined to `keyPrefix`, one key outside it refuses the whole request.
 */
export function checkDeleteList(body: Buffer, keyPrefix?: string): DeleteListEntry[] {
  const entries = parseDeleteObjects(body.toString('utf8'));
  if (!entries) {
    throw new S3ProxyError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
      'invalid_request',
    );
  }
  for (const entry of entries) {
    checkKey(entry.key, 'Key');
    const trimmed = entry.key.trim();
    // A key of spaces only trims to nothing, which names no other key.
    if (trimmed !== entry.key && trimmed !== '') checkKey(trimmed, 'Key');
    if (entry.versionId !== undefined) checkToken(entry.versionId, 'VersionId', true);
  }
  if (keyPrefix === undefined) return entries;
  for (const entry of entries) {
    if (!(entry.key.startsWith(keyPrefix) && entry.key.trim().startsWith(keyPrefix))) {
      throw new S3ProxyError(
        'AccessDenied',
        'The credential is not authorised for a key of this request.',
        'scope_violation',
        {
          extra: { Key: entry.key.slice(0, 256) },
        },
      );
    }
  }
  return entries;
}

function checkToken(value: string, name: string, allowSlash: boolean): void {
  const problem = opaqueTokenProblem(value, { allowSlash });
  if (problem !== undefined) throw invalidArgument(`${name} ${problem}.`, name, value);
}

const DECIMAL = /^[0-9]{1,10}$/;

function checkInteger(value: string, name: string, min: number, max: number): void {
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}.`, name, value);
  }
}

/**
 * Refuses query parameters that name something on the upstream by value (upload ids, version
 * ids, continuation tokens, part numbers and bounds) unless they are well-formed: some servers
 * join them into file paths. Checked on the decoded value; the upstream gets the same value.
 */
export function checkQuery(params: readonly QueryParam[]): void {
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    switch (param.key) {
      case 'uploadId':
      case 'upload-id-marker':
        checkToken(percentDecode(param.raw), param.key, false);
        break;
      case 'versionId':
      case 'version-id-marker':
        checkToken(percentDecode(param.raw), param.key, true);
        break;
      case 'continuation-token':
        // An empty token (a first page) names nothing; S3 lists from the start.
        if (param.raw !== '') checkToken(percentDecode(param.raw), param.key, true);
        break;
      case 'partNumber':
        checkInteger(percentDecode(param.raw), param.key, 1, 10_000);
        break;
      case 'part-number-marker':
        checkInteger(percentDecode(param.raw), param.key, 0, 10_000);
        break;
      case 'max-keys':
      case 'max-parts':
      case 'max-uploads':
        checkInteger(percentDecode(param.raw), param.key, 0, 2_147_483_647);
        break;
    }
  }
}
