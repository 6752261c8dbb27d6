import { bucketNameProblem, bucketPrefixProblem, keyPrefixProblem } from '@stowage/s3-naming';
import type { BucketScope } from './access.types';

/** Whether `scope` covers the bucket `bucket` (a namespace: a longer name that starts with its prefix). */
export function scopeCovers(scope: BucketScope, bucket: string): boolean {
  return scope.namespace === true
    ? bucket.length > scope.bucket.length && bucket.startsWith(scope.bucket)
    : scope.bucket === bucket;
}

/** The one scope of `scopes` that covers `bucket`, if any. */
export function scopeOf(scopes: readonly BucketScope[], bucket: string): BucketScope | undefined {
  for (let i = 0; i < scopes.length; i++) {
    if (scopeCovers(scopes[i], bucket)) return scopes[i];
  }
  return undefined;
}

/** Whether a key-prefix scope lets `key` through (always, for a whole bucket or a namespace). */
export function keyInScope(scope: BucketScope, key: string): boolean {
  return scope.keyPrefix === undefined || key.startsWith(scope.keyPrefix);
}

/** How a scope is named in messages: `local:team-a-*`, `local:shared/home/alice/`, `local:assets`. */
export function describeScope(scope: BucketScope): string {
  if (scope.namespace) return `${scope.backendId}:${scope.bucket}*`;
  return `${scope.backendId}:${scope.bucket}${scope.keyPrefix ? `/${scope.keyPrefix}` : ''}`;
}

/**
 * Why a list of scopes cannot be granted, or undefined. Each scope's names follow the naming
 * rules (a bucket name, a bucket-name prefix ending in `-`, a key prefix ending in `/`), and no
 * bucket name may be covered by two scopes: the proxy picks the backend, and the key prefix,
 * from the bucket name alone, so overlapping namespaces (`team-` and `team-a-`), a bucket inside
 * a namespace, or one bucket twice are refused, on one backend or across several.
 */
export function scopesProblem(
  scopes: readonly BucketScope[],
): { field: 'scope' | 'name'; message: string } | undefined {
  for (const scope of scopes) {
    if (scope.namespace) {
      if (scope.keyPrefix !== undefined)
        return { field: 'scope', message: `${scope.bucket}: a namespace cannot have a key prefix` };
      const problem = bucketPrefixProblem(scope.bucket);
      if (problem) return { field: 'name', message: `bucket_prefix ${scope.bucket}: ${problem}` };
    } else {
      const problem = bucketNameProblem(scope.bucket);
      if (problem) return { field: 'name', message: `${scope.bucket}: ${problem}` };
      if (scope.keyPrefix !== undefined) {
        const keyProblem = keyPrefixProblem(scope.keyPrefix);
        if (keyProblem) return { field: 'scope', message: `key_prefix ${scope.keyPrefix}: ${keyProblem}` };
      }
    }
  }
  for (let i = 0; i < scopes.length; i++) {
    for (let j = i + 1; j < scopes.length; j++) {
      const a = scopes[i];
      const b = scopes[j];
      if (overlap(a, b)) {
        return {
          field: 'scope',
          message: `${describeScope(a)} and ${describeScope(b)} overlap: a bucket name may be covered by one scope only`,
        };
      }
    }
  }
  return undefined;
}

function overlap(a: BucketScope, b: BucketScope): boolean {
  if (a.namespace && b.namespace) return a.bucket.startsWith(b.bucket) || b.bucket.startsWith(a.bucket);
  if (a.namespace) return scopeCovers(a, b.bucket);
  if (b.namespace) return scopeCovers(b, a.bucket);
  return a.bucket === b.bucket;
}
