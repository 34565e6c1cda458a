/**
 * A model's own input and output names reach the artifact and the runtime
 * unchanged: ONNX names such as `gpu_0/data_0` (the model zoo's ResNet-50)
 * or `blocks.0.bias` are what `kiln run --input NAME=...`, the manifest,
 * callNamed and the error messages use, whatever IR identifiers stand for them
 * (and two names that sanitize alike stay apart). Numbers against onnxruntime.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeModel } from '../../scripts/onnx-writer.ts';
import { main } from '../../src/cli/main.ts';
import { CALL_CODES } from '../../src/runtime/errors.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import { tensor, type NDArray } from '../../src/runtime/ndarray.ts';
import { load } from '../../src/runtime/node.ts';
import { readNpy, writeNpy } from '../../src/runtime/npy.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';

const DATA = 'gpu_0/data_0';
const BIAS = 'gpu_0.data_0'; // sanitizes to the same identifier as DATA
const SOFTMAX = 'gpu_0/softmax_1';
const SUM = 'stage.1/sum';

const MODEL = encodeModel({
  opset: 17,
  producer: 'test',
  graphName: 'names',
  inputs: [
    { name: DATA, elemType: 1, dims: ['N', 8] },
    { name: BIAS, elemType: 1, dims: [8] },
  ],
  outputs: [
    { name: SOFTMAX, elemType: 1, dims: ['N', 4] },
    { name: SUM, elemType: 1, dims: ['N', 8] },
  ],
  initializers: [{ name: 'fc.weight', dims: [8, 4], data: Float32Array.from(randomArray(32, 9)) }],
  nodes: [
    { op: 'Add', name: 'add/0', inputs: [DATA, BIAS], outputs: [SUM] },
    { op: 'MatMul', name: 'fc/matmul', inputs: [SUM, 'fc.weight'], outputs: ['gpu_0/logits'] },
    { op: 'Softmax', name: 'softmax.1', inputs: ['gpu_0/logits'], outputs: [SOFTMAX], attrs: { axis: -1 } },
  ],
});

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

async function oracle(x: Float64Array, b: Float64Array, n: number): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(MODEL);
  const r = await session.run({
    [DATA]: new ort.Tensor('float32', Float32Array.from(x), [n, 8]),
    [BIAS]: new ort.Tensor('float32', Float32Array.from(b), [8]),
  });
  return { [SOFTMAX]: Array.from(r[SOFTMAX]!.data as Float32Array), [SUM]: Array.from(r[SUM]!.data as Float32Array) };
}

function maxRel(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.max(Math.abs(b[i]!), 1e-6)));
}

describe('ONNX input and output names with slashes and dots', () => {
  let ws: Workspace;
  const n = 3;
  const x = randomArray(n * 8, 1);
  const b = randomArray(8, 2);
  beforeAll(async () => {
    ws = workspace({
      'pipeline.yaml': `name: names
target: js
model:
  path: model.onnx
stages:
  - import: {}
  - codegen: { out: art }
`,
    });
    ws.write('model.onnx', MODEL);
    const r = await kiln('build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));
    expect(r.code, r.err).toBe(0);
  });
  afterAll(() => ws.remove());

  test('the manifest lists the model names', () => {
    const m = JSON.parse(ws.read('art/manifest.json')) as Manifest;
    expect(m.entries.main!.params.map((p) => p.name)).toEqual([DATA, BIAS]);
    expect(m.entries.main!.outputs).toEqual([SOFTMAX, SUM]);
  });

  test('kiln run --input takes them, and the numbers match onnxruntime', async () => {
    ws.write('x.npy', writeNpy(tensor(x, [n, 8])));
    ws.write('b.npy', writeNpy(tensor(b, [8])));
    const r = await kiln(
      'run',
      ws.path('art'),
      '--input',
      `${DATA}=${ws.path('x.npy')}`,
      '--input',
      `${BIAS}=${ws.path('b.npy')}`,
      '--output',
      ws.path('out'),
    );
    expect(r.code, r.err).toBe(0);
    const want = await oracle(x, b, n);
    const got0 = readNpy(new Uint8Array(readFileSync(ws.path('out/output_0.npy'))));
    const got1 = readNpy(new Uint8Array(readFileSync(ws.path('out/output_1.npy'))));
    expect(got0.shape).toEqual([n, 4]);
    expect(maxRel(got0.toNumbers(), want[SOFTMAX]!)).toBeLessThan(1e-4);
    expect(maxRel(got1.toNumbers(), want[SUM]!)).toBeLessThan(1e-5);
    const shaped = await kiln('run', ws.path('art'), '--shape', `${DATA}=5,8`);
    expect(shaped.code, shaped.err).toBe(0);
    expect(shaped.out).toContain('output 0: float32[5, 4]');
  });

  test('the runtime API: callNamed takes and returns them; errors name them', async () => {
    const mod = await load(ws.path('art'));
    const out = await mod.callNamed('main', { [DATA]: tensor(x, [n, 8]), [BIAS]: tensor(b, [8]) });
    expect(Object.keys(out)).toEqual([SOFTMAX, SUM]);
    const want = await oracle(x, b, n);
    expect(maxRel((out[SOFTMAX] as NDArray).toNumbers(), want[SOFTMAX]!)).toBeLessThan(1e-4);
    expect(maxRel((out[SUM] as NDArray).toNumbers(), want[SUM]!)).toBeLessThan(1e-5);

    await expect(mod.callNamed('main', { gpu_0_data_0: tensor(x, [n, 8]), [BIAS]: tensor(b, [8]) })).rejects.toMatchObject({
      code: CALL_CODES.unknownName,
      message: `main has no input 'gpu_0_data_0'; its inputs are '${DATA}', '${BIAS}'`,
    });
    await expect(mod.callNamed('main', { [BIAS]: tensor(b, [8]) })).rejects.toThrow(`main: input '${DATA}' not given`);
    await expect(mod.call('main', tensor(x, [n, 8]), tensor(new Float32Array(7), [7]))).rejects.toThrow(
      `main: parameter '${BIAS}' dimension 0 is 7 (shape [7]), expected 8`,
    );
  });
});
