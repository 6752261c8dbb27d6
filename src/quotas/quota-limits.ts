import { parseByteSize } from '@stowage/config';
import { StowageError } from '@stowage/errors';

/**
 * A byte limit from a request body (bucket and namespace quotas): absent or null means none;
 * anything else must be a byte size (a count of bytes or `8Gi`, `500Mi`, `1.5G`), else
 * `invalid_quota` naming the field.
 */
export function byteLimitOf(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  const parsed = parseByteSize(value);
  if ('problem' in parsed) throw new StowageError('invalid_quota', undefined, `${field}: ${parsed.problem}`);
  return parsed.bytes;
}

/** Soft and hard byte limits from a request body, checked together (soft ≤ hard). */
export function byteLimitsOf(body: { soft_bytes?: unknown; hard_bytes?: unknown }): {
  softBytes: number | null;
  hardBytes: number | null;
} {
  const softBytes = byteLimitOf(body.soft_bytes, 'soft_bytes');
  const hardBytes = byteLimitOf(body.hard_bytes, 'hard_bytes');
  if (softBytes !== null && hardBytes !== null && softBytes > hardBytes) {
    throw new StowageError('invalid_quota', undefined, 'soft_bytes must not be larger than hard_bytes');
  }
  return { softBytes, hardBytes };
}
