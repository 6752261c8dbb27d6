export interface ExpiringCacheOptions<V> {
  /** How long an answer may be served after its lookup started. */
  ttlMs: number;
  /** Most positive answers kept; the least recently used go first. */
  maxEntries: number;
  /** Most negative answers kept (see `isNegative`). */
  maxNegativeEntries: number;
  /** Which answers count as negative ("no such thing"); they are kept apart, in a smaller cache. */
  isNegative: (value: V) => boolean;
  /** The clock (tests pass a fake one). */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  /** When the lookup that produced the value started. */
  at: number;
}

/**
 * A bounded, least-recently-used, read-through cache whose answers expire `ttlMs` after the
 * lookup that produced them started, so a change the process was never told about still shows
 * within `ttlMs`. Concurrent misses of one key share a single lookup. Invalidating a key while
 * its lookup is in flight discards that lookup's answer instead of caching it.
 */
export class ExpiringCache<K, V> {
  private readonly positive = new Map<K, Entry<V>>();
  private readonly negative = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private readonly now: () => number;
  private newest?: K;

  constructor(
    private readonly options: ExpiringCacheOptions<V>,
    private readonly loader: (key: K) => Promise<V>,
  ) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.positive.size + this.negative.size;
  }

  /**
   * The answer for `key`: synchronously when a fresh one is cached (the S3 proxy's hot path
   * saves a promise and a microtask per request that way), otherwise once it is looked up.
   */
  get(key: K): V | Promise<V> {
    const now = this.now();
    const hit = this.fresh(this.positive, key, now) ?? this.fresh(this.negative, key, now);
    if (hit) return hit.value;
    return this.load(key, now);
  }

  /** Forgets one key, including an answer still being looked up. */
  invalidate(key: K): void {
    this.positive.delete(key);
    this.negative.delete(key);
    this.loading.delete(key);
  }

  /** Forgets the positive answers that match, and every lookup in flight. */
  invalidateWhere(predicate: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.positive) if (predicate(entry.value, key)) this.positive.delete(key);
    this.loading.clear();
  }

  clear(): void {
    this.positive.clear();
    this.negative.clear();
    this.loading.clear();
  }

  private fresh(map: Map<K, Entry<V>>, key: K, now: number): Entry<V> | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (now - entry.at >= this.options.ttlMs) {
      map.delete(key);
      return undefined;
    }
    // Most recently used goes last; the newest needs no move (which would shrink and regrow the map).
    if (key !== this.newest) {
      map.delete(key);
      map.set(key, entry);
      this.newest = key;
    }
    return entry;
  }

  private load(key: K, startedAt: number): Promise<V> {
    const pending = this.loading.get(key);
    if (pending) return pending;
    const promise: Promise<V> = this.loader(key).then(
      (value) => {
        if (this.loading.get(key) === promise) {
          this.loading.delete(key);
          this.store(key, { value, at: startedAt });
        }
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === promise) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  private store(key: K, entry: Entry<V>): void {
    const negative = this.options.isNegative(entry.value);
    const map = negative ? this.negative : this.positive;
    const cap = negative ? this.options.maxNegativeEntries : this.options.maxEntries;
    (negative ? this.positive : this.negative).delete(key);
    map.delete(key);
    map.set(key, entry);
    this.newest = key;
    while (map.size > cap) map.delete(map.keys().next().value as K);
  }
}
