import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { b, type Dim, expectInfer, expectRank, infer, m, n, T } from './helpers.ts';

describe('matmul', () => {
  const cases: [string, Dim[], Dim[], Dim[]][] = [
    ['matrix x matrix', [n, 128], [128, 64], [n, 64]],
    ['batched', [b, n, mul(n, 4)], [b, mul(4, n), m], [b, n, m]],
    ['broadcast batch', [2, 1, n, 8], [5, 8, 3], [2, 5, n, 3]],
    ['batch against matrix', [b, n, 8], [8, 3], [b, n, 3]],
    ['vector x matrix', [8], [8, m], [m]],
    ['matrix x vector', [n, 8], [8], [n]],
    ['vector x vector', [8], [8], []],
    ['vector x batch', [8], [b, 8, 3], [b, 3]],
  ];
  it.each(cases)('%s', (_name, x1, x2, out) => {
    expectInfer('matmul', [T(x1), T(x2)], {}, out);
  });

  it('assumes symbolic inner dims are equal unless provably not', () => {
    expectInfer('matmul', [T([n, m]), T([n, 4])], {}, [n, 4]);
  });

  it('names both shapes when the inner dims differ', () => {
    expect(() => infer('matmul', [T([2, 3]), T([4, 5])])).toThrow(
      /K3005: matmul: inner dimensions differ: argument 'x1' of shape \(2, 3\) has 3 columns but argument 'x2' of shape \(4, 5\) has 4 rows/,
    );
    expect(() => infer('matmul', [T([n, mul(n, 2)]), T([mul(n, 2), 3])])).not.toThrow();
  });

  it('names both shapes when the batch dims do not broadcast', () => {
    expect(() => infer('matmul', [T([2, n, 4]), T([3, 4, 5])])).toThrow(
      /matmul: cannot broadcast the batch dims of argument 'x1' of shape \(2, n, 4\) with argument 'x2' of shape \(3, 4, 5\)/,
    );
  });

  it('gives unknown batch dims an unknown shape of known rank', () => {
    expectRank(infer('matmul', [T([n, 2, 4]), T([m, 4, 5])]), 3);
    expectRank(infer('matmul', [T(3), T([4, 5])]), 3);
    expectRank(infer('matmul', [T(undefined), T([4, 5])]), -1);
  });

  it('rejects 0-d operands', () => {
    expect(() => infer('matmul', [T([]), T([4, 5])])).toThrow(
      /matmul: expected argument 'x1' of shape \(\) to have rank at least 1, found rank 0/,
    );
  });

  it('needs equal dtypes unless out_dtype is given', () => {
    expect(() => infer('matmul', [T([2, 3], 'int8'), T([3, 4], 'float32')])).toThrow(
      /K3006: matmul: argument 'x1' has dtype int8 but argument 'x2' has dtype float32/,
    );
    expectInfer('matmul', [T([2, 3], 'int8'), T([3, 4], 'int8')], { out_dtype: 'int32' }, [2, 4], 'int32');
    expectInfer('matmul', [T([2, 3], 'float16'), T([3, 4], 'float16')], {}, [2, 4], 'float16');
  });
});
