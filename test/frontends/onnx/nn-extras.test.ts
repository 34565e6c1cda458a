/**
 * ConvTranspose in 1-D and 3-D, MaxPool's indices and BatchNormalization's
 * training-mode outputs, against onnxruntime-node on random inputs, on the
 * js and wasm targets.
 */
import { describe, expect, test } from 'vitest';
import { encodeModel, type AttrSpec } from '../../../scripts/onnx-writer.ts';
import { compareWithOrt, type OracleInput } from '../../helpers/onnx-oracle.ts';

function model(op: string, feeds: OracleInput[], attrs: Record<string, AttrSpec>, outputs = ['y']): Uint8Array {
  return encodeModel({
    opset: 17,
    producer: 'test',
    graphName: 'g',
    inputs: feeds.map((f) => ({ name: f.name, elemType: 1, dims: [...f.shape] })),
    outputs: outputs.map((name) => ({ name, elemType: name === 'i' ? 7 : 1, dims: undefined })),
    initializers: [],
    nodes: [{ op, inputs: feeds.map((f) => f.name), outputs, attrs }],
  });
}

async function expectClose(bytes: Uint8Array, feeds: OracleInput[], tol: number): Promise<void> {
  for (const wasmThreads of [undefined, 1]) {
    for (const e of await compareWithOrt(bytes, feeds, { ...(wasmThreads ? { wasmThreads } : {}) })) {
      expect(e.maxAbs, `${e.name}${wasmThreads ? ' (wasm)' : ''}`).toBeLessThan(tol);
    }
  }
}

describe('ConvTranspose', () => {
  test('1-D with stride, dilation, groups, padding and a bias', async () => {
    const feeds = [
      { name: 'x', shape: [2, 4, 9] },
      { name: 'w', shape: [4, 3, 3] },
      { name: 'b', shape: [6] },
    ];
    await expectClose(
      model('ConvTranspose', feeds, { strides: [2], dilations: [2], group: 2, pads: [1, 2], output_padding: [1] }),
      feeds,
      1e-5,
    );
  });

  test('3-D with strides, padding, output_shape and a bias', async () => {
    const feeds = [
      { name: 'x', shape: [1, 3, 3, 4, 5] },
      { name: 'w', shape: [3, 2, 2, 3, 3] },
      { name: 'b', shape: [2] },
    ];
    await expectClose(model('ConvTranspose', feeds, { strides: [1, 2, 2], pads: [0, 1, 1, 1, 0, 1] }), feeds, 1e-5);
    await expectClose(model('ConvTranspose', feeds, { strides: [2, 2, 1], output_shape: [6, 8, 7] }), feeds, 1e-5);
  });
});

describe('MaxPool indices', () => {
  const cases: [number[], Record<string, AttrSpec>][] = [
    [[2, 3, 7, 8], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1] }],
    [[2, 3, 7, 8], { kernel_shape: [2, 3], strides: [2, 1], storage_order: 1, dilations: [2, 1] }],
    [[1, 2, 9], { kernel_shape: [3], strides: [2], ceil_mode: 1 }],
    [[1, 2, 4, 5, 6], { kernel_shape: [2, 2, 3], strides: [2, 2, 2], pads: [0, 1, 1, 1, 0, 1] }],
    [[1, 2, 4, 5, 6], { kernel_shape: [2, 2, 3], strides: [2, 2, 2], storage_order: 1 }],
  ];
  for (const [shape, attrs] of cases)
    test(`[${shape.join(', ')}] ${JSON.stringify(attrs)}`, async () => {
      const feeds = [{ name: 'x', shape }];
      await expectClose(model('MaxPool', feeds, attrs, ['y', 'i']), feeds, 1e-9);
    });
});

describe('BatchNormalization training_mode', () => {
  const feeds = [
    { name: 'x', shape: [3, 4, 5, 2] },
    { name: 's', shape: [4] },
    { name: 'b', shape: [4] },
    { name: 'm', shape: [4] },
    { name: 'v', shape: [4], lo: 0.5, hi: 2 },
  ];
  test('Y with the batch statistics, and the running mean and variance', async () => {
    await expectClose(
      model('BatchNormalization', feeds, { training_mode: 1, momentum: { float: 0.7 }, epsilon: { float: 1e-3 } }, [
        'y',
        'rm',
        'rv',
      ]),
      feeds,
      2e-5,
    );
  });
});
