import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../../src/support/concurrently.ts';

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe('forEachConcurrently', () => {
  it('runs every item, never more than the limit at once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachConcurrently([...Array(20).keys()], 3, async (i) => {
      most = Math.max(most, ++inFlight);
      await tick();
      seen.push(i);
      inFlight--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(most).toBe(3);
  });

  it('rejects with the first failure after the calls in flight settle, starting no more', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = forEachConcurrently([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await tick();
      settled++;
      if (i === 1) throw new Error('item 1');
    });
    await expect(run).rejects.toThrow('item 1');
    expect(settled).toBe(started.length);
    expect(started.length).toBeLessThan(6);
  });

  it('does nothing for no items', async () => {
    await forEachConcurrently([], 4, () => Promise.reject(new Error('called')));
  });
});
