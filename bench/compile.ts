/**
 * Compile-time benchmark (issue 17 item 22), with the real `kiln` binary
 * (whole process, Node start included) on models generated here:
 *
 *   - a cold build of ResNet-50 (102 MB of weights; import, legalize,
 *     codegen for the js target, no tuning), with the time of each stage;
 *     goal: 3 s;
 *   - a large model (AlexNet's shape, 244 MB of weights, 151 MB of them in
 *     one tensor): the import's weight throughput (goal: 500 MB/s, disk
 *     speed) and the build's peak memory (goal: 1.2 × the weights plus a
 *     constant, the peak of building a tiny model).
 *
 * `--quick` builds once each and shrinks the large model (~40 MB).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alexnetOnnx } from '../scripts/models/alexnet.ts';
import { resnet50Onnx } from '../scripts/models/resnet50.ts';
import type { BenchRow } from './util.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'kiln.js');
const TINY = join(import.meta.dirname, '..', 'examples', 'models', 'tiny-resnet.onnx');
/**
 * Prints the process's peak resident memory as it exits: VmHWM where there is /proc (the
 * peak of this program; getrusage's maxrss would include the forking parent's memory, which
 * Linux carries across exec), else maxrss.
 */
const PEAK_PROBE = `data:text/javascript,${encodeURIComponent(`
import { readFileSync } from 'node:fs';
process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try {
    kb = Number(/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {}
  const cpu = process.cpuUsage();
  process.stderr.write('\\nkiln-bench-maxrss ' + kb + ' cpu ' + (cpu.user + cpu.system) / 1000 + '\\n');
});
`)}`;

interface BuildRun {
  readonly wallMs: number;
  /** User plus system CPU time of the process: what a busy machine inflates least. */
  readonly cpuMs: number;
  readonly peakBytes: number;
  readonly stages: Readonly<Record<string, number>>;
  readonly weightBytes: number;
}

/** One cold build (fresh cache) of `model` for the js target: import, legalize, codegen. */
function coldBuild(dir: string, model: string): BuildRun {
  const cache = join(dir, 'cache');
  rmSync(cache, { recursive: true, force: true });
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  const pipeline = join(dir, 'pipeline.yaml');
  writeFileSync(
    pipeline,
    `name: bench\ntarget: js\nmodel:\n  path: ${JSON.stringify(model)}\nstages:\n  - import: {}\n  - legalize: {}\n  - codegen: { out: out }\n`,
  );
  const report = join(dir, 'report.json');
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', PEAK_PROBE, BIN, 'build', pipeline, '--cache-dir', cache, '--report', report],
    {
      encoding: 'utf8',
    },
  );
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`kiln build of ${model} failed:\n${r.stderr}`);
  const peak = /kiln-bench-maxrss (\d+) cpu ([\d.]+)/.exec(r.stderr);
  const built = JSON.parse(readFileSync(report, 'utf8')) as { stages: { name: string; ms: number }[] };
  const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as {
    params: { tensors: { byteLength: number }[] };
  };
  return {
    wallMs,
    peakBytes: Number(peak?.[1] ?? NaN) * 1024,
    cpuMs: Number(peak?.[2] ?? NaN),
    stages: Object.fromEntries(built.stages.map((s) => [s.name, s.ms])),
    weightBytes: manifest.params.tensors.reduce((a, t) => a + t.byteLength, 0),
  };
}

function medianRun(runs: readonly BuildRun[]): BuildRun {
  const byWall = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  return byWall[Math.floor(byWall.length / 2)]!;
}

const MB = 1e6;

export function benchCompile(quick: boolean): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-compile-'));
  try {
    const rows: BenchRow[] = [];
    const runs = quick ? 1 : 3;

    const resnet = join(dir, 'resnet50.onnx');
    writeFileSync(resnet, resnet50Onnx());
    const r50 = medianRun(Array.from({ length: runs }, () => coldBuild(dir, resnet)));
    rows.push({
      name: 'cold build ResNet-50 (js, no tuning)',
      ms: r50.wallMs,
      goalMs: 3000,
      note: `whole process, ${r50.cpuMs.toFixed(0)} ms of CPU; ${(r50.weightBytes / MB).toFixed(0)} MB of weights, peak ${(r50.peakBytes / MB).toFixed(0)} MB`,
    });
    for (const [stage, ms] of Object.entries(r50.stages)) rows.push({ name: `  stage ${stage}`, ms });
    rmSync(resnet);

    // The constant of the memory goal: what a build of a model with next to no weights peaks at.
    const tiny = coldBuild(dir, TINY).peakBytes;
    const large = join(dir, 'alexnet.onnx');
    writeFileSync(large, alexnetOnnx({ scale: quick ? 0.25 : 1 }));
    const big = medianRun(Array.from({ length: runs }, () => coldBuild(dir, large)));
    const importMs = big.stages.import!;
    const mbps = big.weightBytes / MB / (importMs / 1000);
    const ratio = (big.peakBytes - tiny) / big.weightBytes;
    rows.push({
      name: `large model (AlexNet${quick ? ' x0.25' : ''}): cold build`,
      ms: big.wallMs,
      note: `whole process, ${big.cpuMs.toFixed(0)} ms of CPU; ${(big.weightBytes / MB).toFixed(0)} MB of weights`,
    });
    rows.push({
      name: '  import',
      ms: importMs,
      note: `${mbps.toFixed(0)} MB/s of weights (goal >= 500: ${mbps >= 500 ? 'met' : 'MISSED'})`,
    });
    rows.push({
      name: '  peak memory',
      ms: NaN,
      note:
        `${(big.peakBytes / MB).toFixed(0)} MB = ${(tiny / MB).toFixed(0)} MB (a tiny model's build) + ` +
        `${ratio.toFixed(2)} x the weights (goal <= 1.2 x: ${ratio <= 1.2 ? 'met' : 'MISSED'})`,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
