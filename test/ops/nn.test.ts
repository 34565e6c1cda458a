import { describe, expect, it } from 'vitest';
import { add, floordiv, mul, sub } from '../../src/ir/prim/expr.ts';
import type { AttrMap } from '../../src/ir/attrs.ts';
import { type Dim, expectInfer, expectRank, h, infer, n, T, w } from './helpers.ts';

describe('conv2d', () => {
  const cases: [string, AttrMap, Dim[], Dim[], Dim[]][] = [
    ['same padding', { padding: 1 }, [n, 3, h, w], [8, 3, 3, 3], [n, 8, h, w]],
    ['valid', {}, [n, 3, h, w], [8, 3, 3, 3], [n, 8, sub(h, 2), sub(w, 2)]],
    [
      'stride 2',
      { strides: 2, padding: [1, 1] },
      [n, 3, h, w],
      [16, 3, 3, 3],
      [n, 16, add(floordiv(sub(h, 1), 2), 1), add(floordiv(sub(w, 1), 2), 1)],
    ],
    ['asymmetric padding', { padding: [0, 1, 2, 3] }, [1, 3, 10, 10], [4, 3, 3, 3], [1, 4, 10, 12]],
    ['dilation', { dilation: 2 }, [1, 3, h, 9], [4, 3, 3, 3], [1, 4, sub(h, 4), 5]],
    ['groups', { groups: 4 }, [1, 8, 9, 9], [8, 2, 3, 3], [1, 8, 7, 7]],
    ['depthwise', { groups: 32, padding: 1 }, [n, 32, h, w], [32, 1, 3, 3], [n, 32, h, w]],
  ];
  it.each(cases)('%s', (_name, attrs, data, weight, out) => {
    expectInfer('conv2d', [T(data), T(weight)], attrs, out);
  });

  it('names both shapes when the channels do not match', () => {
    expect(() => infer('conv2d', [T([1, 3, h, w]), T([8, 4, 3, 3])])).toThrow(
      /conv2d: argument 'data' of shape \(1, 3, h, w\) has 3 input channels but argument 'weight' of shape \(8, 4, 3, 3\) expects 4 x 1 group/,
    );
    expect(() => infer('conv2d', [T([1, 8, h, w]), T([6, 2, 3, 3])], { groups: 4 })).toThrow(
      /conv2d: argument 'weight' of shape \(6, 2, 3, 3\) has 6 output channels, which 4 groups do not divide/,
    );
  });

  it('rejects a kernel larger than the padded input', () => {
    expect(() => infer('conv2d', [T([1, 3, 2, 2]), T([8, 3, 5, 5])])).toThrow(
      /conv2d: the kernel of argument 'weight' of shape \(8, 3, 5, 5\) does not fit in the padded input of argument 'data' of shape \(1, 3, 2, 2\)/,
    );
  });

  it('checks ranks and dtypes', () => {
    expect(() => infer('conv2d', [T([3, h, w]), T([8, 3, 3, 3])])).toThrow(
      /conv2d: expected argument 'data' of shape \(3, h, w\) to have rank 4, found rank 3/,
    );
    expect(() => infer('conv2d', [T([1, 3, h, w]), T([8, 3, 3, 3], 'float16')])).toThrow(
      /conv2d: argument 'data' has dtype float32 but argument 'weight' has dtype float16/,
    );
    expectInfer('conv2d', [T([1, 3, 5, 5], 'int8'), T([8, 3, 3, 3], 'int8')], { out_dtype: 'int32' }, [1, 8, 3, 3], 'int32');
  });

  it('accepts only the NCHW layouts', () => {
    expect(() => infer('conv2d', [T([1, 3, 5, 5]), T([8, 3, 3, 3])], { data_layout: 'NHWC' })).toThrow(
      /conv2d: invalid attributes: attribute 'data_layout'/,
    );
  });

  it('keeps an unknown shape at rank 4', () => {
    expectRank(infer('conv2d', [T(4), T([8, 3, 3, 3])]), 4);
    expectRank(infer('conv2d', [T(undefined), T([8, 3, 3, 3])]), 4);
  });
});

describe('conv1d', () => {
  it('slides over one spatial dim', () => {
    expectInfer('conv1d', [T([n, 4, w]), T([8, 4, 3])], { padding: 1 }, [n, 8, w]);
    expectInfer('conv1d', [T([n, 4, w]), T([8, 4, 3])], { strides: 2, padding: [1, 0] }, [n, 8, add(floordiv(sub(w, 2), 2), 1)]);
    expect(() => infer('conv1d', [T([n, 4, w]), T([8, 5, 3])])).toThrow(
      /conv1d: argument 'data' of shape \(n, 4, w\) has 4 input channels but argument 'weight' of shape \(8, 5, 3\)/,
    );
  });
});

