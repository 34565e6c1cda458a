/**
 * A Slice whose bounds the graph computes (here from another input's shape) keeps its length
 * `end - begin` (strided_slice's assume_inbound), and the runtime checks the bounds before the
 * slice reads: in range it matches onnxruntime-node; past the tensor it is a CallError K8203
 * naming the node, never a read past the data (what it was before the check).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { encodeModel, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { buildArtifact } from '../../../src/codegen/artifact.ts';
import { memorySource } from '../../../src/codegen/memory-source.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { loadArtifact } from '../../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../../src/runtime/ndarray.ts';
import { JS_TARGET } from '../../helpers/build-run.ts';
import { compareWithOrt } from '../../helpers/onnx-oracle.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { describeWebGpu } from '../../helpers/webgpu.ts';

const i64 = (name: string, values: number[]): TensorSpec => ({
  name,
  dims: [values.length],
  data: BigInt64Array.from(values, (v) => BigInt(v)),
});

/**
 * x[N, 4] and k[M]: `head` = x[0:M] (the end from k's shape), `tail` = x[M:] (a computed start,
 * the huge literal end ONNX writes for "to the end"), `window` = x[M-2:M] on axis 0 and [1:3] on axis 1.
 */
const MODEL = encodeModel({
  opset: 13,
  producer: 'test',
  graphName: 'g',
  inputs: [
    { name: 'x', elemType: 1, dims: ['N', 4] },
    { name: 'k', elemType: 1, dims: ['M'] },
  ],
  outputs: [
    { name: 'head', elemType: 1, dims: undefined },
    { name: 'tail', elemType: 1, dims: undefined },
    { name: 'window', elemType: 1, dims: undefined },
  ],
  initializers: [
    i64('zero', [0]),
    i64('huge', [2 ** 53]),
    i64('two', [2]),
    i64('one', [1]),
    i64('three', [3]),
    i64('axes01', [0, 1]),
  ],
  nodes: [
    { op: 'Shape', inputs: ['k'], outputs: ['m'] },
    { op: 'Slice', inputs: ['x', 'zero', 'm'], outputs: ['head'], name: 'Head' },
    { op: 'Slice', inputs: ['x', 'm', 'huge'], outputs: ['tail'], name: 'Tail' },
    { op: 'Sub', inputs: ['m', 'two'], outputs: ['m2'] },
    { op: 'Concat', inputs: ['m2', 'one'], outputs: ['starts'], attrs: { axis: 0 } },
    { op: 'Concat', inputs: ['m', 'three'], outputs: ['ends'], attrs: { axis: 0 } },
    { op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes01'], outputs: ['window'], name: 'Window' },
  ],
});

async function build() {
  const m = importOnnx(MODEL, { file: 'slice.onnx' });
  return { module: m, kiln: await loadArtifact(memorySource(await buildArtifact(m, { name: 's', target: JS_TARGET }))) };
}

describe('Slice with computed bounds', () => {
  test('imports with a bounds check before each slice, the lengths end - begin', async () => {
    const { module } = await build();
    const text = printModule(module);
    expect(text.match(/check_slice_bounds\(/g)).toHaveLength(3);
    expect(text).toContain('node="Head"');
  });

  test('in range: the same numbers as onnxruntime, for several sizes', async () => {
    const { kiln } = await build();
    const session = await ort.InferenceSession.create(MODEL);
    for (const [n, m] of [
      [6, 3],
      [5, 5],
      [9, 2],
    ] as const) {
      const x = randomArray(n * 4, n * 10 + m, -1, 1);
      const k = randomArray(m, 7, -1, 1);
      const want = await session.run({
        x: new ort.Tensor('float32', Float32Array.from(x), [n, 4]),
        k: new ort.Tensor('float32', Float32Array.from(k), [m]),
      });
      const got = (await kiln.call('main', tensor(x, [n, 4]), tensor(k, [m]))) as NDArray[];
      ['head', 'tail', 'window'].forEach((name, i) => {
        const g = got[i]!;
        expect(g.shape, `${name} at N=${n}, M=${m}`).toEqual([...want[name]!.dims].map(Number));
        expect(g.toNumbers()).toEqual(Array.from(want[name]!.data as Float32Array, (v) => Math.fround(v)));
      });
    }
  });

  test('past the tensor: a CallError naming the node and the bounds, not a read past the data', async () => {
    const { kiln } = await build();
    const call = kiln.call('main', tensor(randomArray(4 * 4, 3, -1, 1), [4, 4]), tensor(randomArray(6, 4, -1, 1), [6]));
    await expect(call).rejects.toMatchObject({ name: 'CallError', code: 'K8203' });
    await expect(call).rejects.toThrow(
      /Slice 'Head': its bounds, computed while the model runs, are \[0, 6\) on axis 0 of a tensor of shape \[4, 4\]/,
    );
    // M = 1: the window's start M - 2 is negative.
    await expect(kiln.call('main', tensor(randomArray(16, 3, -1, 1), [4, 4]), tensor([0.5], [1]))).rejects.toThrow(
      /Slice 'Window'.*\[-1, 1\) on axis 0/,
    );
  });
});

const FEEDS = [
  { name: 'x', shape: [7, 4] },
  { name: 'k', shape: [5] },
];

test('in range on the wasm target: the same numbers as onnxruntime', async () => {
  for (const e of await compareWithOrt(MODEL, FEEDS, { wasmThreads: 1 })) expect(e.maxAbs, e.name).toBe(0);
});

describeWebGpu('Slice with computed bounds on WebGPU', (device) => {
  test('in range: the same numbers as onnxruntime', async () => {
    for (const e of await compareWithOrt(MODEL, FEEDS, { device })) expect(e.maxAbs, e.name).toBe(0);
  });
});
