import { describe, expect, it } from 'vitest';
import { type Contender, ROUNDS, timeInterleaved } from '../../bench/interleave.ts';

/** A contender that reports fixed times and logs what was asked of it. */
function fake(name: string, log: string[], times: (round: number) => number[], fail = false): Contender {
  let rounds = 0;
  return {
    warm: () => {
      log.push(`warm ${name}`);
      return Promise.resolve();
    },
    round: (runs) => {
      log.push(`${name} ${runs}`);
      if (fail) return Promise.reject(new Error(`${name} failed`));
      return Promise.resolve(times(rounds++));
    },
    close: () => {
      log.push(`close ${name}`);
      return Promise.resolve();
    },
  };
}

describe('timeInterleaved', () => {
  it('warms every contender, then alternates the order of the rounds, and closes each', async () => {
    const log: string[] = [];
    await timeInterleaved([fake('a', log, () => [1]), fake('b', log, () => [2]), fake('c', log, () => [3])], ROUNDS);
    const rounds = log.filter((l) => !l.startsWith('warm') && !l.startsWith('close')).map((l) => l.split(' ')[0]);
    const expected: string[] = [];
    for (let r = 0; r < ROUNDS; r++) expected.push(...(r % 2 === 0 ? ['a', 'b', 'c'] : ['c', 'b', 'a']));
    expect(log.slice(0, 3)).toEqual(['warm a', 'warm b', 'warm c']);
    expect(rounds).toEqual(expected);
    expect(log.slice(-3)).toEqual(['close a', 'close b', 'close c']);
    // At least one run a round, the asked runs spread over the rounds.
    expect(log.filter((l) => l.startsWith('a ')).every((l) => l === 'a 1')).toBe(true);
  });

  it("takes each contender's median over all its rounds' runs, so a slow round moves it little", async () => {
    const slowFirst = (r: number): number[] => (r === 0 ? [50, 50] : [10, 11]);
    const [a, b] = await timeInterleaved([fake('a', [], slowFirst, false), fake('b', [], () => [4, 6])], 2 * ROUNDS);
    expect(a).toBeGreaterThanOrEqual(10);
    expect(a).toBeLessThanOrEqual(11);
    expect(b).toBe(5);
  });

  it('closes every contender when one fails', async () => {
    const log: string[] = [];
    await expect(timeInterleaved([fake('a', log, () => [1]), fake('b', log, () => [1], true)], ROUNDS)).rejects.toThrow(
      'b failed',
    );
    expect(log.filter((l) => l.startsWith('close'))).toEqual(['close a', 'close b']);
  });
});
