import { StowageError } from '@stowage/errors';
import { objectKeyProblem } from '@stowage/s3-naming';

/** The largest object a single upload request may carry (S3's own single-PUT limit). */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 ** 3;

/** A key named by a request must follow the naming rules (`invalid_key`). */
export function assertKey(key: string): void {
  const problem = objectKeyProblem(key);
  if (problem) throw new StowageError('invalid_key', undefined, `key: ${problem}`);
}
