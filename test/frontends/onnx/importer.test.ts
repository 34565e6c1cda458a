/**
 * The ONNX importer: symbolic dimensions, shape subgraphs that become
 * symbolic shapes, initializers as shared blobs, external data, and the
 * errors for unsupported and malformed models. Numbers are checked against
 * onnxruntime-node.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { importOnnx, importOnnxFile } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { encodeModel, type ModelSpec, type NodeSpec, type TensorSpec, type ValueSpec } from '../../../scripts/onnx-writer.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { buildAndLoad } from '../../helpers/build-run.ts';
import { tensor, type NDArray } from '../../../src/runtime/ndarray.ts';

function model(
  nodes: NodeSpec[],
  inputs: ValueSpec[],
  outputs: ValueSpec[],
  initializers: TensorSpec[] = [],
  opset = 17,
): Uint8Array {
  const spec: ModelSpec = { opset, producer: 'test', graphName: 'g', inputs, outputs, initializers, nodes };
  return encodeModel(spec);
}

const i64 = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('symbolic dimensions', () => {
  const relu = (dims: (number | string)[]): Uint8Array =>
    model(
      [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      [{ name: 'x', elemType: 1, dims }],
      [{ name: 'y', elemType: 1, dims }],
    );

  test('dim_params become symbolic variables, renamed as model.dynamic says', () => {
    const text = printModule(importOnnx(relu(['N', 'seq', 8]), { dynamic: { N: { name: 'batch' } } }));
    expect(text).toContain('func main(x: Tensor[(batch, seq, 8), f32])');
  });

  test('a fixed dimension can be made symbolic, with an upper bound', () => {
    const text = printModule(importOnnx(relu([1, 8]), { dynamic: { 'x.0': { name: 'n', upper: 32 } } }));
    expect(text).toContain('func main(x: Tensor[(n, 8), f32])');
    expect(text).toContain('tir_var_upper_bound={n: 32}');
  });

  test('a dynamic name the model does not have is an error', () => {
    expect(() => importOnnx(relu(['N', 8]), { file: 'm.onnx', dynamic: { M: { name: 'b' } } })).toThrow(
      "m.onnx: model.dynamic names 'M', which no input has",
    );
  });
});

describe('shape subgraphs', () => {
  // x: [N, 4, 8] → Shape → Gather(0) → Unsqueeze → Concat([32]) → Reshape(x) : [N, 32]
  const bytes = model(
    [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['n', 'axes'], outputs: ['n1'] },
      { op: 'Concat', inputs: ['n1', 'c32'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['ones'], attrs: {} },
      { op: 'Add', inputs: ['r', 'ones'], outputs: ['y'] },
    ],
    [{ name: 'x', elemType: 1, dims: ['N', 4, 8] }],
    [{ name: 'y', elemType: 1, dims: ['N', 32] }],
    [
      { name: 'zero', dims: [], data: i64([0]) },
      { name: 'axes', dims: [1], data: i64([0]) },
      { name: 'c32', dims: [1], data: i64([32]) },
    ],
  );

  test('resolve to symbolic shapes at import, not run-time data', () => {
    const text = printModule(importOnnx(bytes));
    expect(text).toContain('reshape(x, shape(N, 32))');
    expect(text).toContain('full(shape(N, 32), prim(0.0), dtype="float32")');
    expect(text).not.toContain('shape_of');
  });

  test('and compute what onnxruntime computes, for several batch sizes', async () => {
    for (const n of [1, 3]) {
      for (const e of await compareWithOrt(bytes, [{ name: 'x', shape: [n, 4, 8] }])) expect(e.maxAbs).toBe(0);
    }
  });
});

describe('initializers', () => {
  test('become constants; identical ones are one parameter of the artifact', async () => {
    const w = Float32Array.from([1, 2, 3, 4]);
    const x2 = model(
      [
        { op: 'Slice', inputs: ['w1', 'st', 'en'], outputs: ['ws'] },
        { op: 'Add', inputs: ['x', 'ws'], outputs: ['a'] },
        { op: 'Slice', inputs: ['w2', 'st', 'en'], outputs: ['vs'] },
        { op: 'Mul', inputs: ['a', 'vs'], outputs: ['y'] },
      ],
      [{ name: 'x', elemType: 1, dims: [2, 4] }],
      [{ name: 'y', elemType: 1, dims: [2, 4] }],
      [
        { name: 'w1', dims: [20, 4], data: Float32Array.from({ length: 80 }, (_, i) => w[i % 4]!) },
        { name: 'w2', dims: [20, 4], data: Float32Array.from({ length: 80 }, (_, i) => w[i % 4]!) },
        { name: 'st', dims: [1], data: i64([0]) },
        { name: 'en', dims: [1], data: i64([2]) },
      ],
    );
    const mod = await buildAndLoad(importOnnx(x2));
    expect(mod.manifest.params.tensors).toHaveLength(1);
    const y = (await mod.call('main', tensor([1, 1, 1, 1, 2, 2, 2, 2], [2, 4]))) as NDArray;
    expect(y.toNumbers()).toEqual([2, 6, 12, 20, 3, 8, 15, 24]);
  });

  test('external data is read from the file the tensor names, next to the model', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
    const w = Float32Array.from({ length: 100 }, (_, i) => i / 10);
    const pad = new Uint8Array(16);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([pad, Buffer.from(w.buffer)]));
    const bytes = model(
      [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      [{ name: 'x', elemType: 1, dims: [100] }],
      [{ name: 'y', elemType: 1, dims: [100] }],
      [{ name: 'w', dims: [100], data: w, external: { location: 'weights.bin', offset: 16 } }],
    );
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const m = importOnnxFile({ path: join(dir, 'model.onnx'), format: 'onnx', dynamic: {} });
    const mod = await buildAndLoad(m);
    const y = (await mod.call('main', tensor(new Float32Array(100), [100]))) as NDArray;
    expect(y.toNumbers()[57]).toBeCloseTo(5.7, 5);
    rmSync(join(dir, 'weights.bin'));
    expect(() => importOnnxFile({ path: join(dir!, 'model.onnx'), format: 'onnx', dynamic: {} })).toThrow(
      "initializer 'w': tensor 'w': external data file 'weights.bin' does not exist next to the model",
    );
  });
});

describe('errors', () => {
  test('every unsupported operator is listed at once, with its nodes and the opset', () => {
    const bytes = model(
      [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'FancyOp', name: 'fancy1', inputs: ['a'], outputs: ['b'] },
        { op: 'OtherOp', name: 'other', inputs: ['b'], outputs: ['c'] },
        { op: 'FancyOp', name: 'fancy2', inputs: ['c'], outputs: ['y'] },
      ],
      [{ name: 'x', elemType: 1, dims: [4] }],
      [{ name: 'y', elemType: 1, dims: [4] }],
    );
    let message = '';
    try {
      importOnnx(bytes, { file: 'm.onnx' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('m.onnx: 2 unsupported operators: FancyOp, OtherOp');
    expect(message).toContain("FancyOp (opset 17): nodes 'fancy1', 'fancy2'");
    expect(message).toContain("OtherOp (opset 17): node 'other'");
  });

  test('a malformed file is a clear error, never a crash', () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]), { file: 'bad.onnx' })).toThrow(
      /bad\.onnx: not a valid ONNX model/,
    );
    expect(() => importOnnx(new TextEncoder().encode('hello, not a model'), { file: 'bad.onnx' })).toThrow(/bad\.onnx: /);
  });

  test('an input without a shape asks for model.inputs, and model.inputs supplies it', async () => {
    const bytes = model(
      [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      [{ name: 'x', elemType: 1, dims: undefined }],
      [{ name: 'y', elemType: 1, dims: undefined }],
    );
    expect(() => importOnnx(bytes, { file: 'm.onnx' })).toThrow(
      "m.onnx: input 'x': its shape is not given, not even its rank; give it in the pipeline (model.inputs)",
    );
    const m = importOnnx(bytes, { inputs: [{ name: 'x', shape: ['n', 3], dtype: 'float32' }] });
    expect(printModule(m)).toContain('func main(x: Tensor[(n, 3), f32])');
    const y = (await (await buildAndLoad(m)).call('main', tensor([-1, 2, -3, 4, -5, 6], [2, 3]))) as NDArray;
    expect(y.toNumbers()).toEqual([0, 2, 0, 4, 0, 6]);
  });
});
