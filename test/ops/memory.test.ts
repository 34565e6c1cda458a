/** The memory-plan operators: an arena of bytes, and tensors at offsets of it (the VM runs both). */
import { describe, expect, it } from 'vitest';
import { mul } from '../../src/ir/prim/expr.ts';
import { expectInfer, infer, n, P, S, T } from './helpers.ts';

describe('alloc_storage, alloc_tensor', () => {
  it('make a uint8 arena and a tensor of any shape and dtype in it', () => {
    expectInfer('alloc_storage', [S([mul(n, 64)])], {}, [mul(n, 64)], 'uint8');
    expectInfer('alloc_tensor', [T([4096], 'uint8'), P(128), S([n, 4])], { dtype: 'float16' }, [n, 4], 'float16');
    expectInfer('alloc_tensor', [T([4096], 'uint8'), P(0), S([2])], {}, [2], 'float32');
  });

  it('reject a size of several dimensions and a storage that is not an arena', () => {
    expect(() => infer('alloc_storage', [S([2, 3])])).toThrow(/alloc_storage: size must have one dimension/);
    expect(() => infer('alloc_tensor', [T([16]), P(0), S([2])])).toThrow(/alloc_tensor: storage must be a uint8 arena/);
  });
});
