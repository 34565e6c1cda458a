/**
 * Timing `kiln run`: warm-up runs first, so the numbers measure the kernels
 * and not V8 compiling them (a fresh process spends most of its first run
 * there: 667 ms against 86 ms for the vision model at batch 1), then the
 * timed runs, reported as median, min and max.
 */
import { formatMs } from './progress.ts';

/** `auto`: at least one warm-up run, more until this long has passed (or WARMUP_MAX_RUNS). */
export const WARMUP_MS = 500;
export const WARMUP_MAX_RUNS = 50;

export interface Timing<T> {
  /** The result of the last timed run. */
  readonly result: T;
  /** Milliseconds per timed run, in the order they ran. */
  readonly times: readonly number[];
  readonly warmups: number;
}

/** Timed runs of `timeRuns` past `repeat` when asked to fill a time (the benchmarks: a tiny model's median rests on many). */
const MAX_RUNS_TO_FILL = 50;

/**
 * Runs `once` for warm-up (a count, or 'auto') and then `repeat` times, timing each of the latter;
 * with `fillMs`, more timed runs while they fit in that long (at most MAX_RUNS_TO_FILL).
 */
export async function timeRuns<T>(
  once: () => Promise<T>,
  repeat: number,
  warmup: number | 'auto',
  fillMs = 0,
): Promise<Timing<T>> {
  let warmups = 0;
  const start = performance.now();
  while (
    warmup === 'auto' ? warmups === 0 || (performance.now() - start < WARMUP_MS && warmups < WARMUP_MAX_RUNS) : warmups < warmup
  ) {
    await once();
    warmups++;
  }
  const times: number[] = [];
  let result: T | undefined;
  const timed = performance.now();
  const more = (): boolean => performance.now() - timed < fillMs && times.length < MAX_RUNS_TO_FILL;
  while (times.length < repeat || more()) {
    const t0 = performance.now();
    result = await once();
    times.push(performance.now() - t0);
  }
  return { result: result!, times, warmups };
}

/** `main: median 86.1 ms (min 84.0 ms, max 90.2 ms) over 9 runs after 6 warm-up runs`. */
export function formatTiming(entry: string, t: Timing<unknown>): string {
  const sorted = [...t.times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const spread = `(min ${formatMs(sorted[0]!)}, max ${formatMs(sorted[sorted.length - 1]!)})`;
  const runs = `${sorted.length} run${sorted.length === 1 ? '' : 's'}`;
  const warm = t.warmups === 0 ? 'without warm-up' : `after ${t.warmups} warm-up run${t.warmups === 1 ? '' : 's'}`;
  return `${entry}: median ${formatMs(median)} ${spread} over ${runs} ${warm}`;
}

/**
 * Profiled calls' kernels, slowest first: launches and time per call, share of the kernels' time.
 * Each launch is waited for (on WebGPU too), so the sum exceeds a plain call's time.
 */
export function formatProfile(kernels: readonly { kernel: string; launches: number; ms: number }[], calls: number): string {
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const width = Math.max(6, ...kernels.map((k) => k.kernel.length));
  const ms = (v: number): string => `${(v / calls).toFixed(3)} ms`.padStart(11);
  const launches = (n: number): string => String(Math.round((10 * n) / calls) / 10).padStart(8);
  return [
    `profile (per call, mean of ${calls}; each kernel launch timed and waited for):`,
    `  ${'kernel'.padEnd(width)}  launches         time  share`,
    ...kernels.map(
      (k) =>
        `  ${k.kernel.padEnd(width)}  ${launches(k.launches)}  ${ms(k.ms)}  ${(total > 0 ? (100 * k.ms) / total : 0).toFixed(1).padStart(5)}%`,
    ),
    `  ${'total'.padEnd(width)}  ${launches(kernels.reduce((a, k) => a + k.launches, 0))}  ${ms(total)}`,
    '',
  ].join('\n');
}
