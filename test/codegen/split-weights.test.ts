/**
 * A weight larger than the target's maxStorageBufferBindingSize does not fail
 * the WebGPU build: it is cut into constants that each fit one binding, and
 * the kernel reads them as one (a matmul, a gather from an embedding table and
 * a scheduled convolution here, with a target file whose binding limit is 4 KiB
 * so the weights stay small). Numbers on the WebGPU adapter against
 * onnxruntime; the splitting itself as Before/Expected in the text format.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeModel } from '../../scripts/onnx-writer.ts';
import { main } from '../../src/cli/main.ts';
import { splitBufferParam } from '../../src/codegen/split-buffer.ts';
import { irModule } from '../../src/ir/module.ts';
import { structuralEqual } from '../../src/ir/structural.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import { tensor, type NDArray } from '../../src/runtime/ndarray.ts';
import { load } from '../../src/runtime/node.ts';
import { parse } from '../helpers/build-run.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';
import { printModule } from '../../src/ir/text/printer.ts';

const BINDING = 4096;

const f32 = (n: number, seed: number): Float32Array => Float32Array.from(randomArray(n, seed));

/** matmul + bias + relu over a [64, 40] weight (10 KiB), a gather from a [100, 16] table (6.4 KiB), a conv with [32, 8, 3, 3] (9 KiB). */
const MODEL = encodeModel({
  opset: 17,
  producer: 'test',
  graphName: 'big-weights',
  inputs: [
    { name: 'x', elemType: 1, dims: ['N', 64] },
    { name: 'ids', elemType: 7, dims: ['N', 5] },
    { name: 'img', elemType: 1, dims: ['N', 8, 6, 6] },
  ],
  outputs: [
    { name: 'fc', elemType: 1, dims: ['N', 40] },
    { name: 'emb', elemType: 1, dims: ['N', 5, 16] },
    { name: 'conv', elemType: 1, dims: ['N', 32, 6, 6] },
  ],
  initializers: [
    { name: 'W', dims: [64, 40], data: f32(64 * 40, 1) },
    { name: 'b', dims: [40], data: f32(40, 2) },
    { name: 'E', dims: [100, 16], data: f32(100 * 16, 3) },
    { name: 'K', dims: [32, 8, 3, 3], data: f32(32 * 8 * 9, 4) },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
    { op: 'Add', inputs: ['xw', 'b'], outputs: ['xwb'] },
    { op: 'Relu', inputs: ['xwb'], outputs: ['fc'] },
    { op: 'Gather', inputs: ['E', 'ids'], outputs: ['emb'], attrs: { axis: 0 } },
    { op: 'Conv', inputs: ['img', 'K'], outputs: ['conv'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
  ],
});

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function target(extra = ''): string {
  return `name: small-bindings
kind: webgpu
device: webgpu
features: []
limits:
  maxStorageBufferBindingSize: ${BINDING}
${extra}`;
}

const PIPELINE = `name: big-weights
target: ./small.yaml
model:
  path: model.onnx
stages:
  - import: {}
  - legalize: {}
  - schedule: {}
  - codegen: { out: art }
`;

describe('weights over the binding limit', () => {
  let ws: Workspace;
  let built: { code: number; err: string };
  beforeAll(async () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'small.yaml': target() });
    ws.write('model.onnx', MODEL);
    built = await kiln('build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));
  });
  afterAll(() => ws.remove());

  test('build, each parameter within one binding', () => {
    expect(built.code, built.err).toBe(0);
    const m = JSON.parse(ws.read('art/manifest.json')) as Manifest;
    expect(Math.max(...m.params.tensors.map((t) => t.byteLength))).toBeLessThanOrEqual(BINDING);
    // W (2560 floats) as 1024 + 1024 + 512, E (1600) as 1024 + 576, K (2304) as 1024 + 1024 + 256.
    expect(m.params.tensors.map((t) => t.shape[0]).sort((a, b) => a! - b!)).toEqual([
      40, 256, 512, 576, 1024, 1024, 1024, 1024, 1024,
    ]);
  });

  describeWebGpu('on the adapter', () => {
    test('the numbers match onnxruntime', async () => {
      expect(built.code, built.err).toBe(0);
      const n = 3;
      const x = f32(n * 64, 10);
      const ids = Array.from({ length: n * 5 }, (_, i) => (i * 37 + 11) % 100);
      const img = f32(n * 8 * 36, 11);
      const mod = await load(ws.path('art'), { device: 'webgpu' });
      const out = await mod.callNamed('main', {
        x: tensor(x, [n, 64]),
        ids: tensor(BigInt64Array.from(ids.map(BigInt)), [n, 5], 'int64'),
        img: tensor(img, [n, 8, 6, 6]),
      });
      const session = await ort.InferenceSession.create(MODEL);
      const want = await session.run({
        x: new ort.Tensor('float32', x, [n, 64]),
        ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [n, 5]),
        img: new ort.Tensor('float32', img, [n, 8, 6, 6]),
      });
      for (const name of ['fc', 'emb', 'conv']) {
        const got = (await (out[name] as NDArray).toCpu()).toNumbers();
        const expected = Array.from(want[name]!.data as Float32Array);
        expect(got.length, name).toBe(expected.length);
        const worst = Math.max(...got.map((v, i) => Math.abs(v - expected[i]!) / Math.max(1, Math.abs(expected[i]!))));
        expect(worst, name).toBeLessThan(1e-4);
      }
    });
  });

  test('a device that cannot bind the pieces (too few storage buffers per stage) still fails with K8004', async () => {
    const few = workspace({ 'pipeline.yaml': PIPELINE, 'small.yaml': target('  maxStorageBuffersPerShaderStage: 3\n') });
    try {
      few.write('model.onnx', MODEL);
      const r = await kiln('build', few.path('pipeline.yaml'), '--cache-dir', few.path('cache'));
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/K8004: .*storage buffers, more than the device limit maxStorageBuffersPerShaderStage = 3/);
    } finally {
      few.remove();
    }
  });
});

test('splitBufferParam: the parameter becomes chunks of its flat layout, each load picks its chunk', () => {
  const before = parse(`
prim_func mv(W: f32[3, 4], X: f32[4], Y: f32[3]) {
  for i, k in grid(3, 4) {
    block mv(vi = spatial(i), vk = reduce(k)) {
      init { Y[vi] = 0.0 }
      Y[vi] = Y[vi] + W[vi, vk] * X[vk]
    }
  }
}`);
  const expected = parse(`
prim_func mv(W_0: f32[5], W_1: f32[5], W_2: f32[2], X: f32[4], Y: f32[3]) {
  for i, k in grid(3, 4) {
    block mv(vi = spatial(i), vk = reduce(k)) {
      reads(W_0[0:5], W_1[0:5], W_2[0:2], X[vk])
      init { Y[vi] = 0.0 }
      Y[vi] = Y[vi] + select(vi * 4 + vk < 5, W_0[min(vi * 4 + vk, 4)], select(vi * 4 + vk < 10, W_1[min(max(vi * 4 + vk - 5, 0), 4)], W_2[min(max(vi * 4 + vk - 10, 0), 1)])) * X[vk]
    }
  }
}`);
  const after = irModule(new Map([['mv', splitBufferParam(before.functions.get('mv') as PrimFunc, 0, 5)]]));
  expect(structuralEqual(after, expected), printModule(after)).toBe(true);
});
