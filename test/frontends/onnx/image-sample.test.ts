/**
 * GridSample and RoiAlign against onnxruntime-node on random inputs, on the
 * js target and the wasm target: every interpolation and padding mode, with
 * grids that reach past the image.
 */
import { describe, expect, test } from 'vitest';
import { encodeModel, type AttrSpec, type TensorSpec } from '../../../scripts/onnx-writer.ts';
import { compareWithOrt, type OracleInput } from '../../helpers/onnx-oracle.ts';
import { importOnnx } from '../../../src/frontends/onnx/importer.ts';

function model(
  op: string,
  inputs: string[],
  attrs: Record<string, AttrSpec>,
  feeds: OracleInput[],
  consts: TensorSpec[] = [],
  opset = 16,
) {
  return encodeModel({
    opset,
    producer: 'test',
    graphName: 'g',
    inputs: feeds.map((f) => ({ name: f.name, elemType: 1, dims: [...f.shape] })),
    outputs: [{ name: 'y', elemType: 1, dims: undefined }],
    initializers: consts,
    nodes: [{ op, inputs, outputs: ['y'], attrs }],
  });
}

async function expectClose(bytes: Uint8Array, feeds: OracleInput[], tol: number, what: string): Promise<void> {
  for (const wasmThreads of [undefined, 1]) {
    for (const e of await compareWithOrt(bytes, feeds, { ...(wasmThreads ? { wasmThreads } : {}) })) {
      expect(e.maxAbs, `${what}${wasmThreads ? ' (wasm)' : ''}`).toBeLessThan(tol);
    }
  }
}

describe('GridSample', () => {
  const feeds: OracleInput[] = [
    { name: 'x', shape: [2, 3, 5, 7] },
    // Past [-1, 1] so that every padding mode is exercised.
    { name: 'grid', shape: [2, 4, 6, 2], lo: -1.4, hi: 1.4 },
  ];
  for (const mode of ['bilinear', 'nearest', 'bicubic'])
    for (const padding_mode of ['zeros', 'border', 'reflection'])
      test(`${mode}, ${padding_mode} padding`, async () => {
        for (const align_corners of [0, 1]) {
          const bytes = model('GridSample', ['x', 'grid'], { mode, padding_mode, align_corners }, feeds);
          await expectClose(bytes, feeds, 1e-5, `align_corners ${align_corners}`);
        }
      });

  test("opset 20's mode names (linear, cubic) mean bilinear and bicubic", async () => {
    for (const mode of ['linear', 'cubic']) {
      const bytes = model('GridSample', ['x', 'grid'], { mode, padding_mode: 'border' }, feeds, [], 20);
      await expectClose(bytes, feeds, 1e-5, mode);
    }
  });

  test('refuses a volumetric input, naming the node', () => {
    const bytes = encodeModel({
      opset: 20,
      producer: 'test',
      graphName: 'g',
      inputs: [
        { name: 'x', elemType: 1, dims: [1, 1, 2, 2, 2] },
        { name: 'grid', elemType: 1, dims: [1, 2, 2, 2, 3] },
      ],
      outputs: [{ name: 'y', elemType: 1, dims: undefined }],
      initializers: [],
      nodes: [{ op: 'GridSample', inputs: ['x', 'grid'], outputs: ['y'] }],
    });
    expect(() => importOnnx(bytes)).toThrow(/GridSample_0.*rank 5 is not supported/);
  });
});

describe('RoiAlign', () => {
  const rois: TensorSpec = {
    name: 'rois',
    dims: [4, 4],
    // x1, y1, x2, y2: inside, crossing the edges, smaller than a pixel, and past the image.
    data: Float32Array.from([1, 1.5, 6.2, 7, -2, 0.3, 4, 12.5, 3.1, 2.2, 3.4, 2.6, 8, 9, 15, 14]),
  };
  const batch: TensorSpec = { name: 'b', dims: [4], data: BigInt64Array.from([0n, 1n, 1n, 0n]) };
  const feeds: OracleInput[] = [{ name: 'x', shape: [2, 3, 10, 9] }];
  for (const mode of ['avg', 'max'])
    for (const coordinate_transformation_mode of ['half_pixel', 'output_half_pixel'])
      test(`${mode}, ${coordinate_transformation_mode}`, async () => {
        const attrs = {
          mode,
          coordinate_transformation_mode,
          output_height: 3,
          output_width: 4,
          sampling_ratio: 2,
          spatial_scale: 0.8,
        };
        const bytes = model('RoiAlign', ['x', 'rois', 'b'], attrs, feeds, [rois, batch]);
        await expectClose(bytes, feeds, 1e-5, `${mode} ${coordinate_transformation_mode}`);
      });

  test('refuses the adaptive sampling ratio with a reason', () => {
    const bytes = model('RoiAlign', ['x', 'rois', 'b'], {}, feeds, [rois, batch]);
    expect(() => importOnnx(bytes)).toThrow(/RoiAlign_0.*sampling_ratio 0/);
  });
});