describe('3-D convolution and pooling', () => {
  it('conv3d over a symbolic batch, with strides, padding and dilation', () => {
    expectInfer('conv3d', [T([n, 3, 8, 9, 10]), T([4, 3, 3, 3, 3])], { strides: [1, 2, 1], padding: 1, dilation: [2, 1, 1] }, [
      n,
      4,
      6,
      5,
      10,
    ]);
  });

  it.each(['max_pool3d', 'avg_pool3d'])('%s windows every spatial dim', (op) => {
    expectInfer(op, [T([n, 2, 7, 8, 9])], { pool_size: [3, 2, 3], strides: 2, padding: [1, 0, 1, 1, 0, 1] }, [n, 2, 4, 4, 5]);
  });
});

describe('conv2d_transpose', () => {
  it('grows the spatial dims', () => {
    expectInfer('conv2d_transpose', [T([n, 3, h, w]), T([3, 8, 4, 4])], { strides: 2, padding: 1 }, [n, 8, mul(h, 2), mul(w, 2)]);
    expectInfer('conv2d_transpose', [T([1, 4, 5, 5]), T([4, 2, 3, 3])], { groups: 2, output_padding: 0 }, [1, 4, 7, 7]);
    expectInfer('conv2d_transpose', [T([1, 4, 5, 5]), T([4, 2, 3, 3])], { strides: 2, output_padding: 1 }, [1, 2, 12, 12]);
  });

  it('names both shapes on a channel mismatch and checks output_padding', () => {
    expect(() => infer('conv2d_transpose', [T([1, 3, h, w]), T([4, 8, 3, 3])])).toThrow(
      /conv2d_transpose: argument 'data' of shape \(1, 3, h, w\) has 3 input channels but argument 'weight' of shape \(4, 8, 3, 3\) expects 4/,
    );
    expect(() => infer('conv2d_transpose', [T([1, 3, h, w]), T([3, 8, 3, 3])], { output_padding: 1 })).toThrow(
      /conv2d_transpose: output_padding 1 must be smaller than the stride or the dilation/,
    );
  });
});

describe('max_pool1d_indices, max_pool2d_indices and max_pool3d_indices', () => {
  it('have the pool shape in int64', () => {
    expectInfer('max_pool1d_indices', [T([n, 3, w])], { pool_size: 2, strides: 2 }, [n, 3, floordiv(w, 2)], 'int64');
    expectInfer('max_pool2d_indices', [T([1, 3, 7, 7])], { pool_size: 2, strides: 2, ceil_mode: true }, [1, 3, 4, 4], 'int64');
    expectInfer(
      'max_pool3d_indices',
      [T([1, 3, 4, 6, 8])],
      { pool_size: 2, strides: 2, index_order: 'column_major' },
      [1, 3, 2, 3, 4],
      'int64',
    );
    expect(() => infer('max_pool2d_indices', [T([1, 3, 7, 7])], { index_order: 'diagonal' })).toThrow(
      /max_pool2d_indices: invalid attributes: attribute 'index_order'/,
    );
  });
});

describe('conv1d_transpose and conv3d_transpose', () => {
  it('grow every spatial dim as conv2d_transpose does', () => {
    expectInfer('conv1d_transpose', [T([n, 3, w]), T([3, 8, 4])], { strides: 2, padding: 1 }, [n, 8, mul(w, 2)]);
    expectInfer(
      'conv3d_transpose',
      [T([1, 4, 3, 5, 5]), T([4, 2, 3, 3, 3])],
      { strides: [1, 2, 2], output_padding: [0, 1, 0], groups: 2 },
      [1, 4, 5, 12, 11],
    );
  });

  it('check the layouts and the rank', () => {
    expect(() => infer('conv3d_transpose', [T([1, 3, h, w]), T([3, 8, 3, 3])])).toThrow(
      /conv3d_transpose: expected argument 'data' of shape \(1, 3, h, w\) to have rank 5, found rank 4/,
    );
    expect(() => infer('conv1d_transpose', [T([1, 3, w]), T([3, 8, 3])], { kernel_layout: 'OIW' })).toThrow(
      /conv1d_transpose: invalid attributes: attribute 'kernel_layout'/,
    );
  });
});

