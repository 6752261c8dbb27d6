import { uriEncode } from '@stowage/sigv4';

/** Where a proxy request points: bucket and key decoded, path and query exactly as received. */
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

/**
 * Splits a request target into bucket and key, path-style (`/bucket/key`) or virtual-hosted
 * (`bucket.<suffix>/key`). Undefined when the target is not a path or does not decode.
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
    return key === undefined ? undefined : { bucket: hosted, key, rawPath, rawQuery, virtualHosted: true };
  }
  const slash = rawPath.indexOf('/', 1);
  const bucket = decode(slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash === -1 ? '' : decode(rawPath.slice(slash + 1));
  if (bucket === undefined || key === undefined) return undefined;
  return { bucket, key, rawPath, rawQuery, virtualHosted: false };
}

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. Undefined when malformed. */
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
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** The copy source as sent upstream: each part encoded once, the way S3 itself decodes it. */
export function formatCopySource(source: CopySource): string {
  const path = `/${uriEncode(source.bucket)}/${uriEncode(source.key, true)}`;
  return source.versionId === undefined ? path : `${path}?versionId=${uriEncode(source.versionId)}`;
}
