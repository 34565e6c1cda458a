/** Timing helpers for the benchmarks. */
export interface BenchRow {
  readonly name: string;
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
    const goal = r.goalMs === undefined ? '' : `  goal < ${r.goalMs} ms  ${r.ms < r.goalMs ? 'met' : 'MISSED'}`;
    console.log(`  ${r.name.padEnd(width)}  ${r.ms.toFixed(1).padStart(8)} ms${goal}${r.note ? `  (${r.note})` : ''}`);
  }
}
