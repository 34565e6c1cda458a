/**
 * Operators whose output size only the data decides — NonZero, Compress,
 * Unique, NonMaxSuppression, TopK with a computed K — on inputs computed by the graph, against
 * onnxruntime-node on random inputs, on the js and wasm targets and on
 * WebGPU. Each size becomes a symbolic variable bound when the builtin
 * returns; the operators after it (a softmax over that size, a product)
 * run on the symbolic shape.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { encodeModel, type NodeSpec, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { buildArtifact } from '../../../src/codegen/artifact.ts';
import { memorySource } from '../../../src/codegen/memory-source.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { optimizeModule } from '../../../src/stages/optimize.ts';
import { loadArtifact } from '../../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../../src/runtime/ndarray.ts';
import { JS_TARGET } from '../../helpers/build-run.ts';
import { compareWithOrt, type OracleInput } from '../../helpers/onnx-oracle.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { describeWebGpu } from '../../helpers/webgpu.ts';

const f32 = (name: string, values: number[], dims: number[] = [values.length]): TensorSpec => ({
  name,
  dims,
  data: Float32Array.from(values),
});
const i64 = (name: string, values: number[]): TensorSpec => ({
  name,
  dims: [values.length],
  data: BigInt64Array.from(values, (v) => BigInt(v)),
});

/** `outputs`: names, an `:i64` suffix for an int64 one (float32 otherwise). */
function model(inputs: OracleInput[], outputs: string[], nodes: NodeSpec[], initializers: TensorSpec[]): Uint8Array {
  return encodeModel({
    opset: 13,
    producer: 'test',
    graphName: 'g',
    inputs: inputs.map((x) => ({ name: x.name, elemType: 1, dims: [...x.shape] })),
    outputs: outputs.map((o) => ({ name: o.replace(':i64', ''), elemType: o.endsWith(':i64') ? 7 : 1, dims: undefined })),
    initializers,
    nodes,
  });
}

const selectFeeds: OracleInput[] = [{ name: 'x', shape: [7, 6] }];
/** NonZero of a mask; the rows whose sum is positive (Compress on an axis) under a softmax; the elements above 0.5. */
const select = model(
  selectFeeds,
  ['nz:i64', 'soft', 'picked'],
  [
    { op: 'Greater', inputs: ['x', 'third'], outputs: ['mask'] },
    { op: 'NonZero', inputs: ['mask'], outputs: ['nz'] },
    { op: 'ReduceSum', inputs: ['x', 'axis1'], outputs: ['sums'], attrs: { keepdims: 0 } },
    { op: 'Greater', inputs: ['sums', 'zero'], outputs: ['positive'] },
    { op: 'Compress', inputs: ['x', 'positive'], outputs: ['rows'], attrs: { axis: 0 } },
    { op: 'Transpose', inputs: ['rows'], outputs: ['cols'] },
    { op: 'Softmax', inputs: ['cols'], outputs: ['soft'], attrs: { axis: 1 } },
    { op: 'Reshape', inputs: ['x', 'flat'], outputs: ['xs'] },
    { op: 'Greater', inputs: ['xs', 'half'], outputs: ['big'] },
    { op: 'Compress', inputs: ['x', 'big'], outputs: ['picked'] },
  ],
  [f32('third', [0.3], []), f32('zero', [0], []), f32('half', [0.5], []), i64('axis1', [1]), i64('flat', [-1])],
);

const uniqueFeeds: OracleInput[] = [{ name: 'x', shape: [4, 5], lo: -2, hi: 2 }];
/** Unique of rounded values (sorted, all four outputs) and of rounded columns (in order of appearance), then used. */
const unique = model(
  uniqueFeeds,
  ['values', 'first:i64', 'inverse:i64', 'counts:i64', 'squared', 'columns'],
  [
    { op: 'Round', inputs: ['x'], outputs: ['r'] },
    { op: 'Unique', inputs: ['r'], outputs: ['values', 'first', 'inverse', 'counts'], attrs: { sorted: 1 } },
    { op: 'Mul', inputs: ['values', 'values'], outputs: ['squared'] },
    { op: 'Sign', inputs: ['x'], outputs: ['s'] },
    { op: 'Unique', inputs: ['s'], outputs: ['columns'], attrs: { axis: 1, sorted: 0 } },
  ],
  [],
);