describe('pooling', () => {
  it.each(['max_pool2d', 'avg_pool2d'])('%s computes window counts', (op) => {
    expectInfer(op, [T([n, 3, h, w])], { pool_size: 2, strides: 2 }, [n, 3, floordiv(h, 2), floordiv(w, 2)]);
    expectInfer(op, [T([1, 3, 7, 7])], { pool_size: 2, strides: 2 }, [1, 3, 3, 3]);
    expectInfer(op, [T([1, 3, 7, 7])], { pool_size: 2, strides: 2, ceil_mode: true }, [1, 3, 4, 4]);
    expectInfer(op, [T([1, 3, h, w])], { pool_size: 3, strides: 1, padding: 1 }, [1, 3, h, w]);
    expectInfer(op, [T([1, 3, 9, 9])], { pool_size: 2, dilation: 2 }, [1, 3, 7, 7]);
  });

  it.each(['max_pool2d', 'avg_pool2d'])('%s rejects wrong ranks and oversized windows', (op) => {
    expect(() => infer(op, [T([3, h, w])], { pool_size: 2 })).toThrow(
      new RegExp(`${op}: expected argument 'data' of shape \\(3, h, w\\) to have rank 4`),
    );
    expect(() => infer(op, [T([1, 3, 2, 2])], { pool_size: 3 })).toThrow(
      new RegExp(
        `${op}: the pool window of size 3 does not fit in the padded input of argument 'data' of shape \\(1, 3, 2, 2\\)`,
      ),
    );
  });

  it.each(['max_pool1d', 'avg_pool1d'])('%s pools one spatial dim', (op) => {
    expectInfer(op, [T([n, 3, w])], { pool_size: 3, strides: 3 }, [n, 3, floordiv(w, 3)]);
    expect(() => infer(op, [T([n, 3, w, 2])])).toThrow(
      new RegExp(`${op}: expected argument 'data' of shape \\(n, 3, w, 2\\) to have rank 3`),
    );
  });

  it('adaptive_avg_pool2d sets the output size', () => {
    expectInfer('adaptive_avg_pool2d', [T([n, 64, h, w])], { output_size: [1, 1] }, [n, 64, 1, 1]);
    expectInfer('adaptive_avg_pool2d', [T([n, 64, h, w])], { output_size: 7 }, [n, 64, 7, 7]);
    expectInfer('adaptive_avg_pool2d', [T([n, 64, h, w])], {}, [n, 64, h, w]);
    expect(() => infer('adaptive_avg_pool2d', [T([n, 64])])).toThrow(
      /adaptive_avg_pool2d: expected argument 'data' of shape \(n, 64\) to have rank 4/,
    );
    expect(() => infer('adaptive_avg_pool2d', [T([n, 64, h, w])], { output_size: [1, 2, 3] })).toThrow(
      /adaptive_avg_pool2d: invalid attributes: attribute 'output_size'/,
    );
  });

  it('adaptive_avg_pool1d sets the output size', () => {
    expectInfer('adaptive_avg_pool1d', [T([n, 64, w])], { output_size: 1 }, [n, 64, 1]);
    expect(() => infer('adaptive_avg_pool1d', [T([n, 64])])).toThrow(
      /adaptive_avg_pool1d: expected argument 'data' of shape \(n, 64\) to have rank 3/,
    );
  });
});

describe('pad', () => {
  it('adds before and after widths per axis', () => {
    expectInfer('pad', [T([n, 3, h, w])], { pad_width: [0, 0, 0, 0, 1, 1, 2, 0] }, [n, 3, add(h, 2), add(w, 2)]);
    expectInfer('pad', [T([5])], { pad_width: [-1, -2], pad_mode: 'constant', pad_value: 1.5 }, [2]);
    expectInfer('pad', [T([5])], { pad_width: [1, 2], pad_mode: 'reflect' }, [8]);
  });

  it('names the shape when the widths do not fit', () => {
    expect(() => infer('pad', [T([n, 3])], { pad_width: [1, 1] })).toThrow(
      /pad: pad_width has 2 values but argument 'data' of shape \(n, 3\) needs 4/,
    );
    expect(() => infer('pad', [T([3])], { pad_width: [-2, -2] })).toThrow(
      /pad: pad_width -2, -2 crops axis 0 of argument 'data' of shape \(3,\) below size 0/,
    );
    expect(() => infer('pad', [T([3])], { pad_width: [1, 1], pad_mode: 'wrap' })).toThrow(
      /pad: invalid attributes: attribute 'pad_mode'/,
    );
    expect(() => infer('pad', [T([3])], {})).toThrow(/pad: invalid attributes: attribute 'pad_width'/);
  });
});
