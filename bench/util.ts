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
