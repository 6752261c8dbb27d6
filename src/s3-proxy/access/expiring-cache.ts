export interface ExpiringCacheOptions<V> {
  /** How long an answer may be served after its lookup started. */
  ttlMs: number;
  /**
   * How long after its lookup started a positive answer may still be served while lookups fail
   * (the source is away); 0 or anything up to `ttlMs` turns this off. Invalidation still
   * removes it at once.
   */
  graceMs?: number;
  /** Most positive answers kept; the least recently used go first. */
  maxEntries: number;
  /** Most negative answers kept (see `isNegative`). */
  maxNegativeEntries: number;
  /** Which answers count as negative ("no such thing"); they are kept apart, in a smaller cache. */
  isNegative: (value: V) => boolean;
  /**
   * When a renewed answer equals the one cached, the cached object is kept (callers may key
   * their own memos on it).
   */
  same?: (a: V, b: V) => boolean;
  /** The clock (tests pass a fake one). */
  now?: () => number;
}

export interface RenewalOptions {
  /** Renew answers at least this old. */
  olderThanMs: number;
  /** Renew only answers asked for within this long. */
  usedWithinMs: number;
  /** Most answers renewed in one batch: the most recently used. */
  max: number;
}

interface Entry<V> {
  value: V;
  /** When the lookup that produced the value started. */
  at: number;
  /** When the value was last asked for. */
  usedAt: number;
}

/**
 * A bounded, least-recently-used, read-through cache whose answers expire `ttlMs` after the
 * lookup that produced them started, so a change the process was never told about still shows
 * within `ttlMs`. Concurrent misses of one key share a single lookup. Invalidating a key while
 * its lookup is in flight discards that lookup's answer instead of caching it.
 *
 * With `graceMs`, an expired positive answer younger than that is kept: when a lookup fails it
 * answers instead of the failure, and while lookups keep failing (no lookup has succeeded since
 * the last failure) it answers at once, one background lookup per `ttlMs` watching for the
 * recovery. Negative answers get no grace: an unknown key cannot be checked while the source
 * is away.
 */
export class ExpiringCache<K, V> {
  private readonly positive = new Map<K, Entry<V>>();
  private readonly negative = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private readonly now: () => number;
  private readonly graceMs: number;
  private newest?: K;
  /** Whether the latest lookup to finish failed. */
  private failing = false;
  /** When a stale answer last started a lookup to see whether the source is back. */
  private probedAt = -Infinity;

  constructor(
    private readonly options: ExpiringCacheOptions<V>,
    private readonly loader: (key: K) => Promise<V>,
  ) {
    this.now = options.now ?? Date.now;
    this.graceMs = Math.max(options.ttlMs, options.graceMs ?? 0);
  }

  /** Whether the latest lookup to finish failed (and stale answers are being served). */
  get degraded(): boolean {
    return this.failing;
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
    const stale = this.stale(key, now);
    if (!stale) return this.load(key, now);
    if (this.failing) {
      // The source is away: answer now; at most one lookup per `ttlMs` checks whether it is
      // back, so a busy proxy does not hammer a database that is failing over.
      if (now - this.probedAt >= this.options.ttlMs) {
        this.probedAt = now;
        this.load(key, now).catch(() => undefined);
      }
      return stale.value;
    }
    return this.load(key, now).catch((err: unknown) => {
      const still = this.stale(key, this.now());
      if (still) return still.value;
      throw err;
    });
  }

  /**
   * Looks up again, in one batch, the positive answers asked for within `usedWithinMs` that are
   * at least `olderThanMs` old, so keys in steady use are renewed before they expire and their
   * callers never wait on a lookup. A renewed answer is dated from when the batch started, as a
   * lookup's answer is; a key invalidated meanwhile keeps nothing from the batch. `batchLoader`
   * must answer every key it is given. Resolves with how many keys were asked for.
   */
  async renew(batchLoader: (keys: K[]) => Promise<Map<K, V>>, options: RenewalOptions): Promise<number> {
    const startedAt = this.now();
    const due: Array<[K, number]> = [];
    for (const [key, entry] of this.positive) {
      if (
        startedAt - entry.usedAt <= options.usedWithinMs &&
        startedAt - entry.at >= options.olderThanMs &&
        !this.loading.has(key)
      ) {
        due.push([key, entry.usedAt]);
      }
    }
    // The map runs from least to most recently used.
    const picked = due.length > options.max ? due.slice(due.length - options.max) : due;
    if (picked.length === 0) return 0;
    const batch = batchLoader(picked.map(([key]) => key));
    await Promise.allSettled(
      picked.map(([key, usedAt]) =>
        this.track(
          key,
          batch.then((found) => found.get(key) as V),
          startedAt,
          usedAt,
        ),
      ),
    );
    await batch; // a failed batch fails the renewal (the answers it would have renewed just expire)
    return picked.length;
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
    const age = now - entry.at;
    if (age >= this.options.ttlMs) {
      // An expired positive answer is kept through its grace, for `stale()`.
      if (map !== this.positive || age >= this.graceMs) map.delete(key);
      return undefined;
    }
    this.use(map, key, entry, now);
    return entry;
  }

  /** An expired positive answer still within its grace, marked as used. */
  private stale(key: K, now: number): Entry<V> | undefined {
    const entry = this.positive.get(key);
    if (!entry || now - entry.at >= this.graceMs) return undefined;
    this.use(this.positive, key, entry, now);
    return entry;
  }

  private use(map: Map<K, Entry<V>>, key: K, entry: Entry<V>, now: number): void {
    entry.usedAt = now;
    // Most recently used goes last; the newest needs no move (which would shrink and regrow the map).
    if (key !== this.newest) {
      map.delete(key);
      map.set(key, entry);
      this.newest = key;
    }
  }

  private load(key: K, startedAt: number): Promise<V> {
    const pending = this.loading.get(key);
    if (pending) return pending;
    return this.track(key, this.loader(key), startedAt, startedAt);
  }

  /** Registers a lookup of `key` in flight and caches its answer unless the key is invalidated first. */
  private track(key: K, lookup: Promise<V>, startedAt: number, usedAt: number): Promise<V> {
    const promise: Promise<V> = lookup.then(
      (value) => {
        this.failing = false;
        if (this.loading.get(key) === promise) {
          this.loading.delete(key);
          const current = this.positive.get(key);
          const same = current !== undefined && this.options.same?.(current.value, value) === true;
          this.store(key, {
            value: same ? current.value : value,
            at: startedAt,
            usedAt: Math.max(usedAt, current?.usedAt ?? usedAt),
          });
        }
        return value;
      },
      (err: unknown) => {
        this.failing = true;
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
