import { describe, expect, it } from 'vitest';
import { expectInfer, expectRank, infer, n, show, T } from './helpers.ts';

describe('sort and argsort', () => {
  it('keep the shape', () => {
    expectInfer('sort', [T([n, 10])], { descending: true }, [n, 10]);
    expectInfer('argsort', [T([n, 10])], { axis: 0 }, [n, 10], 'int32');
    expectInfer('argsort', [T([n, 10])], { dtype: 'int64' }, [n, 10], 'int64');
    expectRank(infer('sort', [T(undefined)]), -1);
  });

  it.each(['sort', 'argsort'])('%s rejects a bad axis', (op) => {
    expect(() => infer(op, [T([n, 10])], { axis: 2 })).toThrow(
      new RegExp(`${op}: axis 2 is out of range for argument 'data' of rank 2`),
    );
  });
});

describe('topk', () => {
  it('returns values and indices of size k', () => {
    expect(show(infer('topk', [T([n, 10])], { k: 3 }))).toBe('[float32(n, 3), int32(n, 3)]');
    expect(show(infer('topk', [T([n, 10])], { k: 2, axis: 0, ret_type: 'values' }))).toBe('float32(2, 10)');
    expect(show(infer('topk', [T([n, 10])], { k: 0, ret_type: 'indices', dtype: 'int64' }))).toBe('int64(n, 10)');
  });

  it('rejects k above the axis size and bad axes', () => {
    expect(() => infer('topk', [T([n, 10])], { k: 11 })).toThrow(
      /topk: k 11 exceeds the size 10 of axis 1 of argument 'data' of shape \(n, 10\)/,
    );
    expect(() => infer('topk', [T([n, 10])], { axis: 3 })).toThrow(/topk: axis 3 is out of range for argument 'data' of rank 2/);
  });
});
