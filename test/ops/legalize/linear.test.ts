/** matmul's legalization against a float64 reference: vectors, batches that broadcast, symbolic dims, out_dtype. */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { isFloat } from '../../../src/ir/dtype.ts';
import { expectClose, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';
import { sizeOf } from '../../helpers/reference/reduce.ts';
import { matmulRef } from '../../helpers/reference/linear.ts';

type Dims = readonly (string | number)[] | undefined;

function random(shape: readonly number[], seed: number, dtype: DataType = 'float32'): RefTensor {
  const raw = randomArray(sizeOf(shape), seed, -2, 2);
  return ref(shape, dtype, isFloat(dtype) ? raw : Array.from(raw, (v) => Math.floor(v * 4)));
}

function check(
  x1: RefTensor,
  d1: Dims,
  x2: RefTensor,
  d2: Dims,
  attrs: AttrMap = {},
  tol = { rtol: 1e-5, atol: 1e-5 },
): RefTensor {
  const out = runOp('matmul', [tensorArg(x1, d1), tensorArg(x2, d2)], attrs).outputs[0]!;
  const want = matmulRef(x1, x2);
  const label = `matmul ${JSON.stringify(x1.shape)} x ${JSON.stringify(x2.shape)}`;
  expect(out.shape, label).toEqual(want.shape);
  expectClose(out.data, want.data, tol, label);
  return out;
}

describe('matmul', () => {
  test('2-D, with symbolic and size-1 dims', () => {
    check(random([3, 5], 1), ['n', 5], random([5, 4], 2), undefined);
    check(random([3, 5], 3), ['m', 'k'], random([5, 7], 4), ['k', 'n']);
    check(random([1, 1], 5), undefined, random([1, 3], 6), undefined);
    check(random([4, 1], 7), ['n', 1], random([1, 2], 8), undefined);
  });

  test('shapes the GPU matmul rule tiles: 32 and more rows and columns, not multiples of its tiles', () => {
    check(random([70, 45], 41), ['m', 45], random([45, 100], 42), undefined);
    check(random([37, 40], 43), ['m', 'k'], random([40, 50], 44), ['k', 'n']);
    check(random([2, 40, 33], 45), ['b', 40, 33], random([2, 33, 36], 46), ['b', 33, 36]);
    const exact = { rtol: 0, atol: 0 };
    check(random([40, 24], 47, 'int8'), undefined, random([24, 33], 48, 'int8'), undefined, { out_dtype: 'int32' }, exact);
    check(random([33, 20], 49, 'float16'), undefined, random([20, 40], 50, 'float16'), undefined, {}, { rtol: 2e-2, atol: 5e-2 });
  });

  test('shapes the GPU gemv rule takes: one row or a few, a long reduction, a K x N right-hand side', () => {
    check(random([1, 300], 51), undefined, random([300, 70], 52), undefined);
    check(random([3, 1, 512], 53), ['b', 1, 512], random([512, 40], 54), undefined);
    check(random([600], 55), undefined, random([600, 9], 56), undefined);
    check(
      random([2, 260], 57, 'float16'),
      undefined,
      random([260, 33], 58, 'float16'),
      undefined,
      {},
      { rtol: 2e-2, atol: 5e-2 },
    );
  });

  test('1-D operands are promoted and their dim dropped', () => {
    check(random([5], 11), undefined, random([5, 3], 12), undefined);
    check(random([2, 5], 13), ['n', 'k'], random([5], 14), ['k']);
    check(random([7], 15), ['k'], random([7], 16), ['k']);
    check(random([4], 17), undefined, random([2, 4, 3], 18), ['b', 4, 3]);
    check(random([3, 2, 4], 19), undefined, random([4], 20), undefined);
  });

  test('batch dims broadcast', () => {
    check(random([2, 3, 4], 21), ['b', 3, 4], random([2, 4, 5], 22), ['b', 4, 5]);
    check(random([2, 3, 4], 23), ['b', 'm', 4], random([4, 5], 24), undefined);
    check(random([3, 4], 25), undefined, random([2, 4, 5], 26), undefined);
    check(random([2, 1, 3, 4], 27), undefined, random([1, 3, 4, 2], 28), undefined);
    check(random([1, 3, 2], 29), undefined, random([3, 2, 3], 30), undefined);
  });

  test('integers are exact, and out_dtype widens before multiplying', () => {
    const exact = { rtol: 0, atol: 0 };
    const i32 = check(random([3, 4], 31, 'int32'), ['n', 4], random([4, 2], 32, 'int32'), undefined, {}, exact);
    expect(i32.dtype).toBe('int32');
    const i8 = check(random([2, 5], 33, 'int8'), undefined, random([5, 3], 34, 'int8'), undefined, { out_dtype: 'int32' }, exact);
    expect(i8.dtype).toBe('int32');
    const f = check(
      random([2, 3], 35, 'int32'),
      undefined,
      random([3, 2], 36, 'int32'),
      undefined,
      { out_dtype: 'float32' },
      exact,
    );
    expect(f.dtype).toBe('float32');
  });

  test('float16 accumulates in float32', () => {
    // Inputs and result are rounded to float16: a relative step of 2^-11 around 1.
    const out = check(
      random([2, 6], 41, 'float16'),
      undefined,
      random([6, 3], 42, 'float16'),
      undefined,
      {},
      { rtol: 2e-3, atol: 2e-3 },
    );
    expect(out.dtype).toBe('float16');
  });

  test('a bool matmul is an or of ands', () => {
    const a = ref([2, 3], 'bool', [1, 0, 0, 0, 1, 0]);
    const b = ref([3, 2], 'bool', [0, 1, 0, 0, 1, 1]);
    const out = runOp('matmul', [tensorArg(a), tensorArg(b)]).outputs[0]!;
    expect(out.dtype).toBe('bool');
    expect(Array.from(out.data)).toEqual([0, 1, 0, 0]);
  });
});
