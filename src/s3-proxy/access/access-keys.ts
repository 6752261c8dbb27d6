import { randomBytes } from 'node:crypto';

/** Every access key id Stowage issues starts with this, so a leaked one is recognisable. */
export const ACCESS_KEY_PREFIX = 'STWG';
export const ACCESS_KEY_LENGTH = 20;
export const SECRET_KEY_LENGTH = 40;

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ACCESS_KEY_SHAPE = new RegExp(`^${ACCESS_KEY_PREFIX}[A-Z0-9]{${ACCESS_KEY_LENGTH - ACCESS_KEY_PREFIX.length}}$`);

/** The AAD that binds a credential's sealed secret to its access key id. */
export const credentialSecretContext = (accessKey: string) => `s3-credential:${accessKey}`;

/** `length` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias). */
function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** An AWS-shaped access key id: 20 upper-case letters and digits, starting with the prefix. */
export function generateAccessKey(): string {
  return ACCESS_KEY_PREFIX + randomString(UPPER_ALNUM, ACCESS_KEY_LENGTH - ACCESS_KEY_PREFIX.length);
}

/** A 40-character secret of letters and digits (about 238 bits). */
export function generateSecretKey(): string {
  return randomString(ALNUM, SECRET_KEY_LENGTH);
}

/** Whether a string could be an access key id Stowage issued (cheap; no lookup). */
export function isIssuedAccessKeyShape(accessKey: string): boolean {
  return accessKey.length === ACCESS_KEY_LENGTH && ACCESS_KEY_SHAPE.test(accessKey);
}
