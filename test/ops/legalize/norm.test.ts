/** softmax and normalization legalizations against float64 references, on random inputs. */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { expectClose, type OpInput, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { sizeOf } from '../../helpers/reference/reduce.ts';
import { type Affine, batchNormRef, groupNormRef, layerNormRef, rmsNormRef, softmaxRef } from '../../helpers/reference/norm.ts';

type Dims = readonly (string | number)[] | undefined;

function random(shape: readonly number[], seed: number, lo = -2, hi = 2, dtype: DataType = 'float32'): RefTensor {
  return ref(shape, dtype, randomArray(sizeOf(shape), seed, lo, hi));
}

function run(op: string, inputs: readonly OpInput[], attrs: AttrMap): RefTensor {
  return runOp(op, inputs, attrs).outputs[0]!;
}

const TOL = { rtol: 1e-5, atol: 1e-5 };
/** Inputs and results are rounded to float16 (a relative step of 2^-11 around 1). */
const F16_TOL = { rtol: 2e-3, atol: 1e-3 };

/** The epsilon/center/scale attributes with the ops' defaults. */
function affine(attrs: AttrMap): Affine {
  return {
    epsilon: (attrs.epsilon as number | undefined) ?? 1e-5,
    center: (attrs.center as boolean | undefined) ?? true,
    scale: (attrs.scale as boolean | undefined) ?? true,
  };
}

describe('softmax and log_softmax', () => {
  const cases: [number[], Dims, number][] = [
    [[3, 5], ['n', 5], -1],
    [[2, 3, 4], ['a', 'b', 4], 1],
    [[4, 1], undefined, 0],
    [[1, 7], ['n', 'm'], 1],
    [[5], undefined, 0],
    [[2, 3, 4], undefined, 0],
  ];
  for (const op of ['softmax', 'log_softmax']) {
    test(`${op} along each axis`, () => {
      cases.forEach(([shape, dims, axis], c) => {
        const x = random(shape, 50 + c, -3, 3);
        const out = run(op, [tensorArg(x, dims)], { axis });
        expect(out.shape).toEqual(shape);
        expectClose(out.data, softmaxRef(x, axis, op === 'log_softmax'), TOL, `${op} ${JSON.stringify(shape)} axis ${axis}`);
      });
    });

    test(`${op} subtracts the max, so large inputs do not overflow float32`, () => {
      const x = random([2, 6], 60, 100, 110);
      const out = run(op, [tensorArg(x, ['n', 6])], {});
      expect(out.data.every(Number.isFinite)).toBe(true);
      expectClose(out.data, softmaxRef(x, -1, op === 'log_softmax'), TOL, `${op} large`);
    });
  }

  test('float16 computes in float32 and comes back as float16', () => {
    const x = random([3, 5], 61, -3, 3, 'float16');
    const out = run('softmax', [tensorArg(x)], {});
    expect(out.dtype).toBe('float16');
    expectClose(out.data, softmaxRef(x, -1, false), F16_TOL, 'softmax float16');
  });
});

describe('layer_norm', () => {
  const cases: [number[], Dims, number[], AttrMap][] = [
    [[3, 8], ['n', 8], [-1], {}],
    [[2, 3, 4], ['b', 's', 4], [1, 2], {}],
    // Axes out of order: gamma's dims follow the axes as given.
    [[2, 3, 4], undefined, [-1, -2], { epsilon: 1e-3 }],
    [[4, 1], undefined, [-1], {}],
    [[5, 3], ['n', 3], [0], { center: false }],
    [[2, 5], undefined, [-1], { scale: false }],
    [[2, 7], ['n', 7], [-1], { center: false, scale: false }],
  ];
  test('over trailing, leading and several axes, with and without gamma and beta', () => {
    cases.forEach(([shape, dims, axes, attrs], c) => {
      const pshape = axes.map((a) => shape[a < 0 ? a + shape.length : a]!);
      const x = random(shape, 70 + c);
      const gamma = random(pshape, 80 + c, 0.5, 1.5);
      const beta = random(pshape, 90 + c);
      const out = run('layer_norm', [tensorArg(x, dims), tensorArg(gamma), tensorArg(beta)], { axes, ...attrs });
      const want = layerNormRef(x, gamma, beta, axes, affine(attrs));
      expectClose(out.data, want, TOL, `layer_norm ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`);
    });
  });

  test('float16 computes in float32', () => {
    const x = random([2, 6], 99, -2, 2, 'float16');
    const gamma = random([6], 98, 0.5, 1.5, 'float16');
    const beta = random([6], 97, -1, 1, 'float16');
    const out = run('layer_norm', [tensorArg(x), tensorArg(gamma), tensorArg(beta)], {});
    expect(out.dtype).toBe('float16');
    expectClose(out.data, layerNormRef(x, gamma, beta, [-1], { epsilon: 1e-5 }), F16_TOL, 'layer_norm float16');
  });
});

describe('rms_norm', () => {
  const cases: [number[], Dims, number[], number][] = [
    [[3, 8], ['n', 8], [-1], 1e-5],
    [[2, 3, 5], ['b', 3, 5], [1, 2], 1e-6],
    [[2, 3, 5], undefined, [2, 1], 1e-5],
    [[4, 3], ['n', 'm'], [0], 1e-2],
    [[1, 1], undefined, [-1], 1e-5],
  ];
  test('over trailing, leading and several axes', () => {
    cases.forEach(([shape, dims, axes, epsilon], c) => {
      const x = random(shape, 100 + c);
      const weight = random(
        axes.map((a) => shape[a < 0 ? a + shape.length : a]!),
        110 + c,
        0.5,
        1.5,
      );
      const out = run('rms_norm', [tensorArg(x, dims), tensorArg(weight)], { axes, epsilon });
      expectClose(
        out.data,
        rmsNormRef(x, weight, axes, epsilon),
        TOL,
        `rms_norm ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`,
      );
    });
  });
});

describe('group_norm and instance_norm', () => {
  // (shape, dims, groups, attrs): NCHW, NHWC (channel last), 2-D and 3-D data, explicit axes.
  const cases: [number[], Dims, number, AttrMap][] = [
    [[2, 6, 3, 3], ['n', 6, 'h', 'w'], 3, {}],
    [[2, 4, 5], undefined, 2, {}],
    [[1, 6, 2, 2], undefined, 1, {}],
    [[3, 4], ['n', 4], 2, {}],
    [[2, 3, 3, 4], ['n', 3, 3, 4], 2, { channel_axis: -1 }],
    [[2, 4, 3, 5], undefined, 2, { axes: [2] }],
    [[2, 6, 5], ['n', 'c', 'l'], 3, { center: false }],
    [[2, 4, 3], undefined, 4, { scale: false, epsilon: 1e-3 }],
  ];
  test('group_norm', () => {
    cases.forEach(([shape, dims, groups, attrs], c) => {
      const ch = (attrs.channel_axis as number | undefined) ?? 1;
      const channels = shape[ch < 0 ? ch + shape.length : ch]!;
      const x = random(shape, 120 + c);
      const gamma = random([channels], 130 + c, 0.5, 1.5);
      const beta = random([channels], 140 + c);
      const out = run('group_norm', [tensorArg(x, dims), tensorArg(gamma), tensorArg(beta)], { num_groups: groups, ...attrs });
      const want = groupNormRef(x, gamma, beta, groups, ch, (attrs.axes as number[] | undefined) ?? null, affine(attrs));
      expectClose(out.data, want, TOL, `group_norm ${JSON.stringify(shape)} groups ${groups} ${JSON.stringify(attrs)}`);
    });
  });

  test('instance_norm', () => {
    cases.forEach(([shape, dims, , attrs], c) => {
      const ch = (attrs.channel_axis as number | undefined) ?? 1;
      const channels = shape[ch < 0 ? ch + shape.length : ch]!;
      const x = random(shape, 150 + c);
      const gamma = random([channels], 160 + c, 0.5, 1.5);
      const beta = random([channels], 170 + c);
      const out = run('instance_norm', [tensorArg(x, dims), tensorArg(gamma), tensorArg(beta)], attrs);
      const want = groupNormRef(x, gamma, beta, null, ch, (attrs.axes as number[] | undefined) ?? null, affine(attrs));
      expectClose(out.data, want, TOL, `instance_norm ${JSON.stringify(shape)} ${JSON.stringify(attrs)}`);
    });
  });
});

describe('batch_norm', () => {
  const cases: [number[], Dims, number, AttrMap][] = [
    [[2, 3, 4, 4], ['n', 3, 'h', 'w'], 1, {}],
    [[5, 3], ['n', 3], 1, {}],
    [[2, 4, 3], undefined, -1, { epsilon: 1e-3 }],
    [[3, 1, 2], undefined, 1, { center: false }],
    [[4, 2], ['n', 'c'], 0, { scale: false }],
  ];
  test('with the running statistics', () => {
    cases.forEach(([shape, dims, axis, attrs], c) => {
      const channels = shape[axis < 0 ? axis + shape.length : axis]!;
      const x = random(shape, 180 + c);
      const gamma = random([channels], 190 + c, 0.5, 1.5);
      const beta = random([channels], 200 + c);
      const mean = random([channels], 210 + c, -0.5, 0.5);
      const vars = random([channels], 220 + c, 0.2, 2);
      const params = [gamma, beta, mean, vars].map((t) => tensorArg(t));
      const out = run('batch_norm', [tensorArg(x, dims), ...params], { axis, ...attrs });
      const want = batchNormRef(x, gamma, beta, mean, vars, axis, affine(attrs));
      expectClose(out.data, want, TOL, `batch_norm ${JSON.stringify(shape)} axis ${axis}`);
    });
  });
});
