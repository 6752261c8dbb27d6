import { createHash, Hash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** The flexible-checksum algorithms S3 accepts, by the name used in `x-amz-checksum-<name>`. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

/** Byte length of each algorithm's digest, i.e. of the base64-decoded header value. */
export const CHECKSUM_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

/** The algorithm of an `x-amz-checksum-*` header or trailer name, if it is one this library supports. */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | undefined {
  if (!headerName.startsWith('x-amz-checksum-')) return undefined;
  const name = headerName.slice('x-amz-checksum-'.length);
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name) ? (name as ChecksumAlgorithm) : undefined;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, slice-by-8 tables.
const CRC32C_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Continues a CRC-32C over `data`; pass the previous result (0 to start). */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = CRC32C_TABLES;
  let c = ~previous;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5, slice-by-8, each 64-bit table entry held
// as two 32-bit halves (no BigInt on the hot path): table k, byte n at [(k * 256 + n) * 2] (high)
// and [+ 1] (low).
const CRC64_TABLES = (() => {
  const t = new Uint32Array(8 * 256 * 2);
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let k = 0; k < 8; k++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        hi = (hi ^ 0x9a6c9329) >>> 0;
        lo = (lo ^ 0xac4bc9b5) >>> 0;
      }
    }
    t[n * 2] = hi;
    t[n * 2 + 1] = lo;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = ((k - 1) * 256 + n) * 2;
      const hi = t[prev];
      const lo = t[prev + 1];
      const idx = (lo & 0xff) * 2;
      t[(k * 256 + n) * 2] = (hi >>> 8) ^ t[idx];
      t[(k * 256 + n) * 2 + 1] = ((lo >>> 8) | (hi << 24)) ^ t[idx + 1];
    }
  }
  return t;
})();

/** Incremental CRC-64/NVME; `digest()` is the 8-byte big-endian value. */
export class Crc64Nvme {
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): this {
    const t = CRC64_TABLES;
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const n = data.length;
    for (; i + 8 <= n; i += 8) {
      const a = lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      const b = hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
      const i7 = (1792 + (a & 0xff)) * 2;
      const i6 = (1536 + ((a >>> 8) & 0xff)) * 2;
      const i5 = (1280 + ((a >>> 16) & 0xff)) * 2;
      const i4 = (1024 + (a >>> 24)) * 2;
      const i3 = (768 + (b & 0xff)) * 2;
      const i2 = (512 + ((b >>> 8) & 0xff)) * 2;
      const i1 = (256 + ((b >>> 16) & 0xff)) * 2;
      const i0 = (b >>> 24) * 2;
      hi = t[i7] ^ t[i6] ^ t[i5] ^ t[i4] ^ t[i3] ^ t[i2] ^ t[i1] ^ t[i0];
      lo = t[i7 + 1] ^ t[i6 + 1] ^ t[i5 + 1] ^ t[i4 + 1] ^ t[i3 + 1] ^ t[i2 + 1] ^ t[i1 + 1] ^ t[i0 + 1];
    }
    for (; i < n; i++) {
      const idx = ((lo ^ data[i]) & 0xff) * 2;
      lo = ((lo >>> 8) | (hi << 24)) ^ t[idx + 1];
      hi = (hi >>> 8) ^ t[idx];
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}

export interface IncrementalChecksum {
  update(data: Uint8Array): void;
  /** The raw digest bytes (big-endian for the CRCs); base64 of these is the header value. */
  digest(): Buffer;
}

class Crc32Checksum implements IncrementalChecksum {
  private value = 0;
  constructor(private readonly fn: (data: Uint8Array, previous: number) => number) {}
  update(data: Uint8Array): void {
    this.value = this.fn(data, this.value);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.value >>> 0, 0);
    return out;
  }
}

class HashChecksum implements IncrementalChecksum {
  private readonly hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): IncrementalChecksum {
  switch (algorithm) {
    case 'crc32':
      return new Crc32Checksum((data, previous) => zlibCrc32(data, previous));
    case 'crc32c':
      return new Crc32Checksum(crc32c);
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256':
      return new HashChecksum(algorithm);
  }
}

/** The base64 checksum of a whole buffer, as it appears in an `x-amz-checksum-*` header. */
export function checksumBase64(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return checksum.digest().toString('base64');
}
