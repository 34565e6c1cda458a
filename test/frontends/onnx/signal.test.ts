/**
 * The signal operators (window functions, MelWeightMatrix, DFT, STFT)
 * against onnxruntime-node on random inputs, on the js target and the wasm
 * target.
 */
import { describe, expect, test } from 'vitest';
import { encodeModel, type AttrSpec, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { compareWithOrt, type OracleInput } from '../../helpers/onnx-oracle.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';
import { printModule } from '../../../src/ir/text/printer.ts';

const i64 = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));
const scalarI64 = (name: string, v: number): TensorSpec => ({ name, dims: [], data: i64([v]) });
const scalarF32 = (name: string, v: number): TensorSpec => ({ name, dims: [], data: Float32Array.of(v) });

interface Case {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  readonly feeds: readonly OracleInput[];
  readonly consts?: readonly TensorSpec[];
  readonly opset?: number;
  readonly dynamic?: Record<string, string>;
}

function modelOf(c: Case): Uint8Array {
  return encodeModel({
    opset: c.opset ?? 17,
    producer: 'test',
    graphName: 'g',
    inputs: c.feeds.map((f) => ({ name: f.name, elemType: 1, dims: [...f.shape] })),
    outputs: [{ name: 'y', elemType: 1, dims: undefined }],
    initializers: [...(c.consts ?? [])],
    nodes: [{ op: c.op, inputs: c.inputs, outputs: ['y'], ...(c.attrs ? { attrs: c.attrs } : {}) }],
  });
}

/** Kiln on js and wasm against onnxruntime: the largest error relative to the output's scale. */
async function check(c: Case, tol: number): Promise<void> {
  const bytes = modelOf(c);
  for (const wasmThreads of [undefined, 1]) {
    const errors = await compareWithOrt(bytes, c.feeds, { ...(wasmThreads ? { wasmThreads } : {}) });
    for (const e of errors) expect(e.maxAbs, `${c.op} ${JSON.stringify(c.attrs ?? {})}`).toBeLessThan(tol);
  }
}

describe('window functions', () => {
  for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow'])
    for (const periodic of [0, 1])
      test(`${op} periodic=${periodic}`, async () => {
        await check({ op, inputs: ['n'], attrs: { periodic }, feeds: [], consts: [scalarI64('n', 17)] }, 1e-6);
      });
});

test('MelWeightMatrix', async () => {
  await check(
    {
      op: 'MelWeightMatrix',
      inputs: ['bins', 'len', 'rate', 'lo', 'hi'],
      feeds: [],
      consts: [scalarI64('bins', 10), scalarI64('len', 64), scalarI64('rate', 16000), scalarF32('lo', 20), scalarF32('hi', 7000)],
    },
    1e-6,
  );
});

describe('DFT', () => {
  const cases: { shape: number[]; attrs: Record<string, number>; len?: number }[] = [
    { shape: [2, 12, 1], attrs: {} },
    { shape: [2, 12, 2], attrs: {} },
    { shape: [2, 12, 1], attrs: { onesided: 1 } },
    { shape: [2, 12, 2], attrs: { inverse: 1 } },
    { shape: [3, 5, 7, 2], attrs: { axis: 2 } },
    { shape: [3, 5, 7, 1], attrs: { axis: -3, onesided: 1 } },
    { shape: [2, 10, 1], attrs: {}, len: 16 },
    { shape: [2, 10, 2], attrs: { inverse: 1 }, len: 6 },
  ];
  for (const { shape, attrs, len } of cases)
    test(`[${shape.join(', ')}] ${JSON.stringify(attrs)}${len ? ` dft_length ${len}` : ''}`, async () => {
      await check(
        {
          op: 'DFT',
          inputs: len ? ['x', 'len'] : ['x'],
          attrs,
          feeds: [{ name: 'x', shape }],
          ...(len ? { consts: [scalarI64('len', len)] } : {}),
        },
        2e-5,
      );
    });

  test('opset 20 takes the axis as an input (default -2)', async () => {
    for (const axis of [undefined, 1]) {
      await check(
        {
          op: 'DFT',
          inputs: axis === undefined ? ['x'] : ['x', '', 'axis'],
          feeds: [{ name: 'x', shape: [3, 6, 8, 2] }],
          consts: axis === undefined ? [] : [scalarI64('axis', axis)],
          opset: 20,
        },
        2e-5,
      );
    }
  });

  test('refuses an axis that is the parts dim, naming the node', () => {
    const bytes = modelOf({ op: 'DFT', inputs: ['x'], attrs: { axis: 2 }, feeds: [{ name: 'x', shape: [2, 8, 1] }] });
    expect(() => importOnnx(bytes)).toThrow(/node 'DFT_0' \(DFT, opset 17\): axis 2 is not a signal axis/);
  });
});

describe('STFT', () => {
  test('real signal, window, onesided', async () => {
    await check(
      {
        op: 'STFT',
        inputs: ['x', 'step', 'w'],
        feeds: [
          { name: 'x', shape: [2, 100, 1] },
          { name: 'w', shape: [16] },
        ],
        consts: [scalarI64('step', 6)],
      },
      2e-5,
    );
  });

  test('complex signal, frame_length without window, both sides', async () => {
    await check(
      {
        op: 'STFT',
        inputs: ['x', 'step', '', 'len'],
        attrs: { onesided: 0 },
        feeds: [{ name: 'x', shape: [1, 50, 2] }],
        consts: [scalarI64('step', 5), scalarI64('len', 12)],
      },
      2e-5,
    );
  });

  test('a symbolic signal length runs at several lengths', async () => {
    const bytes = encodeModel({
      opset: 17,
      producer: 'test',
      graphName: 'g',
      inputs: [{ name: 'x', elemType: 1, dims: [2, 'n', 1] }],
      outputs: [{ name: 'y', elemType: 1, dims: undefined }],
      initializers: [scalarI64('step', 5), scalarI64('len', 16)],
      nodes: [{ op: 'STFT', inputs: ['x', 'step', '', 'len'], outputs: ['y'] }],
    });
    for (const n of [16, 40, 77]) {
      for (const e of await compareWithOrt(bytes, [{ name: 'x', shape: [2, n, 1] }])) expect(e.maxAbs).toBeLessThan(2e-5);
    }
  });

  test('a symbolic signal length gives a symbolic frame count', () => {
    const bytes = encodeModel({
      opset: 17,
      producer: 'test',
      graphName: 'g',
      inputs: [{ name: 'x', elemType: 1, dims: [1, 'n', 1] }],
      outputs: [{ name: 'y', elemType: 1, dims: undefined }],
      initializers: [scalarI64('step', 4), scalarI64('len', 8)],
      nodes: [{ op: 'STFT', inputs: ['x', 'step', '', 'len'], outputs: ['y'] }],
    });
    const text = printModule(importOnnx(bytes));
    // (n - 8) // 4 + 1 frames of 5 bins, whatever n is.
    expect(text).toMatch(/-> Tensor\[\(1, max\(n \/\/ 4, 1\) - 1, 5, 2\), f32\]/);
  });
});
