import { StowageError } from '@stowage/errors';
import { bucketNameProblem } from '@stowage/s3-naming';

/** A bucket named in a path must follow the naming rules (`invalid_bucket`). */
export function assertBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem) throw new StowageError('invalid_bucket', undefined, `bucket: ${problem}`);
}
