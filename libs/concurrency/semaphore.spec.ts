import { Semaphore, SemaphoreTimeoutError } from './semaphore';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Semaphore', () => {
  it('never runs more than the limit at once', async () => {
    const semaphore = new Semaphore(2, 100, 5000);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(semaphore.inUse).toBe(0);
  });

  it('refuses when the queue is full', async () => {
    const semaphore = new Semaphore(1, 1, 5000);
    const first = semaphore.run(() => sleep(30));
    const second = semaphore.run(() => sleep(1));
    await expect(semaphore.run(() => sleep(1))).rejects.toEqual(new SemaphoreTimeoutError('queue_full'));
    await Promise.all([first, second]);
  });

  it('refuses a waiter that waited too long, and keeps working after', async () => {
    const semaphore = new Semaphore(1, 10, 10);
    const slow = semaphore.run(() => sleep(50));
    await expect(semaphore.run(() => sleep(1))).rejects.toEqual(new SemaphoreTimeoutError('timeout'));
    await slow;
    await expect(semaphore.run(async () => 'ok')).resolves.toBe('ok');
    expect(semaphore.queued).toBe(0);
  });

  it('releases the slot when the task throws', async () => {
    const semaphore = new Semaphore(1, 10, 1000);
    await expect(semaphore.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(semaphore.run(async () => 1)).resolves.toBe(1);
  });
});
