import { isStowageError } from '@stowage/errors';
import type { Actor } from '../access/actor';
import type { QuotaOrigin, UsageChange } from '../quotas/quota-reservations.service';
import type { ReplacedRead } from '../quotas/replaced-size';
import type { Backend } from '../storage-backends/backend';

/** The size of the object a write is about to replace, or undefined when there is none. */
export async function sizeIfExists(backend: Backend, bucket: string, key: string): Promise<number | undefined> {
  try {
    return (await backend.headObject(bucket, key)).size;
  } catch (err) {
    if (isStowageError(err) && err.code === 'not_found') return undefined;
    throw err;
  }
}

/** A HEAD of the key a write replaces, run beside the write: never rejects (see replacedChange). */
export function readReplaced(backend: Backend, bucket: string, key: string): Promise<ReplacedRead> {
  return backend.headObject(bucket, key).then(
    ({ size, etag, lastModified }) => ({ found: { size, etag, lastModified } }),
    (err: unknown) => (isStowageError(err) && err.code === 'not_found' ? { found: undefined } : { failed: true }),
  );
}

/** What writing `bytes` over an object of `replaced` bytes (or none) does to a bucket's usage. */
export function replacing(bytes: number, replaced: number | undefined): UsageChange {
  return { bytes: bytes - (replaced ?? 0), objects: replaced === undefined ? 1 : 0 };
}

export function quotaOrigin(actor: Actor): QuotaOrigin {
  return {
    via: 'api',
    userId: actor.identity.id,
    username: actor.identity.username,
    requestId: actor.origin.requestId,
    ip: actor.origin.ip,
    userAgent: actor.origin.userAgent,
  };
}

/** Runs `task` over `items`, `limit` at a time, answering the results in order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
