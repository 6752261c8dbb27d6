import { createHash, randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Crc32c as SdkCrc32c, Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/checksums/crc';
import { checksumAlgorithmOf, checksumBase64, crc32c, Crc64Nvme, createChecksum } from './checksums';

const CHECK = Buffer.from('123456789');

async function sdkDigest(
  ctor: new () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> },
  data: Uint8Array,
) {
  const h = new ctor();
  h.update(data);
  return Buffer.from(await h.digest()).toString('base64');
}

function splitRandomly(data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const n = 1 + Math.floor(Math.random() * 40);
    parts.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return parts;
}

describe('checksums', () => {
  it('produces the standard check values', () => {
    expect(zlibCrc32(CHECK)).toBe(0xcbf43926);
    expect(crc32c(CHECK)).toBe(0xe3069283);
    expect(new Crc64Nvme().update(CHECK).digest().toString('hex')).toBe('ae8b14860a799888');
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('matches the AWS SDK implementations on random data, whole and in pieces', async () => {
    for (const size of [0, 1, 7, 8, 9, 63, 64, 1000, 65537]) {
      const data = randomBytes(size);
      expect(checksumBase64('crc32c', data)).toBe(await sdkDigest(SdkCrc32c, data));
      expect(checksumBase64('crc64nvme', data)).toBe(await sdkDigest(SdkCrc64Nvme, data));
      const crc32 = Buffer.alloc(4);
      crc32.writeUInt32BE(zlibCrc32(data));
      expect(checksumBase64('crc32', data)).toBe(crc32.toString('base64'));
      expect(checksumBase64('sha1', data)).toBe(createHash('sha1').update(data).digest('base64'));
      expect(checksumBase64('sha256', data)).toBe(createHash('sha256').update(data).digest('base64'));

      for (const algorithm of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
        const incremental = createChecksum(algorithm);
        for (const part of splitRandomly(data)) incremental.update(part);
        expect([algorithm, size, incremental.digest().toString('base64')]).toEqual([
          algorithm,
          size,
          checksumBase64(algorithm, data),
        ]);
      }
    }
  });

  it('recognises checksum header names', () => {
    expect(checksumAlgorithmOf('x-amz-checksum-crc32')).toBe('crc32');
    expect(checksumAlgorithmOf('x-amz-checksum-crc64nvme')).toBe('crc64nvme');
    expect(checksumAlgorithmOf('x-amz-checksum-md5')).toBeUndefined();
    expect(checksumAlgorithmOf('x-amz-meta-crc32')).toBeUndefined();
  });
});
