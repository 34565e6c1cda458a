/**
 * The upper bound a pipeline declares for a symbolic dimension
 * (`model.dynamic: { n: { upper: 64 } }`) is checked at every call: kernels
 * and memory plans may assume it, so a larger input is an error (K8201)
 * naming the dimension and both numbers, not memory corruption.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { encodeModel } from '../../scripts/onnx-writer.ts';
import { importOnnx } from '../../src/frontends/onnx/importer.ts';
import { main } from '../../src/cli/main.ts';
import { CALL_CODES } from '../../src/runtime/errors.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import { tensor, type NDArray } from '../../src/runtime/ndarray.ts';
import { load } from '../../src/runtime/node.ts';
import { buildAndLoad } from '../helpers/build-run.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('a bound declared in the pipeline', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = workspace({
      'model.kir': MM_RELU,
      'pipeline.yaml': `name: mm-relu
target: js
model:
  path: model.kir
  dynamic:
    n: { upper: 64 }
stages:
  - import: {}
  - legalize: {}
  - codegen: { out: art }
`,
    });
    const r = await kiln('build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));
    expect(r.code, r.err).toBe(0);
  });
  afterEach(() => ws.remove());

  test('reaches the manifest and is checked at every call of the runtime API', async () => {
    const manifest = JSON.parse(ws.read('art/manifest.json')) as Manifest;
    expect(manifest.entries.main).toMatchObject({ vars: ['n'], upper: [64] });
    const mod = await load(ws.path('art'));
    const w = tensor(randomArray(128 * 64, 2), [128, 64]);
    const ok = (await mod.call('main', tensor(randomArray(64 * 128, 1), [64, 128]), w)) as NDArray;
    expect(ok.shape).toEqual([64, 64]);
    const over = mod.call('main', tensor(randomArray(65 * 128, 1), [65, 128]), w);
    await expect(over).rejects.toMatchObject({ name: 'CallError', code: CALL_CODES.aboveBound });
    await expect(over).rejects.toThrow(
      "main: parameter 'x' dimension 0 is 65 (shape [65, 128]), above the upper bound of n: n <= 64",
    );
  });

  test('kiln run: batch 65 is exit 2 with K8201, batch 64 runs', async () => {
    const over = await kiln('run', ws.path('art'), '--shape', 'x=65,128');
    expect(over.code).toBe(2);
    expect(over.err).toContain(`error ${CALL_CODES.aboveBound}: main: parameter 'x' dimension 0 is 65`);
    expect(over.err).toContain('n <= 64');
    const at = await kiln('run', ws.path('art'), '--shape', 'x=64,128');
    expect(at.code, at.err).toBe(0);
  });
});

test('bounds written in the module (tir_var_upper_bound) hold for match_cast and prim values too', async () => {
  const mod = await buildAndLoad(`
func main(x: Tensor[ndim=1, f32], s: Prim[i64, value=k]) -> Tensor[ndim=1, f32] attrs(tir_var_upper_bound={m: 8, k: 3}) {
  v = match_cast(x, Tensor[(m,), f32])
  return v
}`);
  expect(((await mod.call('main', tensor([1, 2, 3, 4, 5, 6, 7, 8], [8]), 3)) as NDArray).shape).toEqual([8]);
  await expect(mod.call('main', tensor(new Float32Array(9), [9]), 3)).rejects.toThrow(
    "main: the match_cast of 'v' dimension 0 is 9 (shape [9]), above the upper bound of m: m <= 8",
  );
  await expect(mod.call('main', tensor([1], [1]), 4)).rejects.toThrow(
    "main: parameter 's' is 4, above the upper bound of k: k <= 3",
  );
});

test('an ONNX model: the bound model.dynamic gives a dim_param (renamed) is checked', async () => {
  const bytes = encodeModel({
    opset: 17,
    producer: 'test',
    graphName: 'g',
    inputs: [{ name: 'x', elemType: 1, dims: ['N', 4] }],
    outputs: [{ name: 'y', elemType: 1, dims: ['N', 4] }],
    initializers: [],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
  const mod = await buildAndLoad(importOnnx(bytes, { dynamic: { N: { name: 'batch', upper: 8 } } }));
  expect(((await mod.call('main', tensor(new Float32Array(32), [8, 4]))) as NDArray).shape).toEqual([8, 4]);
  await expect(mod.call('main', tensor(new Float32Array(36), [9, 4]))).rejects.toThrow(
    'dimension 0 is 9 (shape [9, 4]), above the upper bound of batch: batch <= 8',
  );
});
