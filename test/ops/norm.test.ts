import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, h, infer, m, n, T, w } from './helpers.ts';

describe.each(['softmax', 'log_softmax'])('%s', (op) => {
  it('keeps the shape', () => {
    expectInfer(op, [T([n, mul(m, 4)])], {}, [n, mul(m, 4)]);
    expectInfer(op, [T([n, m], 'float16')], { axis: 0 }, [n, m], 'float16');
    expectRank(infer(op, [T(undefined)], { axis: 5 }), -1);
  });

  it('names the argument and rank of a bad axis', () => {
    expect(() => infer(op, [T([n, 4])], { axis: 3 })).toThrow(
      new RegExp(`K3005: ${op}: axis 3 is out of range for argument 'data' of rank 2`),
    );
    expect(() => infer(op, [T([n, 4])], { axis: -3 })).toThrow(new RegExp(`${op}: axis -3 is out of range`));
  });

  it('needs floats', () => {
    expect(() => infer(op, [T([n], 'int32')])).toThrow(
      new RegExp(`${op}: argument 'data' has dtype int32, expected a float type`),
    );
  });
});

describe('layer_norm', () => {
  it('normalizes over the trailing axes', () => {
    expectInfer('layer_norm', [T([n, m, 768]), T([768]), T([768])], {}, [n, m, 768]);
    expectInfer('layer_norm', [T([n, h, w]), T([h, w]), T([h, w])], { axes: [-2, -1], epsilon: 1e-6 }, [n, h, w]);
  });

  it('names both shapes when gamma or beta do not match', () => {
    expect(() => infer('layer_norm', [T([n, 768]), T([512]), T([768])])).toThrow(
      /layer_norm: argument 'gamma' of shape \(512,\) must have shape \(768,\) to match argument 'data' of shape \(n, 768\)/,
    );
    expect(() => infer('layer_norm', [T([n, h, w]), T([h, w]), T([w])], { axes: [1, 2] })).toThrow(
      /layer_norm: argument 'beta' of shape \(w,\) must have shape \(h, w\) to match argument 'data' of shape \(n, h, w\)/,
    );
    expect(() => infer('layer_norm', [T([n, 8]), T([8]), T([8])], { axes: [2] })).toThrow(
      /layer_norm: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('layer_norm', [T([n, 8]), T([8], 'float16'), T([8])])).toThrow(
      /layer_norm: argument 'data' has dtype float32 but argument 'gamma' has dtype float16/,
    );
  });
});

describe('rms_norm', () => {
  it('scales by a weight of the normalized dims', () => {
    expectInfer('rms_norm', [T([n, 4096], 'float16'), T([4096], 'float16')], {}, [n, 4096], 'float16');
    expect(() => infer('rms_norm', [T([n, 4096]), T([4095])])).toThrow(
      /rms_norm: argument 'weight' of shape \(4095,\) must have shape \(4096,\) to match argument 'data' of shape \(n, 4096\)/,
    );
    expect(() => infer('rms_norm', [T([n, 8], 'int32'), T([8], 'int32')])).toThrow(
      /rms_norm: argument 'data' has dtype int32, expected a float type/,
    );
  });
});

describe('group_norm', () => {
  it('checks groups and per-channel parameters', () => {
    expectInfer('group_norm', [T([n, 32, h, w]), T([32]), T([32])], { num_groups: 8 }, [n, 32, h, w]);
    expectInfer('group_norm', [T([n, h, w, 32]), T([32]), T([32])], { num_groups: 4, channel_axis: -1, axes: [1, 2] }, [
      n,
      h,
      w,
      32,
    ]);
    expect(() => infer('group_norm', [T([n, 30, h, w]), T([30]), T([30])], { num_groups: 8 })).toThrow(
      /group_norm: 8 groups do not divide the 30 channels of argument 'data' of shape \(n, 30, h, w\)/,
    );
    expect(() => infer('group_norm', [T([n, 32, h, w]), T([16]), T([32])], { num_groups: 8 })).toThrow(
      /group_norm: argument 'gamma' of shape \(16,\) must have shape \(32,\) to match argument 'data' of shape \(n, 32, h, w\)/,
    );
    expect(() => infer('group_norm', [T([n, 32, h, w]), T([32]), T([32])], { num_groups: 8, axes: [1, 2] })).toThrow(
      /group_norm: the channel axis 1 of argument 'data' of shape \(n, 32, h, w\) cannot also be a normalized axis/,
    );
    expect(() => infer('group_norm', [T([n, 32]), T([32]), T([32])], {})).toThrow(
      /group_norm: invalid attributes: attribute 'num_groups'/,
    );
  });
});

describe('instance_norm', () => {
  it('normalizes each channel', () => {
    expectInfer('instance_norm', [T([n, 3, h, w]), T([3]), T([3])], {}, [n, 3, h, w]);
    expect(() => infer('instance_norm', [T([n, 3, h, w]), T([4]), T([3])])).toThrow(
      /instance_norm: argument 'gamma' of shape \(4,\) must have shape \(3,\) to match argument 'data' of shape \(n, 3, h, w\)/,
    );
  });
});

describe('batch_norm', () => {
  const p = (c: number | typeof m) => T([c]);
  it('returns a tensor of the input shape', () => {
    expectInfer('batch_norm', [T([n, 16, h, w]), p(16), p(16), p(16), p(16)], {}, [n, 16, h, w]);
    expectInfer('batch_norm', [T([n, m]), p(m), p(m), p(m), p(m)], { axis: -1 }, [n, m]);
  });

  it('names the mismatching statistic and both shapes', () => {
    expect(() => infer('batch_norm', [T([n, 16, h, w]), p(16), p(16), p(8), p(16)])).toThrow(
      /batch_norm: argument 'moving_mean' of shape \(8,\) must have shape \(16,\) to match argument 'data' of shape \(n, 16, h, w\)/,
    );
    expect(() => infer('batch_norm', [T([n, 16]), T([16, 1]), p(16), p(16), p(16)])).toThrow(
      /batch_norm: argument 'gamma' of shape \(16, 1\) must have shape \(16,\)/,
    );
    expect(() => infer('batch_norm', [T([n, 16]), p(16), p(16), p(16), p(16)], { axis: 2 })).toThrow(
      /batch_norm: axis 2 is out of range for argument 'data' of rank 2/,
    );
    expect(() => infer('batch_norm', [T([n, 16]), p(16), p(16), p(16), T([16], 'float64')])).toThrow(
      /batch_norm: argument 'data' has dtype float32 but argument 'moving_var' has dtype float64/,
    );
  });
});
