import type { UsageChange } from './quota-reservations.service';

/** What a HEAD of the key a write replaces saw: the object there (undefined: none), or that it failed. */
export type ReplacedRead = { found?: { size: number; etag?: string; lastModified?: Date } } | { failed: true };

/** What the upstream answered the write: the new object's ETag when its answer carries one. */
export interface WriteAnswer {
  etag?: string;
}

/** `"abc"`, `abc` and `W/"abc"` name the same ETag. */
function bareEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/**
 * What a write of `bytes` bytes committed over a key does to its bucket's usage, given a HEAD of
 * that key that ran BESIDE the write (not before it, so the write waits for no extra round trip):
 * `startedAt` is when the write began (before the HEAD was sent), `answer` the upstream's answer
 * to the write.
 *
 * Such a HEAD may have seen the old object (or none), or, landing after the upstream committed the
 * write, the new object. Counting the new object as "replaced" would count nothing for the write
 * (a write that added an object would be undercounted by its whole size), and usage could then
 * let later writes past the hard cap. So when the HEAD may have seen the new object, what was
 * replaced is taken as unknown in the direction that never undercounts: as if nothing was
 * replaced (all `bytes` and one object are added). That can only overcount (an overwrite then
 * counts its old size twice, at worst refusing a write that would have fitted), and the next size
 * scan corrects the drift.
 *
 * "May have seen the new object": its ETag is the one the write's answer carries (the same
 * object, or an old one with the very same content). When either side has no ETag to compare, its
 * Last-Modified (whole seconds) not before the second the write began; two different ETags
 * settle it without the clock, so quick overwrites of a key (within a second) still free the old
 * size exactly. A HEAD that failed, or an object without a usable Last-Modified where the clock
 * must decide, count as unknown too.
 */
export function replacedChange(bytes: number, read: ReplacedRead, answer: WriteAnswer, startedAt: number): UsageChange {
  const whole = { bytes, objects: 1 };
  if ('failed' in read) return whole;
  const seen = read.found;
  if (seen === undefined) return whole;
  if (answer.etag !== undefined && seen.etag !== undefined) {
    if (bareEtag(answer.etag) === bareEtag(seen.etag)) return whole;
  } else {
    const modified = seen.lastModified?.getTime();
    if (modified === undefined || Number.isNaN(modified) || modified >= Math.floor(startedAt / 1000) * 1000) {
      return whole;
    }
  }
  return { bytes: bytes - seen.size, objects: 0 };
}
