import { StowageError } from '@stowage/errors';
import type { ByteRange } from '../backend';

const isOffset = (n: number | undefined): n is number => n !== undefined && Number.isSafeInteger(n) && n >= 0;

function badRange(range: ByteRange, why: string): StowageError {
  return new StowageError('bad_range', undefined, `${why}: ${JSON.stringify(range)}`);
}

/** True for a range of the form `bytes=-N` (the last N bytes). */
export function isSuffixRange(range: ByteRange): boolean {
  return range.suffixLength !== undefined;
}

/**
 * The `Range` header for a {@link ByteRange}: `bytes=start-end`, `bytes=start-` or `bytes=-N`.
 * Throws `bad_range` for a range no object could satisfy (negative or fractional offsets, an end
 * before the start, an empty suffix, or a suffix mixed with offsets).
 */
export function formatRangeHeader(range: ByteRange): string {
  if (range.suffixLength !== undefined) {
    if (range.start !== undefined || range.end !== undefined) {
      throw badRange(range, 'a suffix range takes no start or end');
    }
    if (!isOffset(range.suffixLength) || range.suffixLength === 0) {
      throw badRange(range, 'the suffix length must be a positive integer');
    }
    return `bytes=-${range.suffixLength}`;
  }
  if (!isOffset(range.start)) throw badRange(range, 'the start must be a non-negative integer');
  if (range.end === undefined) return `bytes=${range.start}-`;
  if (!isOffset(range.end)) throw badRange(range, 'the end must be a non-negative integer');
  if (range.end < range.start) throw badRange(range, 'the end comes before the start');
  return `bytes=${range.start}-${range.end}`;
}

/**
 * The inclusive byte offsets a range selects in an object of `size` bytes, clamped to the object
 * like S3 does. Throws `bad_range` when the range is malformed or unsatisfiable.
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  formatRangeHeader(range);
  if (range.suffixLength !== undefined) {
    if (size === 0) throw badRange(range, 'the object is empty');
    return { start: Math.max(0, size - range.suffixLength), end: size - 1 };
  }
  const start = range.start!;
  if (start >= size) throw badRange(range, `the object has ${size} bytes`);
  return { start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** Parses `bytes start-end/total` (total may be `*`); undefined for anything else. */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return {
    start: Number(match[1]),
    end: Number(match[2]),
    total: match[3] === '*' ? undefined : Number(match[3]),
  };
}
