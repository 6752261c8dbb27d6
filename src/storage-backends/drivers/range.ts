import { StowageError } from '@stowage/errors';
import type { ByteRange } from '../backend';

/**
 * The one range library: the dashboard and share links parse a client's `Range` header with
 * {@link parseRangeHeader}; drivers format it for the upstream, resolve it against an object's
 * size and read the upstream's `Content-Range` back.
 */

const isOffset = (n: number | undefined): n is number => n !== undefined && Number.isSafeInteger(n) && n >= 0;

function badRange(range: ByteRange, why: string): StowageError {
  return new StowageError('bad_range', undefined, `${why}: ${JSON.stringify(range)}`);
}

/** The inclusive offsets of the last `suffixLength` bytes of a non-empty object of `size` bytes. */
function lastBytes(suffixLength: number, size: number): { start: number; end: number } {
  return { start: Math.max(0, size - suffixLength), end: size - 1 };
}

/**
 * Parses a client's single-range `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Absent →
 * undefined; anything else (several ranges, other units, reversed bounds) → `bad_range`.
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === ''))
    throw new StowageError('bad_range', undefined, 'expected bytes=start-end, bytes=start- or bytes=-length');
  if (match[1] === '') {
    const suffixLength = Number(match[2]);
    if (suffixLength === 0)
      throw new StowageError('bad_range', undefined, 'a suffix range must not be empty', { status: 416 });
    return { suffixLength };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? undefined : Number(match[2]);
  if (end !== undefined && end < start)
    throw new StowageError('bad_range', undefined, 'the range ends before it starts');
  return { start, end };
}

/** True for a range of the form `bytes=-N` (the last N bytes). */
export function isSuffixRange(range: ByteRange): boolean {
  return range.suffixLength !== undefined;
}

/** Turns a suffix range into absolute bounds for backends that cannot serve `bytes=-n`. */
export function absoluteRange(range: ByteRange, size: number): ByteRange {
  if (range.suffixLength === undefined) return range;
  if (size === 0) throw new StowageError('bad_range', undefined, 'the object is empty', { status: 416 });
  return lastBytes(range.suffixLength, size);
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
    return lastBytes(range.suffixLength, size);
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
