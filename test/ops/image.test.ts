import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, h, infer, n, S, T, w } from './helpers.ts';

describe('resize2d', () => {
  it('sets the spatial dims', () => {
    expectInfer('resize2d', [T([n, 3, h, w]), S([mul(h, 2), mul(w, 2)])], {}, [n, 3, mul(h, 2), mul(w, 2)]);
    expectInfer('resize2d', [T([n, 3, h, w]), S([224])], { method: 'cubic' }, [n, 3, 224, 224]);
    expectInfer('resize2d', [T([n, 3, h, w], 'uint8'), S([32, 32])], { method: 'nearest_neighbor' }, [n, 3, 32, 32], 'uint8');
    expectInfer(
      'resize2d',
      [T([n, 3, h, w]), S([8, 8])],
      { out_dtype: 'float16', coordinate_transformation_mode: 'align_corners' },
      [n, 3, 8, 8],
      'float16',
    );
    expectRank(infer('resize2d', [T([n, 3, h, w]), S(2)]), 4);
  });

  it('names the argument and shapes on errors', () => {
    expect(() => infer('resize2d', [T([3, h, w]), S([8, 8])])).toThrow(
      /resize2d: expected argument 'data' of shape \(3, h, w\) to have rank 4, found rank 3/,
    );
    expect(() => infer('resize2d', [T([n, 3, h, w]), S([8, 8, 8])])).toThrow(
      /resize2d: argument 'size' \(8, 8, 8\) must give 1 or 2 spatial sizes for argument 'data' of shape \(n, 3, h, w\)/,
    );
    expect(() => infer('resize2d', [T([n, 3, h, w]), S([8, -8])])).toThrow(
      /resize2d: argument 'size' \(8, -8\) has the negative size -8/,
    );
    expect(() => infer('resize2d', [T([n, 3, h, w], 'int32'), S([8, 8])])).toThrow(
      /resize2d: argument 'data' has dtype int32, expected a float type for linear interpolation/,
    );
    expect(() => infer('resize2d', [T([n, 3, h, w]), S([8, 8])], { layout: 'NHWC' })).toThrow(
      /resize2d: invalid attributes: attribute 'layout'/,
    );
    expect(() => infer('resize2d', [T([n, 3, h, w]), S([8, 8])], { method: 'bilinear' })).toThrow(
      /resize2d: invalid attributes: attribute 'method'/,
    );
  });
});

describe('grid_sample', () => {
  it('gives each image channel the grid spatial dims', () => {
    expectInfer('grid_sample', [T([n, 3, h, w]), T([n, 5, 7, 2])], {}, [n, 3, 5, 7]);
    expectInfer('grid_sample', [T([n, 3, h, w], 'float16'), T([n, h, w, 2])], { method: 'bicubic' }, [n, 3, h, w], 'float16');
  });

  it('names the argument and shapes on errors', () => {
    expect(() => infer('grid_sample', [T([n, 3, h, w]), T([n, 5, 7, 3])])).toThrow(
      /grid_sample: argument 'grid' of shape \(n, 5, 7, 3\) must end in 2 \(x and y\), not 3/,
    );
    expect(() => infer('grid_sample', [T([2, 3, h, w]), T([4, 5, 7, 2])])).toThrow(/grid_sample: .* differ in batch/);
    expect(() => infer('grid_sample', [T([n, 3, h, w]), T([n, 5, 7, 2])], { padding_mode: 'wrap' })).toThrow(
      /grid_sample: invalid attributes: attribute 'padding_mode'/,
    );
  });
});

describe('roi_align', () => {
  it('gives each region every channel at the output size', () => {
    expectInfer('roi_align', [T([n, 3, h, w]), T([7, 4]), T([7], 'int64')], { output_height: 2, output_width: 5 }, [7, 3, 2, 5]);
  });

  it('names the argument and shapes on errors', () => {
    expect(() => infer('roi_align', [T([n, 3, h, w]), T([7, 5]), T([7], 'int64')])).toThrow(
      /roi_align: argument 'rois' of shape \(7, 5\) must have 4 columns/,
    );
    expect(() => infer('roi_align', [T([n, 3, h, w]), T([7, 4]), T([6], 'int64')])).toThrow(
      /roi_align: argument 'batch_indices' .* needs one index per region/,
    );
    expect(() => infer('roi_align', [T([n, 3, h, w]), T([7, 4]), T([7])])).toThrow(
      /roi_align: argument 'batch_indices' has dtype float32, expected an integer type/,
    );
    expect(() => infer('roi_align', [T([n, 3, h, w]), T([7, 4]), T([7], 'int64')], { sampling_ratio: 0 })).toThrow(
      /roi_align: invalid attributes: attribute 'sampling_ratio'/,
    );
  });
});
