/** Timing helpers for the benchmarks. */
import { timeRuns } from '../src/cli/timing.ts';

export interface BenchRow {
  readonly name: string;
  /** NaN for a row that is not a time (its note says what it measures). */
  readonly ms: number;
  /** A target from an issue, when there is one. */
  readonly goalMs?: number | undefined;
  readonly note?: string;
}

export function time(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** Timed runs continue past the asked count while they fit in this (a tiny model's median then rests on many runs). */
const TIMED_MS = 200;

/**
 * The median time of `run` in its steady state, as `kiln run` times a model: warm-up runs first (at
 * least one, more for up to 500 ms: V8 tiers JavaScript and WebAssembly up from its baseline compilers
 * after some calls), then at least `repeats` timed runs, more while they fit in TIMED_MS. One warm-up
 * run, as before, left a small model's WebAssembly mostly in the baseline tier (Liftoff): the vision
 * model measured 0.86 ms where it runs at 0.4.
 */
export async function timeSteady(run: () => Promise<unknown>, repeats: number): Promise<number> {
  return median((await timeRuns(run, repeats, 'auto', TIMED_MS)).times);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function printTable(title: string, rows: readonly BenchRow[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const goal =
      r.goalMs === undefined ? '' : `  goal < ${Number(r.goalMs.toFixed(1))} ms  ${r.ms < r.goalMs ? 'met' : 'MISSED'}`;
    const ms = Number.isNaN(r.ms) ? ' '.repeat(11) : `${r.ms.toFixed(1).padStart(8)} ms`;
    console.log(`  ${r.name.padEnd(width)}  ${ms}${goal}${r.note ? `  (${r.note})` : ''}`);
  }
}
