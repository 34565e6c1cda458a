/** Timing helpers for the benchmarks. */
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

/** Warm-up time before timing a model: V8 tiers JavaScript and WebAssembly up from its baseline compilers after some calls. */
const WARMUP_MS = 300;
const WARMUP_MAX_RUNS = 100;
/** Timed runs continue past the asked count while they fit in this (a tiny model's median then rests on many runs). */
const TIMED_MS = 200;
const TIMED_MAX_RUNS = 50;

/**
 * The median time of `run` in its steady state: warm-up runs first (at least one, then more
 * until WARMUP_MS have passed), then at least `repeats` timed runs, and more while they fit in
 * TIMED_MS. One warm-up run, as before, left a small model's WebAssembly mostly in V8's baseline
 * tier (Liftoff): the vision model measured 0.86 ms where it runs at 0.4.
 */
export async function timeSteady(run: () => unknown, repeats: number): Promise<number> {
  const warmStart = performance.now();
  for (let n = 0; n === 0 || (performance.now() - warmStart < WARMUP_MS && n < WARMUP_MAX_RUNS); n++) await run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < repeats || (performance.now() - start < TIMED_MS && times.length < TIMED_MAX_RUNS)) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
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