const nmsFeeds: OracleInput[] = [
  { name: 'boxes', shape: [2, 12, 4], lo: 0, hi: 1 },
  { name: 'scores', shape: [2, 3, 12], lo: 0, hi: 1 },
];
/** Corner boxes (in either order) with every threshold given; centre boxes with none but the count. */
const nms = model(
  nmsFeeds,
  ['corners:i64', 'centres:i64'],
  [
    { op: 'NonMaxSuppression', inputs: ['boxes', 'scores', 'four', 'iou', 'min_score'], outputs: ['corners'] },
    {
      op: 'NonMaxSuppression',
      inputs: ['boxes', 'scores', 'four'],
      outputs: ['centres'],
      attrs: { center_point_box: 1 },
    },
  ],
  [i64('four', [4]), f32('iou', [0.2]), f32('min_score', [0.25])],
);

const topkFeeds: OracleInput[] = [{ name: 'x', shape: [3, 9] }];
/** TopK whose K the graph computes (how many elements of x are above 0.4), along the last axis. */
const topk = model(
  topkFeeds,
  ['values', 'indices:i64'],
  [
    { op: 'Greater', inputs: ['x', 'cut'], outputs: ['above'] },
    { op: 'Cast', inputs: ['above'], outputs: ['ones'], attrs: { to: 7 } },
    { op: 'ReduceSum', inputs: ['ones', ''], outputs: ['count'], attrs: { keepdims: 0 } },
    { op: 'Reshape', inputs: ['count', 'one'], outputs: ['k_all'] },
    { op: 'Min', inputs: ['k_all', 'nine'], outputs: ['k'] },
    { op: 'TopK', inputs: ['x', 'k'], outputs: ['values', 'indices'] },
  ],
  [f32('cut', [0.4], []), i64('one', [1]), i64('nine', [9])],
);

const cases = [
  ['NonZero and Compress', select, selectFeeds],
  ['Unique', unique, uniqueFeeds],
  ['NonMaxSuppression', nms, nmsFeeds],
  ['TopK with a computed K', topk, topkFeeds],
] as const;

describe.each(cases)('%s', (_name, bytes, feeds) => {
  test('matches onnxruntime on the js and wasm targets, for inputs giving different sizes', async () => {
    for (const seed of [1, 2, 3]) {
      for (const wasmThreads of [undefined, 1]) {
        for (const e of await compareWithOrt(bytes, feeds, { seed, ...(wasmThreads ? { wasmThreads } : {}) })) {
          expect(e.maxAbs, `${e.name}, seed ${seed}${wasmThreads ? ', wasm' : ''}`).toBeLessThan(1e-6);
        }
      }
    }
  });

  test('and after fold-constants, fuse and plan-memory', async () => {
    for (const e of await compareWithOrt(bytes, feeds, { seed: 4, wasmThreads: 1, transform: optimizeModule })) {
      expect(e.maxAbs, e.name).toBeLessThan(1e-6);
    }
  });
});

test('the sizes are symbols a match_cast binds after the call; nothing else is left unknown', () => {
  const text = printModule(importOnnx(select, { file: 'select.onnx' }));
  expect(text).toMatch(/match_cast\(\w+, Tensor\[\(2, NonZero_1_count\), i64\]\)/);
  expect(text).toMatch(/match_cast\(\w+, Tensor\[\(1, Compress_4_count\), i64\]\)/);
  expect(text).toMatch(/: Tensor\[\(6, Compress_4_count\), f32\] = softmax\(/);
});

test('one artifact binds a new size on every call', async () => {
  const artifact = await buildArtifact(importOnnx(select, { file: 'select.onnx' }), { name: 'select', target: JS_TARGET });
  const kiln = await loadArtifact(memorySource(artifact));
  const session = await ort.InferenceSession.create(select);
  const counts = new Set<number>();
  for (const seed of [5, 6, 7, 8]) {
    const x = randomArray(42, seed, -1, 1);
    const want = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [7, 6]) });
    const got = (await kiln.call('main', tensor(x, [7, 6]))) as NDArray[];
    expect(got[2]!.shape).toEqual(want.picked!.dims);
    expect(got[2]!.toNumbers()).toEqual(Array.from(want.picked!.data as Float32Array));
    counts.add(got[2]!.shape[0]!);
  }
  expect(counts.size).toBeGreaterThan(1);
});

describeWebGpu('on WebGPU', (device) => {
  test.each(cases)('%s matches onnxruntime', async (_name, bytes, feeds) => {
    for (const e of await compareWithOrt(bytes, feeds, { seed: 1, device })) {
      expect(e.maxAbs, e.name).toBeLessThan(1e-5);
    }
  });
});
