import { StowageError } from '@stowage/errors';
import { ByteRange } from '../storage-backends/backend';

/**
 * Parses a single-range `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Absent → undefined;
 * anything else (several ranges, other units, reversed bounds) → `bad_range`.
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

/** Turns a suffix range into absolute bounds for backends that cannot serve `bytes=-n`. */
export function absoluteRange(range: ByteRange, size: number): ByteRange {
  if (range.suffixLength === undefined) return range;
  if (size === 0) throw new StowageError('bad_range', undefined, 'the object is empty', { status: 416 });
  return { start: Math.max(0, size - range.suffixLength), end: size - 1 };
}

/** `attachment; filename="…"; filename*=UTF-8''…` for any key, safe against header injection. */
export function contentDisposition(kind: 'attachment' | 'inline', key: string): string {
  const name = key.split('/').filter(Boolean).pop() ?? 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
