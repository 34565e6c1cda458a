/**
 * Interleaved timing: the runtimes a benchmark row compares are each warmed up, then timed in short rounds
 * that alternate between them (A B C, C B A, A B C, ...), and each one's median is taken over all its runs.
 * This VM's speed moves by 20-40% within minutes (its cores' clock); timed one after the other, a slow period
 * landing on one runtime and not the next turned a 0.6x row into 1.3x. Interleaved, a slow period falls on
 * all of them; with three rounds a burst still hit one runtime's two rounds, so there are six.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timeRuns } from '../src/cli/timing.ts';
import { median } from './util.ts';

/** Something a row times: one runtime running one model. */
export interface Contender {
  /** Warm-up runs until the engine has tiered up (as `kiln run` does before timing). */
  warm(): Promise<void>;
  /** `runs` timed runs and more while they fit in `fillMs`: ms per run. */
  round(runs: number, fillMs: number): Promise<number[]>;
  close(): Promise<void>;
}

/** Rounds per row; together they fill the time one uninterrupted timing filled before. */
export const ROUNDS = 6;
const FILL_MS = 200;
/**
 * A pause before each round: onnxruntime's thread pools spin for a while after a run before they sleep,
 * and would share the cores with whatever runs next.
 */
const SETTLE_MS = 50;

/** A contender that runs in this process (nothing to close: its memory goes with the last reference). */
export function inProcess(run: () => Promise<unknown>): Contender {
  return {
    warm: async () => void (await timeRuns(run, 0, 'auto')),
    round: async (runs, fillMs) => [...(await timeRuns(run, runs, 0, fillMs)).times],
    close: () => Promise.resolve(),
  };
}

/**
 * Each contender's median ms over ROUNDS alternating rounds of at least `repeats` runs in all. Every
 * contender is closed when this returns or throws.
 */
export async function timeInterleaved(contenders: readonly Contender[], repeats: number): Promise<number[]> {
  try {
    for (const c of contenders) await c.warm();
    const times: number[][] = contenders.map(() => []);
    const runs = Math.ceil(repeats / ROUNDS);
    for (let r = 0; r < ROUNDS; r++) {
      const order = contenders.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const i of order) {
        await sleep(SETTLE_MS);
        times[i]!.push(...(await contenders[i]!.round(runs, FILL_MS / ROUNDS)));
      }
    }
    return times.map(median);
  } finally {
    for (const c of contenders) await c.close();
  }
}
