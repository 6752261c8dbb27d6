/** Refusal of `GroupCommit.add` when too many items already wait. */
export class GroupCommitFullError extends Error {
  constructor() {
    super('too many items waiting to be written');
    this.name = 'GroupCommitFullError';
  }
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Most items one write takes; the rest wait for the next. */
  maxBatch: number;
  /** Most items waiting; beyond it `add` is refused at once. */
  maxWaiting: number;
}

/**
 * Group commit: items are written in batches by one writer, without any timer. The first item
 * to arrive while no write runs starts one at once; items arriving during that write join the
 * next one, which starts as soon as it ends. Each `add` resolves when its own batch is written
 * and rejects with the write's error when that batch failed, so a caller can wait for its item
 * to be durable. Under no load an item costs one write of its own; under load the cost of a
 * write is shared by everyone who arrived while the previous one ran.
 */
export class GroupCommit<T> {
  private waiting: Waiting<T>[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    /**
     * Writes a batch. Throwing fails every item of it; returning an array fails only the items
     * whose entry is not undefined (a batch that the writer retried item by item).
     */
    private readonly write: (batch: T[]) => Promise<void | readonly unknown[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Items waiting for a write (not counting the batch being written). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Resolves once `item` has been written; rejects if its write failed or too many items wait. */
  add(item: T): Promise<void> {
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(new GroupCommitFullError());
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.writing === undefined) this.writing = this.drain();
    });
  }

  /** Resolves when everything added so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch =
          this.waiting.length <= this.options.maxBatch ? this.waiting : this.waiting.slice(0, this.options.maxBatch);
        this.waiting = batch === this.waiting ? [] : this.waiting.slice(this.options.maxBatch);
        let failure: { err: unknown } | undefined;
        let failures: readonly unknown[] | void = undefined;
        try {
          failures = await this.write(batch.map((w) => w.item));
        } catch (err) {
          failure = { err };
        }
        batch.forEach((w, i) => {
          if (failure) w.reject(failure.err);
          else if (failures && failures[i] !== undefined) w.reject(failures[i]);
          else w.resolve();
        });
      }
    } finally {
      this.writing = undefined;
    }
  }
}
