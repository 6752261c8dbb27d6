import { GroupCommit, GroupCommitFullError } from './group-commit';

/** A write whose completion the test decides. */
function controlledWriter<T>() {
  const batches: T[][] = [];
  const pending: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const write = (batch: T[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(batch);
      pending.push({ resolve, reject });
    });
  return { batches, pending, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes the first item at once, alone, and the ones arriving meanwhile together next', async () => {
    const w = controlledWriter<number>();
    const commit = new GroupCommit(w.write, { maxBatch: 100, maxWaiting: 1000 });
    const first = commit.add(1);
    expect(w.batches).toEqual([[1]]);
    const later = [commit.add(2), commit.add(3), commit.add(4)];
    expect(w.batches).toHaveLength(1);
    let settled = false;
    void first.then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    w.pending[0].resolve();
    await first;
    await tick();
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    w.pending[1].resolve();
    await Promise.all(later);
    await commit.idle();
  });

  it('rejects exactly the items of a failed batch, and goes on with the next', async () => {
    const w = controlledWriter<string>();
    const commit = new GroupCommit(w.write, { maxBatch: 100, maxWaiting: 1000 });
    const a = commit.add('a');
    const b = commit.add('b');
    const c = commit.add('c');
    w.pending[0].reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await tick();
    expect(w.batches[1]).toEqual(['b', 'c']);
    w.pending[1].resolve();
    await expect(Promise.all([b, c])).resolves.toEqual([undefined, undefined]);
  });

  it('fails only the items the writer names when it returns per-item outcomes', async () => {
    const commit = new GroupCommit<number>(
      (batch) => Promise.resolve({ failures: batch.map((n) => (n === 2 ? new Error('bad row') : undefined)) }),
      { maxBatch: 10, maxWaiting: 10 },
    );
    const results = await Promise.allSettled([commit.add(1), commit.add(2), commit.add(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('hands each item the result the writer gave it, by position, across batches', async () => {
    const commit = new GroupCommit<string, string>(
      async (batch) => {
        await tick();
        return { results: batch.map((s) => s.toUpperCase()) };
      },
      { maxBatch: 2, maxWaiting: 10 },
    );
    await expect(Promise.all(['a', 'b', 'c', 'd'].map((s) => commit.add(s)))).resolves.toEqual(['A', 'B', 'C', 'D']);
  });

  it('gives results to the items that were written and failures to the others of one batch', async () => {
    const commit = new GroupCommit<number, number>(
      (batch) =>
        Promise.resolve({
          results: batch.map((n) => n * 10),
          failures: batch.map((n) => (n === 2 ? new Error('bad row') : undefined)),
        }),
      { maxBatch: 10, maxWaiting: 10 },
    );
    const results = await Promise.allSettled([commit.add(1), commit.add(2), commit.add(3)]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('bad row') },
      { status: 'fulfilled', value: 30 },
    ]);
  });

  it('resolves to undefined when the writer gives no results', async () => {
    const commit = new GroupCommit<number>(() => Promise.resolve(), { maxBatch: 10, maxWaiting: 10 });
    await expect(commit.add(1)).resolves.toBeUndefined();
  });

  it('splits a long queue into batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const commit = new GroupCommit<number>(
      async (batch) => {
        sizes.push(batch.length);
        await tick();
      },
      { maxBatch: 10, maxWaiting: 1000 },
    );
    await Promise.all(Array.from({ length: 35 }, (_, i) => commit.add(i)));
    expect(sizes).toEqual([1, 10, 10, 10, 4]);
  });

  it('refuses at once beyond maxWaiting', async () => {
    const w = controlledWriter<number>();
    const commit = new GroupCommit(w.write, { maxBatch: 10, maxWaiting: 2 });
    const accepted = [commit.add(1), commit.add(2), commit.add(3)];
    await expect(commit.add(4)).rejects.toBeInstanceOf(GroupCommitFullError);
    w.pending[0].resolve();
    await tick();
    w.pending[1].resolve();
    await Promise.all(accepted);
  });

  it('idle() waits for every write under way', async () => {
    const w = controlledWriter<number>();
    const commit = new GroupCommit(w.write, { maxBatch: 10, maxWaiting: 10 });
    void commit.add(1);
    void commit.add(2);
    let idle = false;
    const done = commit.idle().then(() => (idle = true));
    w.pending[0].resolve();
    await tick();
    expect(idle).toBe(false);
    w.pending[1].resolve();
    await done;
    expect(idle).toBe(true);
  });
});
