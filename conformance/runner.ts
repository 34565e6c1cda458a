/**
 * `npm run conformance`: every ONNX backend test of the ONNX test data
 * (Debian's libonnx-testdata, or ONNX_TESTDATA), built and run through Kiln;
 * writes conformance/REPORT.md. Tests run in worker threads (one per core),
 * each with a time limit, so a runaway case cannot stall the run.
 *
 *   npm run conformance                     all categories
 *   npm run conformance -- --filter conv    only tests whose name contains "conv"
 *   npm run conformance -- --no-report      print, do not write the report
 *   npm run conformance -- --device webgpu  build for WebGPU (default GPU schedules, WGSL) and run on
 *                                           the adapter; the report goes to conformance/REPORT-webgpu.md
 *   npm run conformance -- --target wasm    build for the wasm target (default CPU schedules, WebAssembly
 *                                           SIMD) and run on the CPU; the report goes to REPORT-wasm.md
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaseResult, Device } from './run-case.ts';
import { renderReport } from './report.ts';
import { CATEGORIES, findTestData } from './runner-paths.ts';

const TIME_LIMIT_MS = Number(process.env.CONFORMANCE_TIME_LIMIT_MS ?? 120_000);

interface Job {
  readonly dir: string;
  readonly category: string;
  readonly name: string;
}

function jobs(root: string, filter: string | undefined): Job[] {
  const out: Job[] = [];
  for (const category of CATEGORIES) {
    const base = join(root, category);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      if (filter && !name.includes(filter)) continue;
      if (existsSync(join(base, name, 'model.onnx'))) out.push({ dir: join(base, name), category, name });
    }
  }
  return out;
}

async function runAll(
  list: readonly Job[],
  workers: number,
  device: Device,
  onResult: (r: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let next = 0;
  const spawn = (): Worker => new Worker(new URL('./worker-entry.mjs', import.meta.url));
  const lane = async (): Promise<void> => {
    let worker = spawn();
    while (next < list.length) {
      const job = list[next++]!;
      const t0 = performance.now();
      const result = await new Promise<CaseResult>((resolve) => {
        const timer = setTimeout(() => {
          void worker.terminate();
          worker = spawn();
          resolve({
            category: job.category,
            name: job.name,
            status: 'error',
            detail: `timed out after ${TIME_LIMIT_MS / 1000} s`,
            ms: Math.round(performance.now() - t0),
          });
        }, TIME_LIMIT_MS);
        worker.once('message', (r: CaseResult) => {
          clearTimeout(timer);
          resolve(r);
        });
        worker.postMessage({ ...job, device });
      });
      results.push(result);
      onResult(result);
    }
    await worker.terminate();
  };
  await Promise.all(Array.from({ length: Math.min(workers, list.length) }, lane));
  return results;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : undefined;
  let device = (args.includes('--device') ? args[args.indexOf('--device') + 1] : 'cpu') as Device;
  if (device !== 'cpu' && device !== 'webgpu') throw new Error(`--device ${String(device)}: expected cpu or webgpu`);
  if (args.includes('--target')) {
    const target = args[args.indexOf('--target') + 1];
    if (target !== 'js' && target !== 'wasm' && target !== 'webgpu')
      throw new Error(`--target ${String(target)}: expected js, wasm or webgpu`);
    device = target === 'js' ? 'cpu' : target;
  }
  const root = findTestData();
  const list = jobs(root, filter);
  // WebGPU: one worker, one device (a GPU runs one queue anyway); Dawn devices in several threads of one
  // process are the setup where ending a timed-out worker under a live device could bring the process down.
  const workers = device === 'webgpu' ? 1 : Math.max(1, availableParallelism());
  console.log(`ONNX conformance on ${device}: ${list.length} tests from ${root}, ${workers} workers`);
  const t0 = performance.now();
  const results = await runAll(list, workers, device, (r) => {
    const extra = r.status === 'pass' ? '' : ` — ${r.detail ?? ''}`;
    console.log(`${r.status.padEnd(12)} ${r.category}/${r.name} (${r.ms} ms)${extra}`);
  });
  results.sort((a, b) => (a.category === b.category ? a.name.localeCompare(b.name) : a.category.localeCompare(b.category)));
  const report = renderReport(results, { root, device, seconds: (performance.now() - t0) / 1000 });
  if (!args.includes('--no-report') && !filter) {
    const file = device === 'cpu' ? 'REPORT.md' : `REPORT-${device}.md`;
    writeFileSync(new URL(`./${file}`, import.meta.url), report);
    console.log(`wrote conformance/${file}`);
  }
  console.log(report.split('\n## ')[1]?.split('\n## ')[0] ?? '');
}

await main();
