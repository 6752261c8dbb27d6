import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StowageError } from '@stowage/errors';

export const MiB = 1024 * 1024;

/** A body generated chunk by chunk (never whole in memory), with the SHA-256 of what it sent. */
export function streamedBody(size: number, chunk = 64 * 1024): { body: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const body = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const piece = randomBytes(Math.min(chunk, left));
      left -= piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
  let digest: string | undefined;
  return { body, sha256: () => (digest ??= hash.digest('hex')) };
}

export async function sha256Of(body: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const text = (value: string) => Readable.from([Buffer.from(value)]);

/** Resolves to the StowageError a promise rejects with (fails the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<StowageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StowageError);
    return err as StowageError;
  }
  throw new Error('expected a rejection');
}
