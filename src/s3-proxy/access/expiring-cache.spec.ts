import { ExpiringCache } from './expiring-cache';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ExpiringCache', () => {
  let clock: number;
  let calls: string[];
  let answers: Map<string, string | null>;

  const make = (options: { maxEntries?: number; maxNegativeEntries?: number } = {}) =>
    new ExpiringCache<string, string | null>(
      {
        ttlMs: 1000,
        maxEntries: options.maxEntries ?? 100,
        maxNegativeEntries: options.maxNegativeEntries ?? 100,
        isNegative: (v) => v === null,
        now: () => clock,
      },
      async (key) => {
        calls.push(key);
        return answers.get(key) ?? null;
      },
    );

  beforeEach(() => {
    clock = 0;
    calls = [];
    answers = new Map([
      ['a', 'A1'],
      ['b', 'B1'],
    ]);
  });

  it('answers from memory until the entry is one second old, then asks again', async () => {
    const cache = make();
    expect(await cache.get('a')).toBe('A1');
    answers.set('a', 'A2');
    clock = 999;
    expect(await cache.get('a')).toBe('A1');
    clock = 1000;
    expect(await cache.get('a')).toBe('A2');
    expect(calls).toEqual(['a', 'a']);
  });

  it('remembers unknown keys too, for the same time', async () => {
    const cache = make();
    expect(await cache.get('nope')).toBeNull();
    expect(await cache.get('nope')).toBeNull();
    expect(calls).toEqual(['nope']);
    answers.set('nope', 'N');
    clock = 1000;
    expect(await cache.get('nope')).toBe('N');
  });

  it('shares one lookup between concurrent misses of a key', async () => {
    const gate = deferred<string | null>();
    let loads = 0;
    const cache = new ExpiringCache<string, string | null>(
      { ttlMs: 1000, maxEntries: 10, maxNegativeEntries: 10, isNegative: (v) => v === null, now: () => clock },
      () => {
        loads++;
        return gate.promise;
      },
    );
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('k')));
    gate.resolve('V');
    expect(await all).toEqual(Array(50).fill('V'));
    expect(loads).toBe(1);
  });

  it('forgets an invalidated key at once', async () => {
    const cache = make();
    await cache.get('a');
    answers.set('a', 'A2');
    cache.invalidate('a');
    expect(await cache.get('a')).toBe('A2');
  });

  it('does not keep the answer of a lookup that was in flight when the key was invalidated', async () => {
    const gate = deferred<string | null>();
    const values = [gate.promise, Promise.resolve('fresh')];
    const cache = new ExpiringCache<string, string | null>(
      { ttlMs: 1000, maxEntries: 10, maxNegativeEntries: 10, isNegative: (v) => v === null, now: () => clock },
      () => values.shift()!,
    );
    const stale = cache.get('k');
    cache.invalidate('k');
    gate.resolve('stale');
    expect(await stale).toBe('stale');
    expect(await cache.get('k')).toBe('fresh');
  });

  it('dates an answer from when its lookup started', async () => {
    const gate = deferred<string | null>();
    const values = [gate.promise, Promise.resolve('V2')];
    const cache = new ExpiringCache<string, string | null>(
      { ttlMs: 1000, maxEntries: 10, maxNegativeEntries: 10, isNegative: (v) => v === null, now: () => clock },
      () => values.shift()!,
    );
    const pending = cache.get('k');
    clock = 800; // the answer arrives late
    gate.resolve('V1');
    expect(await pending).toBe('V1');
    clock = 999;
    expect(await cache.get('k')).toBe('V1');
    clock = 1000; // one second after the lookup started, not after the answer came
    expect(await cache.get('k')).toBe('V2');
  });

  it('evicts the least recently used entries beyond its bounds, positive and negative apart', async () => {
    const cache = make({ maxEntries: 2, maxNegativeEntries: 1 });
    answers.set('c', 'C1');
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    await cache.get('x');
    await cache.get('y'); // evicts x
    expect(cache.size).toBe(3);
    calls = [];
    await cache.get('a');
    await cache.get('c');
    await cache.get('y');
    expect(calls).toEqual([]);
    await cache.get('b');
    await cache.get('x');
    expect(calls).toEqual(['b', 'x']);
  });

  it('answers a cached key synchronously, and keeps the order through repeated hits on the newest', async () => {
    const cache = make({ maxEntries: 2 });
    answers.set('c', 'C1');
    expect(cache.get('a')).toBeInstanceOf(Promise);
    await cache.get('a');
    await cache.get('b');
    expect(cache.get('a')).toBe('A1'); // a is now the most recent
    expect(cache.get('a')).toBe('A1');
    expect(cache.get('nope')).toBeInstanceOf(Promise);
    await cache.get('c'); // evicts b
    calls = [];
    expect(cache.get('a')).toBe('A1');
    await cache.get('b');
    expect(calls).toEqual(['b']);
  });

  it('forgets the positive answers that match a predicate', async () => {
    const cache = make();
    await cache.get('a');
    await cache.get('b');
    cache.invalidateWhere((value) => value === 'A1');
    calls = [];
    await cache.get('a');
    await cache.get('b');
    expect(calls).toEqual(['a']);
  });

  it('does not cache a failed lookup', async () => {
    let fail = true;
    const cache = new ExpiringCache<string, string | null>(
      { ttlMs: 1000, maxEntries: 10, maxNegativeEntries: 10, isNegative: (v) => v === null, now: () => clock },
      async () => {
        if (fail) throw new Error('database away');
        return 'V';
      },
    );
    await expect(cache.get('k')).rejects.toThrow('database away');
    fail = false;
    expect(await cache.get('k')).toBe('V');
  });

  describe('renewal', () => {
    const batchOf = (batches: string[][]) => async (keys: string[]) => {
      batches.push(keys);
      return new Map(keys.map((key) => [key, answers.get(key) ?? null]));
    };
    const options = { olderThanMs: 500, usedWithinMs: 60_000, max: 100 };

    it('renews an answer in use before it expires, so the next ask is still synchronous and sees the change', async () => {
      const cache = make();
      await cache.get('a');
      answers.set('a', 'A2');
      clock = 600;
      const batches: string[][] = [];
      expect(await cache.renew(batchOf(batches), options)).toBe(1);
      expect(batches).toEqual([['a']]);
      clock = 1500; // past the first answer's second, within the renewed one's (dated 600)
      expect(cache.get('a')).toBe('A2');
      clock = 1600;
      expect(cache.get('a')).toBeInstanceOf(Promise);
      expect(calls).toEqual(['a', 'a']);
    });

    it('leaves young answers and answers nobody asked for lately alone, and renews at most `max`', async () => {
      const cache = make();
      await cache.get('a');
      clock = 100;
      await cache.get('b');
      const batches: string[][] = [];
      clock = 550; // a is 550 ms old, b only 450
      expect(await cache.renew(batchOf(batches), options)).toBe(1);
      expect(batches).toEqual([['a']]);
      clock = 70_000; // neither has been asked for in a minute: both have long expired anyway
      expect(await cache.renew(batchOf(batches), options)).toBe(0);
      clock = 0;
      answers.set('c', 'C1');
      const fresh = make();
      for (const key of ['a', 'b', 'c']) await fresh.get(key);
      clock = 600;
      fresh.get('a'); // a is now the most recently used
      expect(await fresh.renew(batchOf(batches), { ...options, max: 2 })).toBe(2);
      expect(batches.at(-1)).toEqual(['c', 'a']);
    });

    it('does not make a key look used: an idle key stops being renewed', async () => {
      const cache = make();
      await cache.get('a');
      const batches: string[][] = [];
      for (clock = 600; clock < 60_000; clock += 500) await cache.renew(batchOf(batches), options);
      const renewals = batches.length;
      for (; clock < 62_000; clock += 500) await cache.renew(batchOf(batches), options);
      expect(batches.length).toBe(renewals);
    });

    it('keeps nothing from a batch for a key invalidated while it was in flight', async () => {
      const cache = make();
      await cache.get('a');
      clock = 600;
      const gate = deferred<Map<string, string | null>>();
      const renewal = cache.renew(() => gate.promise, options);
      cache.invalidate('a');
      answers.set('a', 'A3');
      gate.resolve(new Map([['a', 'stale']]));
      await renewal;
      expect(await cache.get('a')).toBe('A3');
    });

    it('moves an answer that is now "unknown" to the negative side, and keeps an unchanged answer\'s object', async () => {
      const objects = new ExpiringCache<string, { v: string } | null>(
        {
          ttlMs: 1000,
          maxEntries: 10,
          maxNegativeEntries: 10,
          isNegative: (v) => v === null,
          same: (x, y) => x?.v === y?.v,
          now: () => clock,
        },
        async (key) => (key === 'gone' ? null : { v: key }),
      );
      const first = await objects.get('kept');
      await objects.get('doomed');
      clock = 600;
      await objects.renew(async (keys) => new Map(keys.map((k) => [k, k === 'doomed' ? null : { v: k }])), options);
      expect(objects.get('kept')).toBe(first);
      expect(objects.get('doomed')).toBeNull();
    });

    it('fails when its batch fails, and the answers then just expire', async () => {
      const cache = make();
      await cache.get('a');
      clock = 600;
      await expect(cache.renew(() => Promise.reject(new Error('database away')), options)).rejects.toThrow(
        'database away',
      );
      expect(cache.get('a')).toBe('A1');
      clock = 1000;
      expect(cache.get('a')).toBeInstanceOf(Promise);
    });
  });
  describe('grace while lookups fail', () => {
    let down: boolean;
    let loads: number;
    const graceful = (graceMs = 5_000) =>
      new ExpiringCache<string, string | null>(
        {
          ttlMs: 1000,
          graceMs,
          maxEntries: 10,
          maxNegativeEntries: 10,
          isNegative: (v) => v === null,
          now: () => clock,
        },
        async (key) => {
          loads++;
          if (down) throw new Error('database away');
          return answers.get(key) ?? null;
        },
      );

    beforeEach(() => {
      down = false;
      loads = 0;
    });

    it('serves an expired answer within its grace when the lookup fails, and the fresh one once lookups work', async () => {
      const cache = graceful();
      expect(await cache.get('a')).toBe('A1');
      down = true;
      clock = 1500;
      expect(await cache.get('a')).toBe('A1');
      expect(cache.degraded).toBe(true);
      down = false;
      answers.set('a', 'A2');
      clock = 1600;
      cache.get('a'); // answered from the grace at once; the lookup behind it notices the recovery
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      expect(cache.degraded).toBe(false);
      expect(cache.get('a')).toBe('A2');
    });

    it('answers synchronously from the grace while lookups keep failing, looking up again at most once a lifetime', async () => {
      const cache = graceful();
      await cache.get('a');
      await cache.get('b');
      down = true;
      clock = 2000;
      expect(await cache.get('a')).toBe('A1');
      const before = loads;
      for (let i = 0; i < 20; i++) {
        expect(cache.get('a')).toBe('A1');
        expect(cache.get('b')).toBe('B1');
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(loads).toBe(before + 1);
      clock = 3000;
      expect(cache.get('b')).toBe('B1');
      expect(loads).toBe(before + 2);
    });

    it('stops at the end of the grace, dated from when the answer was looked up', async () => {
      const cache = graceful(5_000);
      await cache.get('a');
      down = true;
      clock = 4_999;
      expect(await cache.get('a')).toBe('A1');
      clock = 5_000;
      await expect(cache.get('a')).rejects.toThrow('database away');
    });

    it('gives no grace to unknown keys nor to keys never looked up', async () => {
      const cache = graceful();
      expect(await cache.get('nope')).toBeNull();
      down = true;
      clock = 1500;
      await expect(cache.get('nope')).rejects.toThrow('database away');
      await expect(cache.get('b')).rejects.toThrow('database away');
    });

    it('forgets an invalidated answer for good: a revocation heard during the outage applies', async () => {
      const cache = graceful();
      await cache.get('a');
      await cache.get('b');
      down = true;
      clock = 1500;
      expect(await cache.get('a')).toBe('A1');
      cache.invalidate('a');
      await expect(cache.get('a')).rejects.toThrow('database away');
      cache.invalidateWhere((value) => value === 'B1');
      await expect(cache.get('b')).rejects.toThrow('database away');
    });

    it('drops an answer whose lookup failed after it was invalidated in flight', async () => {
      const gate = deferred<string | null>();
      const cache = new ExpiringCache<string, string | null>(
        {
          ttlMs: 1000,
          graceMs: 5000,
          maxEntries: 10,
          maxNegativeEntries: 10,
          isNegative: (v) => v === null,
          now: () => clock,
        },
        () => (loads++ === 0 ? Promise.resolve('A1') : gate.promise),
      );
      await cache.get('a');
      clock = 1500;
      const pending = cache.get('a');
      cache.invalidate('a');
      gate.reject(new Error('database away'));
      await expect(pending).rejects.toThrow('database away');
    });

    it('keeps answers through a failed renewal within the grace, and renews them when the source is back', async () => {
      const cache = graceful();
      await cache.get('a');
      const options = { olderThanMs: 500, usedWithinMs: 60_000, max: 100 };
      clock = 600;
      await expect(cache.renew(() => Promise.reject(new Error('database away')), options)).rejects.toThrow();
      clock = 1200;
      down = true;
      expect(cache.get('a')).toBe('A1');
      await new Promise((resolve) => setImmediate(resolve)); // its background lookup fails too
      answers.set('a', 'A2');
      clock = 1300;
      expect(await cache.renew(async (keys) => new Map(keys.map((k) => [k, answers.get(k) ?? null])), options)).toBe(1);
      expect(cache.get('a')).toBe('A2');
    });

    it('is off without graceMs: an expired answer is not served', async () => {
      const cache = graceful(0);
      await cache.get('a');
      down = true;
      clock = 1000;
      await expect(cache.get('a')).rejects.toThrow('database away');
    });
  });
});
