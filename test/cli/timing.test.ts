/** kiln run's timing: warm-up runs are not timed, so a first run that compiles (JIT) does not count. */
import { expect, test } from 'vitest';
import { formatTiming, timeRuns, WARMUP_MAX_RUNS } from '../../src/cli/timing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A function whose first call is slow, as a fresh process's first run of a model is. */
function coldThenWarm(): { once: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    once: async () => {
      calls++;
      await sleep(calls === 1 ? 300 : 1);
      return calls;
    },
    calls: () => calls,
  };
}

test('auto warm-up runs at least once, so the slow first run is not among the timed ones', async () => {
  const f = coldThenWarm();
  const t = await timeRuns(f.once, 3, 'auto');
  expect(t.warmups).toBeGreaterThanOrEqual(1);
  expect(t.warmups).toBeLessThanOrEqual(WARMUP_MAX_RUNS);
  expect(t.times).toHaveLength(3);
  expect(Math.max(...t.times)).toBeLessThan(250);
  expect(t.result).toBe(f.calls());
});

test('a count of warm-up runs is exact; zero times the cold run too', async () => {
  const f = coldThenWarm();
  const t = await timeRuns(f.once, 2, 0);
  expect(t.warmups).toBe(0);
  expect(t.times[0]).toBeGreaterThanOrEqual(250);
  const g = coldThenWarm();
  expect((await timeRuns(g.once, 1, 4)).warmups).toBe(4);
  expect(g.calls()).toBe(5);
});

test('median, min and max, and the warm-up count, in one line', () => {
  expect(formatTiming('main', { result: 0, times: [3, 1, 2], warmups: 5 })).toBe(
    'main: median 2.0 ms (min 1.0 ms, max 3.0 ms) over 3 runs after 5 warm-up runs',
  );
  expect(formatTiming('main', { result: 0, times: [12], warmups: 0 })).toBe(
    'main: median 12 ms (min 12 ms, max 12 ms) over 1 run without warm-up',
  );
});
