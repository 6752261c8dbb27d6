import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ENVELOPE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/**
 * AES-256-GCM sealing with a versioned envelope: `version(1) | iv(12) | ciphertext | tag(16)`.
 * `aad` binds a sealed value to its context (e.g. the row it belongs to), so a ciphertext
 * copied into another row does not open.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SealError('root key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  /** A short, non-reversible identifier of the key, safe to log and to compare across replicas. */
  get fingerprint(): string {
    return createHash('sha256').update('stowage-root-key-fingerprint').update(this.key).digest('hex').slice(0, 16);
  }

  /**
   * A subkey for one purpose (HKDF-SHA256 with the purpose as its info), so the root key itself
   * only ever seals: every other use (e.g. signing cookies) gets its own independent key.
   */
  deriveKey(purpose: string, length = 32): Buffer {
    if (!purpose) throw new SealError('a derived key needs a purpose');
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `stowage:${purpose}`, length));
  }

  seal(plaintext: string | Buffer, aad?: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([ENVELOPE_VERSION]), iv, body, cipher.getAuthTag()]);
  }

  open(envelope: Buffer, aad?: string): Buffer {
    if (envelope.length < HEADER_BYTES + TAG_BYTES) throw new SealError('sealed value is truncated');
    if (envelope[0] !== ENVELOPE_VERSION) throw new SealError('sealed value has an unknown version');
    const iv = envelope.subarray(1, HEADER_BYTES);
    const tag = envelope.subarray(envelope.length - TAG_BYTES);
    const body = envelope.subarray(HEADER_BYTES, envelope.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new SealError('sealed value failed authentication (tampered, or sealed with another key)');
    }
  }

  openString(envelope: Buffer, aad?: string): string {
    return this.open(envelope, aad).toString('utf8');
  }
}

/** Parses a root key given as 64 hex characters or 44 base64 characters (32 bytes). */
export function parseRootKey(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    if (key.length === 32) return key;
  }
  throw new SealError('root key must be 64 hex characters or 44 base64 characters (32 bytes)');
}

export function generateRootKey(): Buffer {
  return randomBytes(32);
}
