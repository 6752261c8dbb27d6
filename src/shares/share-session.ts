import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long one unlock (or one visit of an open share) lasts: one recipient session. */
export const SESSION_TTL_MS = 30 * 60_000;

/** The cookie is scoped to the share's own path, one per share. */
export const sessionCookieName = (code: string) => `stowage_unlock_${code}`;

export interface RecipientSession {
  /** Random id of this recipient session; downloads are counted once per session. */
  id: string;
  /** Epoch seconds after which the cookie is refused. */
  expiresAt: number;
}

function mac(key: Buffer, code: string, expiresAt: number, id: string): Buffer {
  return createHmac('sha256', key).update(`share-session\0${code}\0${expiresAt}\0${id}`).digest();
}

/**
 * Mints `<expiry>.<session id>.<HMAC-SHA256>` for one share code. The signature covers the code,
 * the expiry and the session id, so a cookie minted for one share is refused by another and no
 * field can be changed. The session never outlives the share itself.
 */
export function mintSession(
  key: Buffer,
  code: string,
  now: Date,
  shareExpiresAt: Date | null,
): { value: string; session: RecipientSession } {
  let expiresMs = now.getTime() + SESSION_TTL_MS;
  if (shareExpiresAt) expiresMs = Math.min(expiresMs, shareExpiresAt.getTime());
  const expiresAt = Math.floor(expiresMs / 1000);
  const id = randomBytes(12).toString('base64url');
  const signature = mac(key, code, expiresAt, id).toString('base64url');
  return { value: `${expiresAt}.${id}.${signature}`, session: { id, expiresAt } };
}

/** The session a cookie carries, or undefined when it is malformed, tampered, for another share or expired. */
export function verifySession(
  key: Buffer,
  code: string,
  value: string | undefined,
  now: Date,
): RecipientSession | undefined {
  if (!value || value.length > 200) return undefined;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return undefined;
  const expiresAt = Number(match[1]);
  if (expiresAt * 1000 <= now.getTime()) return undefined;
  const expected = mac(key, code, expiresAt, match[2]);
  const given = Buffer.from(match[3], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { id: match[2], expiresAt };
}
