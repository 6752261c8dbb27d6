import { generateRootKey, parseRootKey, SealError, Sealer } from './sealer';

describe('Sealer', () => {
  const sealer = new Sealer(generateRootKey());

  it('round-trips strings and bytes', () => {
    expect(sealer.openString(sealer.seal('s3cr3t'))).toBe('s3cr3t');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(sealer.open(sealer.seal(bytes))).toEqual(bytes);
  });

  it('uses a fresh nonce for every seal', () => {
    expect(sealer.seal('same').equals(sealer.seal('same'))).toBe(false);
  });

  it('refuses a tampered ciphertext, tag, nonce or version', () => {
    const sealed = sealer.seal('payload');
    for (const index of [0, 5, 14, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] ^= 0x01;
      expect(() => sealer.open(tampered)).toThrow(SealError);
    }
  });

  it('refuses truncated input', () => {
    expect(() => sealer.open(Buffer.alloc(10))).toThrow(SealError);
    expect(() => sealer.open(sealer.seal('x').subarray(0, 20))).toThrow(SealError);
  });

  it('refuses a value sealed with another key', () => {
    const other = new Sealer(generateRootKey());
    expect(() => other.open(sealer.seal('payload'))).toThrow(/tampered, or sealed with another key/);
  });

  it('binds a value to its context', () => {
    const sealed = sealer.seal('payload', 'backend:a');
    expect(sealer.openString(sealed, 'backend:a')).toBe('payload');
    expect(() => sealer.open(sealed, 'backend:b')).toThrow(SealError);
    expect(() => sealer.open(sealed)).toThrow(SealError);
  });

  it('fingerprints keys without revealing them', () => {
    const key = generateRootKey();
    const a = new Sealer(key);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a.fingerprint).toBe(new Sealer(key).fingerprint);
    expect(a.fingerprint).not.toBe(sealer.fingerprint);
    expect(key.toString('hex')).not.toContain(a.fingerprint);
  });

  it('derives a stable, independent subkey per purpose', () => {
    const key = generateRootKey();
    const a = new Sealer(key).deriveKey('share-session');
    expect(a).toHaveLength(32);
    expect(a.equals(new Sealer(key).deriveKey('share-session'))).toBe(true);
    expect(a.equals(new Sealer(key).deriveKey('other'))).toBe(false);
    expect(a.equals(new Sealer(generateRootKey()).deriveKey('share-session'))).toBe(false);
    expect(a.equals(key)).toBe(false);
    expect(() => sealer.deriveKey('')).toThrow(SealError);
  });
});

describe('parseRootKey', () => {
  const key = generateRootKey();

  it('accepts 64 hex characters and 44 base64 characters', () => {
    expect(parseRootKey(key.toString('hex'))).toEqual(key);
    expect(parseRootKey(`${key.toString('base64')}\n`)).toEqual(key);
  });

  it.each(['', 'abc', 'zz'.repeat(32), key.toString('hex').slice(2), 'A'.repeat(44), key.toString('base64url')])(
    'refuses %p',
    (text) => {
      expect(() => parseRootKey(text)).toThrow(SealError);
    },
  );

  it('refuses keys of the wrong length', () => {
    expect(() => new Sealer(Buffer.alloc(16))).toThrow(SealError);
  });
});
