/** kiln build + kiln run, as a user types them: inputs from .npy or random, outputs to .npy, errors with exit 2. */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import { readNpy, writeNpy } from '../../src/runtime/npy.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `name: mm-relu
target: js
model:
  path: model.kir
stages:
  - import: {}
  - legalize: {}
  - codegen: { out: artifacts/mm-relu }
`;

let ws: Workspace;
beforeEach(async () => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU });
  const r = await kiln('build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));
  expect(r.code, r.err).toBe(0);
});
afterEach(() => ws.remove());

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('kiln run', () => {
  test('random inputs, a symbolic dimension from --shape, outputs written as .npy', async () => {
    const r = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=7,128', '--repeat', '3', '--output', ws.path('out'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^output 0: float32\[7, 64\] {2}min 0 {2}max [0-9.]+/m);
    expect(r.out).toMatch(/main: median [0-9.]+ ms \(min [0-9.]+ ms, max [0-9.]+ ms\) over 3 runs after \d+ warm-up runs?/);
    const y = readNpy(new Uint8Array(readFileSync(ws.path('out/output_0.npy'))));
    expect(y.shape).toEqual([7, 64]);
  });

  test('inputs from .npy files give the right numbers', async () => {
    const x = randomArray(2 * 128, 5);
    const w = randomArray(128 * 64, 6);
    ws.write('x.npy', writeNpy(tensor(x, [2, 128])));
    ws.write('w.npy', writeNpy(tensor(w, [128, 64])));
    const r = await kiln(
      'run',
      ws.path('artifacts/mm-relu'),
      '--input',
      `x=${ws.path('x.npy')}`,
      '--input',
      `w=${ws.path('w.npy')}`,
      '--output',
      ws.path('out'),
    );
    expect(r.code, r.err).toBe(0);
    const y = readNpy(new Uint8Array(readFileSync(ws.path('out/output_0.npy')))).toNumbers();
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 64; j += 9) {
        let s = 0;
        for (let k = 0; k < 128; k++) s += x[i * 128 + k]! * w[k * 64 + j]!;
        expect(y[i * 64 + j]).toBeCloseTo(Math.max(0, s), 4);
      }
    }
  });

  test('the artifact directory is complete: copied elsewhere, it runs', async () => {
    cpSync(ws.path('artifacts/mm-relu'), ws.path('elsewhere/copy'), { recursive: true });
    rmSync(ws.path('artifacts'), { recursive: true });
    rmSync(ws.path('cache'), { recursive: true });
    const r = await kiln('run', ws.path('elsewhere/copy'), '--shape', 'x=2,128');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('output 0: float32[2, 64]');
  });

  test('an unset symbolic dimension defaults to 1 with a notice', async () => {
    const r = await kiln('run', ws.path('artifacts/mm-relu'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('notice: symbolic dimension n is not set by an input or --shape; using n = 1');
    expect(r.out).toContain('output 0: float32[1, 64]');
  });

  test('mistakes are errors with exit code 2, never stack traces', async () => {
    const wrong = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=7,100');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("error K8200: main: parameter 'x' dimension 1 is 100 (shape [7, 100]), expected 128");
    const noInput = await kiln('run', ws.path('artifacts/mm-relu'), '--input', 'y=random');
    expect(noInput.code).toBe(2);
    expect(noInput.err).toContain("there is no input 'y'; the inputs are x, w");
    const missing = await kiln('run', ws.path('nowhere'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read manifest.json');
    ws.write('bad.npy', 'not numpy');
    const bad = await kiln('run', ws.path('artifacts/mm-relu'), '--input', `x=${ws.path('bad.npy')}`);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('not a .npy file');
    for (const r of [wrong, noInput, missing, bad]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  test('--warmup: a count of untimed runs first, or none', async () => {
    const two = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=2,128', '--warmup', '2', '--repeat', '2');
    expect(two.out).toMatch(/main: median [0-9.]+ ms \(min [0-9.]+ ms, max [0-9.]+ ms\) over 2 runs after 2 warm-up runs\n/);
    const none = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=2,128', '--warmup', '0');
    expect(none.out).toMatch(/over 1 run without warm-up\n/);
    expect((await kiln('run', ws.path('artifacts/mm-relu'), '--warmup', 'some')).code).toBe(2);
  });

  test('--profile: a table of the kernels, each launch timed, slowest first, with their share', async () => {
    const r = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=4,128', '--repeat', '2', '--profile');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('profile (per call, mean of 2; each kernel launch timed and waited for):');
    const rows = [...r.out.matchAll(/^ {2}(\S+) +(\d+(?:\.\d)?) +([0-9.]+) ms +([0-9.]+)%$/gm)].map((m) => ({
      kernel: m[1]!,
      launches: Number(m[2]),
      ms: Number(m[3]),
      share: Number(m[4]),
    }));
    // The module's two kernels (the matmul, then the relu the legalize stage made), one launch each per call.
    expect(rows.map((x) => x.launches)).toEqual([1, 1]);
    expect(rows.some((x) => x.kernel === 'mm')).toBe(true);
    expect(rows[0]!.ms).toBeGreaterThanOrEqual(rows[1]!.ms);
    expect(rows.reduce((a, x) => a + x.share, 0)).toBeCloseTo(100, 0);
    expect(r.out).toMatch(/^ {2}total +2 +[0-9.]+ ms$/m);
  });

  test('a number given for a tensor input says what a tensor input takes', async () => {
    const r = await kiln('run', ws.path('artifacts/mm-relu'), '--input', 'x=3.5');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "--input x=3.5: no such file; input 'x' is a tensor (Tensor[(n, 128), f32]): give a .npy file or 'random'",
    );
    expect(r.err).not.toContain('ENOENT');
  });

  test('a random input too large to generate is refused at once, with its size', async () => {
    const t0 = performance.now();
    const r = await kiln('run', ws.path('artifacts/mm-relu'), '--shape', 'x=100000000,128');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--shape x=100000000,128: a random input of 47.7 GiB (12,800,000,000 float32 values)');
    expect(r.err).toContain('give a smaller shape, or the data with --input x=FILE.npy');
    // It refuses before allocating anything: no time spent generating or running.
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
