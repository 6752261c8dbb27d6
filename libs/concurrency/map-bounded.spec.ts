import { mapBounded } from './map-bounded';

describe('mapBounded', () => {
  it('answers in the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('answers an empty list at once, and treats a limit below one as one', async () => {
    await expect(mapBounded([], 4, async () => 1)).resolves.toEqual([]);
    await expect(mapBounded([1, 2], 0, async (n) => n)).resolves.toEqual([1, 2]);
  });
});
