import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, infer, m, n, T } from './helpers.ts';

const REDUCTIONS = ['sum', 'prod', 'max', 'min', 'mean', 'variance', 'std'];

describe.each(REDUCTIONS)('%s', (op) => {
  it('reduces listed axes, keeping them as 1 on request', () => {
    expectInfer(op, [T([n, m, 3])], { axis: [1] }, [n, 3]);
    expectInfer(op, [T([n, m, 3])], { axis: 1, keepdims: true }, [n, 1, 3]);
    expectInfer(op, [T([n, m, 3])], { axis: [-1, 0] }, [m]);
  });

  it('reduces everything without an axis', () => {
    expectInfer(op, [T([n, m])], {}, []);
    expectInfer(op, [T([n, m])], { keepdims: true }, [1, 1]);
    expectInfer(op, [T(undefined)], {}, []);
    expectRank(infer(op, [T(undefined)], { keepdims: true }), -1);
    expectRank(infer(op, [T(3)], { axis: [0] }), 2);
  });

  it('rejects bad and repeated axes, naming the argument', () => {
    expect(() => infer(op, [T([n, m])], { axis: [2] })).toThrow(
      new RegExp(`${op}: axis 2 is out of range for argument 'data' of rank 2`),
    );
    expect(() => infer(op, [T([n, m])], { axis: [1, -1] })).toThrow(
      new RegExp(`${op}: axis -1 is repeated in \\[1, -1\\] for argument 'data' of rank 2`),
    );
  });
});

describe('float-only reductions', () => {
  it.each(['variance', 'std'])('%s rejects integers', (op) => {
    expect(() => infer(op, [T([n], 'int32')])).toThrow(
      new RegExp(`${op}: argument 'data' has dtype int32, expected a float type`),
    );
  });

  it('sum keeps integer dtypes', () => {
    expectInfer('sum', [T([n, 4], 'int32')], { axis: 0 }, [4], 'int32');
  });
});

describe.each(['argmax', 'argmin'])('%s', (op) => {
  it('returns int64 indices', () => {
    expectInfer(op, [T([n, mul(m, 2)])], { axis: 1 }, [n], 'int64');
    expectInfer(op, [T([n, m])], { axis: 0, keepdims: true }, [1, m], 'int64');
    expectInfer(op, [T([n, m])], {}, [], 'int64');
  });

  it('takes one axis only', () => {
    expect(() => infer(op, [T([n, m])], { axis: [0, 1] })).toThrow(new RegExp(`${op}: invalid attributes: attribute 'axis'`));
    expect(() => infer(op, [T([n, m])], { axis: -3 })).toThrow(
      new RegExp(`${op}: axis -3 is out of range for argument 'data' of rank 2`),
    );
  });
});

describe.each(['cumsum', 'cumprod'])('%s', (op) => {
  it('keeps the shape along an axis and flattens without one', () => {
    expectInfer(op, [T([n, m])], { axis: 1 }, [n, m]);
    expectInfer(op, [T([n, 4], 'int32')], { axis: 0, dtype: 'int64' }, [n, 4], 'int64');
    expectInfer(op, [T([n, 4])], {}, [mul(n, 4)]);
    expectRank(infer(op, [T(undefined)]), 1);
  });

  it('rejects a bad axis', () => {
    expect(() => infer(op, [T([n, m])], { axis: 2 })).toThrow(
      new RegExp(`${op}: axis 2 is out of range for argument 'data' of rank 2`),
    );
  });
});
