import { describe, expect, it } from 'vitest';
import { add, floordiv, max, mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, expectRank, infer, m, n, P, S, T } from './helpers.ts';

describe('full, zeros, ones', () => {
  it('create tensors of a symbolic shape', () => {
    expectInfer('full', [S([n, 4]), P(1.5, 'float16')], {}, [n, 4], 'float16');
    expectInfer('full', [S([n, 4]), T([], 'int32')], {}, [n, 4], 'int32');
    expectInfer('full', [S([n]), P(0)], { dtype: 'float32' }, [n], 'float32');
    expectInfer('zeros', [S([n, mul(m, 2)])], {}, [n, mul(m, 2)], 'float32');
    expectInfer('ones', [S([3])], { dtype: 'int8' }, [3], 'int8');
    expectRank(infer('zeros', [S(2)]), 2);
  });

  it('reject non-shape shapes and non-scalar fill values', () => {
    expect(() => infer('zeros', [T([2])])).toThrow(/zeros: argument 'shape' must be a shape, found a tensor of shape \(2,\)/);
    expect(() => infer('ones', [P(3)])).toThrow(/ones: argument 'shape' must be a shape, found a prim value of type int64/);
    expect(() => infer('full', [S([2]), T([1, 1])])).toThrow(
      /full: argument 'fill_value' must be a prim value or a 0-d tensor, found a tensor of shape \(1, 1\)/,
    );
    expect(() => infer('zeros', [S([n, -1])])).toThrow(/zeros: argument 'shape' \(n, -1\) has the negative size -1/);
    expect(() => infer('full', [S([-2]), P(0)])).toThrow(/full: argument 'shape' \(-2,\) has the negative size -2/);
    expect(() => infer('zeros', [S([2])], { dtype: 'float' })).toThrow(
      /zeros: invalid attributes: attribute 'dtype': unknown dtype 'float'/,
    );
  });
});

describe('full_like, zeros_like, ones_like', () => {
  it('take the shape of the data', () => {
    expectInfer('full_like', [T([n, 3]), P(2, 'float32')], {}, [n, 3]);
    expectInfer('full_like', [T([n, 3]), P(2)], { dtype: 'int64' }, [n, 3], 'int64');
    expectInfer('zeros_like', [T([n, 3], 'float16')], {}, [n, 3], 'float16');
    expectInfer('ones_like', [T([n, 3])], { dtype: 'bool' }, [n, 3], 'bool');
    expectRank(infer('zeros_like', [T(undefined)]), -1);
  });

  it('reject a non-tensor data argument', () => {
    expect(() => infer('zeros_like', [S([2])])).toThrow(/zeros_like: argument 'data' must be a tensor, found a shape \(2,\)/);
    expect(() => infer('ones_like', [P(2)])).toThrow(/ones_like: argument 'data' must be a tensor/);
    expect(() => infer('full_like', [T([2]), T([2])])).toThrow(
      /full_like: argument 'fill_value' must be a prim value or a 0-d tensor/,
    );
  });
});

describe('arange', () => {
  it('counts ceil((end - start) / step) elements', () => {
    expectInfer('arange', [P(0), P(10), P(3)], {}, [4], 'int64');
    expectInfer('arange', [P(10), P(0), P(-3)], {}, [4], 'int64');
    expectInfer('arange', [P(5), P(0), P(1)], {}, [0], 'int64');
    expectInfer('arange', [P(0, 'float32'), P(1, 'float32'), P(0.25, 'float32')], {}, [4], 'float32');
    expectInfer('arange', [P(0), P(10), P(2)], { dtype: 'int32' }, [5], 'int32');
  });

  it('takes symbolic bounds', () => {
    expectInfer('arange', [P(0), P(n), P(1)], {}, [max(n, 0)], 'int64');
    expectInfer('arange', [P(0), P(n), P(2)], {}, [max(floordiv(add(n, 1), 2), 0)], 'int64');
    expectInfer('arange', [P(n), P(add(n, 8)), P(2)], {}, [4], 'int64');
    expectRank(infer('arange', [P(0), P(n), P(m)]), 1, 'int64');
    expectRank(infer('arange', [P(0, 'float32'), P(undefined, 'float32'), P(1, 'float32')]), 1);
  });

  it('rejects a zero step and bool bounds', () => {
    expect(() => infer('arange', [P(0), P(10), P(0)])).toThrow(/K3005: arange: step is 0/);
    expect(() => infer('arange', [P(0), P(undefined, 'bool'), P(1)])).toThrow(
      /arange: argument 'end' has dtype bool, expected a number/,
    );
    expect(() => infer('arange', [P(0), P(1)])).toThrow(/arange: expected 3 arguments, found 2/);
  });
});

describe('tril and triu', () => {
  it.each(['tril', 'triu'])('%s keeps the shape of a matrix or batch of them', (op) => {
    expectInfer(op, [T([n, n])], { k: 1 }, [n, n]);
    expectInfer(op, [T([2, n, m], 'bool')], {}, [2, n, m], 'bool');
    expect(() => infer(op, [T([n])])).toThrow(
      new RegExp(`${op}: expected argument 'data' of shape \\(n,\\) to have rank at least 2, found rank 1`),
    );
  });
});

describe('eye', () => {
  it('builds an n x m matrix', () => {
    expectInfer('eye', [P(n)], {}, [n, n]);
    expectInfer('eye', [P(n), P(4)], { k: 1, dtype: 'int32' }, [n, 4], 'int32');
    expectRank(infer('eye', [P(undefined)]), 2);
    expect(() => infer('eye', [P(2, 'float32')])).toThrow(/eye: argument 'n' has dtype float32, expected an integer type/);
  });
});

describe('one_hot', () => {
  it('adds an axis of size depth', () => {
    expectInfer('one_hot', [T([n], 'int64'), P(1, 'float32'), P(0, 'float32')], { depth: 10 }, [n, 10]);
    expectInfer('one_hot', [T([n, m], 'int32'), P(1), P(0)], { depth: 3, axis: 0 }, [3, n, m], 'int64');
  });

  it('checks indices, values and axis', () => {
    expect(() => infer('one_hot', [T([n]), P(1), P(0)], { depth: 3 })).toThrow(
      /one_hot: argument 'indices' has dtype float32, expected an integer type/,
    );
    expect(() => infer('one_hot', [T([n], 'int32'), P(1), P(0, 'float32')], { depth: 3 })).toThrow(
      /one_hot: argument 'on_value' has dtype int64 but argument 'off_value' has dtype float32/,
    );
    expect(() => infer('one_hot', [T([n], 'int32'), P(1), P(0)], { depth: 3, axis: 2 })).toThrow(
      /one_hot: axis 2 is out of range for the result of rank 2 of one-hot encoding argument 'indices' of shape \(n,\)/,
    );
    expect(() => infer('one_hot', [T([n], 'int32'), P(1), P(0)], {})).toThrow(/one_hot: invalid attributes: attribute 'depth'/);
  });
});
