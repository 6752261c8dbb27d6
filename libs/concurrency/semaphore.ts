export class SemaphoreTimeoutError extends Error {
  constructor(readonly reason: 'queue_full' | 'timeout') {
    super(reason === 'queue_full' ? 'too many waiters' : 'timed out waiting for a slot');
    this.name = 'SemaphoreTimeoutError';
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Bounds how many expensive operations run at once in this process. Callers beyond the limit
 * wait in a bounded queue for at most `maxWaitMs`; past either bound they are refused at once.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
    readonly maxWaitMs: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueue) return Promise.reject(new SemaphoreTimeoutError('queue_full'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new SemaphoreTimeoutError('timeout'));
        }, this.maxWaitMs),
      };
      this.waiters.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.active--;
  }
}
