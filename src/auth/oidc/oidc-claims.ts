import { Role } from '../../users/user.entity';

/** Roles in the order a mapping is tried: the first that matches wins. */
const ROLE_ORDER: readonly Role[] = ['admin', 'user', 'readonly'];

/** Longest claim path accepted, in segments (a dotted path reaches into nested objects). */
const MAX_PATH_SEGMENTS = 8;

/**
 * The values of a claim at a dotted path (`groups`, `realm_access.roles`): a string gives one
 * value, an array its string members; anything else, or a missing claim, gives none. A path
 * segment names an own property only, so `__proto__` or `constructor` never reach a prototype.
 */
export function claimValues(claims: Record<string, unknown>, path: string): string[] {
  const segments = path.split('.');
  if (!path || segments.length > MAX_PATH_SEGMENTS || segments.some((s) => !s)) return [];
  let current: unknown = claims;
  for (const segment of segments) {
    if (!current || typeof current !== 'object' || Array.isArray(current)) return [];
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return [];
    current = (current as Record<string, unknown>)[segment];
  }
  if (typeof current === 'string') return [current];
  if (Array.isArray(current)) return current.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The Stowage role for a user's group values: admin, then user, then readonly, the first whose
 * mapped groups include one of the values (exact, case-sensitive match); undefined when none does.
 */
export function mapRole(values: readonly string[], mapping: Record<string, readonly string[]>): Role | undefined {
  const have = new Set(values);
  return ROLE_ORDER.find((role) => (mapping[role] ?? []).some((group) => have.has(group)));
}

/** Longest `next` path kept across the sign-in. */
const MAX_NEXT_LENGTH = 1024;

/**
 * The path to return to after sign-in, when `next` is one of our own: an absolute path
 * (`/buckets/x?y=1`) without a scheme, host, backslash, control character or dot segment, so a
 * crafted link can never send a freshly signed-in user to another site. Anything else gives `/`.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_NEXT_LENGTH) return '/';
  if (!next.startsWith('/') || next.startsWith('//')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return '/';
  }
  // eslint-disable-next-line no-control-regex
  if (decoded.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(decoded)) return '/';
  const path = decoded.split(/[?#]/, 1)[0];
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return '/';
  let parsed: URL;
  try {
    parsed = new URL(next, 'http://stowage.invalid');
  } catch {
    return '/';
  }
  if (parsed.origin !== 'http://stowage.invalid') return '/';
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
