/** Refusal of `GroupCommit.add` when too many items already wait. */
export class GroupCommitFullError extends Error {
  constructor() {
    super('too many items waiting to be written');
    this.name = 'GroupCommitFullError';
  }
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Per-item outcomes of a write, by position in its batch: each item's result (what its `add`
 * resolves to), and the items that failed (an entry that is not undefined) in a batch the
 * writer retried item by item.
 */
export interface BatchOutcome<R> {
  results?: readonly R[];
  failures?: readonly unknown[];
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
 * to be durable, and to what the write made of it (a generated id, say). Under no load an item costs one write of its own; under load the cost of a
 * write is shared by everyone who arrived while the previous one ran.
 */
export class GroupCommit<T, R = void> {
  private waiting: Waiting<T, R>[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    /**
     * Writes a batch. Throwing fails every item of it; returning `failures` fails only the items
     * named there, and `results` hands each item its own result.
     */
    private readonly write: (batch: T[]) => Promise<void | BatchOutcome<R>>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Items waiting for a write (not counting the batch being written). */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * Resolves once `item` has been written, to its result if the writer gave one; rejects if its
   * write failed or too many items wait.
   */
  add(item: T): Promise<R> {
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(new GroupCommitFullError());
    return new Promise<R>((resolve, reject) => {
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
        let outcome: BatchOutcome<R> | void = undefined;
        try {
          outcome = await this.write(batch.map((w) => w.item));
        } catch (err) {
          failure = { err };
        }
        const failures = outcome?.failures;
        const results = outcome?.results;
        batch.forEach((w, i) => {
          if (failure) w.reject(failure.err);
          else if (failures && failures[i] !== undefined) w.reject(failures[i]);
          else w.resolve(results?.[i] as R);
        });
      }
    } finally {
      this.writing = undefined;
    }
  }
}
