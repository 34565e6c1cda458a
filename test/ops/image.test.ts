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
