import { isStowageError, StowageError } from '@stowage/errors';
import type { ReplacedRead } from '../quotas/replaced-size';
import type { Backend } from './backend';

/** The size of the object at `key` (of a version, when given), or undefined when there is none. */
export async function sizeIfExists(
  backend: Backend,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<number | undefined> {
  try {
    return (await backend.headObject(bucket, key, versionId)).size;
  } catch (err) {
    if (isStowageError(err) && err.code === 'not_found') return undefined;
    throw err;
  }
}

/**
 * A HEAD of the object a write replaces, sent beside the write: never rejects. Whether it may
 * have seen the new object instead is for `replacedChange` (src/quotas/replaced-size.ts) to say.
 */
export function readReplaced(backend: Backend, bucket: string, key: string): Promise<ReplacedRead> {
  return backend.headObject(bucket, key).then(
    ({ size, etag, lastModified }) => ({ found: { size, etag, lastModified } }),
    (err: unknown) => (isStowageError(err) && err.code === 'not_found' ? { found: undefined } : { failed: true }),
  );
}

/** Refuses (`object_exists`) a write that must not replace an object already at `key`. */
export async function refuseIfExists(backend: Backend, bucket: string, key: string): Promise<void> {
  if ((await sizeIfExists(backend, bucket, key)) !== undefined) {
    throw new StowageError('object_exists', undefined, `${bucket}/${key} already exists`);
  }
}
