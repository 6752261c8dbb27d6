/**
 * Naming rules for buckets and object keys, as S3 defines them. Framework-free so the API,
 * the S3 proxy and the CLI share one definition.
 */

const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** Why a bucket name breaks the rules, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!BUCKET_CHARS.test(name)) {
    return 'must use lower-case letters, digits, dots and hyphens, and start and end with a letter or digit';
  }
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (name.includes('.-') || name.includes('-.')) return 'must not have a dot next to a hyphen';
  if (IPV4_LIKE.test(name)) return 'must not look like an IP address';
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return 'must not start with a reserved prefix';
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) return 'must not end with a reserved suffix';
  return undefined;
}

export function isValidBucketName(name: string): boolean {
  return bucketNameProblem(name) === undefined;
}

const BUCKET_PREFIX_CHARS = /^[a-z0-9][a-z0-9.-]{0,48}-$/;

/**
 * Why a bucket-name prefix (a tenant namespace such as `team-a-`) is unusable, or undefined.
 * It is the start of a valid bucket name and ends with a hyphen, so it matches only names that
 * continue after a separator: `team-a-` covers `team-a-x`, never `team-a` nor `team-ab`. At most
 * 50 characters, leaving room for a name of its own.
 */
export function bucketPrefixProblem(prefix: string): string | undefined {
  if (prefix.length < 2 || prefix.length > 50) return 'must be 2 to 50 characters long';
  if (!BUCKET_PREFIX_CHARS.test(prefix)) {
    return 'must use lower-case letters, digits, dots and hyphens, start with a letter or digit and end with "-"';
  }
  if (prefix.includes('..')) return 'must not contain two adjacent dots';
  if (prefix.includes('.-') || prefix.includes('-.')) return 'must not have a dot next to a hyphen';
  if (RESERVED_PREFIXES.some((p) => prefix.startsWith(p) || p.startsWith(prefix)))
    return 'must not start or be the start of a reserved prefix';
  return undefined;
}

export const MAX_KEY_BYTES = 1024;

/** Why an object key is unusable, or undefined when it is valid. */
export function objectKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes in UTF-8`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'must not contain control characters';
  if (key.startsWith('/')) return 'must not start with "/"';
  if (key.split('/').some((segment) => segment === '.' || segment === '..'))
    return 'must not contain "." or ".." path segments';
  return undefined;
}

/** Why a listing prefix is unusable (empty is fine), or undefined when it is valid. */
export function prefixProblem(prefix: string): string | undefined {
  return prefix === '' ? undefined : objectKeyProblem(prefix);
}

export const MAX_KEY_PREFIX_BYTES = 512;

/**
 * Why a key prefix a credential is confined to (`home/alice/`) is unusable, or undefined: a
 * valid object key of at most 512 bytes that ends with `/`, so `home/alice/` never covers
 * `home/alice2/`.
 */
export function keyPrefixProblem(prefix: string): string | undefined {
  const problem = objectKeyProblem(prefix);
  if (problem !== undefined) return problem;
  if (Buffer.byteLength(prefix, 'utf8') > MAX_KEY_PREFIX_BYTES) return `must be at most ${MAX_KEY_PREFIX_BYTES} bytes`;
  if (prefix.includes('\\')) return 'must not contain "\\"';
  if (!prefix.endsWith('/')) return 'must end with "/"';
  return undefined;
}

/** The longest upload id, version id or continuation token accepted from a client. */
export const MAX_OPAQUE_TOKEN_LENGTH = 1024;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Why an opaque identifier a client hands back is unusable, or undefined when it is acceptable:
 * printable ASCII without spaces, bounded, no backslash and no `.` or `..` segment, since some
 * servers turn these into file paths. A multipart upload id may hold no `/` at all; version ids
 * and continuation tokens may (AWS's are base64 and contain `/`), so `allowSlash` lets them.
 */
export function opaqueTokenProblem(
  value: string,
  options: { allowSlash?: boolean; maxLength?: number } = {},
): string | undefined {
  const maxLength = options.maxLength ?? MAX_OPAQUE_TOKEN_LENGTH;
  if (value.length === 0) return 'must not be empty';
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  if (!PRINTABLE_ASCII.test(value)) return 'must be printable ASCII without spaces';
  if (value.includes('\\')) return 'must not contain "\\"';
  if (!options.allowSlash && value.includes('/')) return 'must not contain "/"';
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'must not contain "." or ".." segments';
  }
  return undefined;
}
