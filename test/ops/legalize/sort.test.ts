/** sort, argsort and topk legalizations against a stable JS sort: ties, NaN, every axis, symbolic shapes. */
import { describe, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import { expectSame, randomInts, randomTensor, sizeOf } from '../../helpers/reference/manipulate.ts';
import * as R from '../../helpers/reference/sort.ts';

type Dims = readonly (string | number)[];

/** Data with many ties: values drawn from a few levels (floats get a fraction, so they are not integers). */
function withTies(shape: readonly number[], dtype: DataType, seed: number): RefTensor {
  const levels = randomInts(sizeOf(shape), seed, -3, 4);
  return { shape: [...shape], dtype, data: dtype.startsWith('float') ? levels.map((v) => v + 0.25) : levels };
}

/** Float data with some NaN among the ties. */
function withNaN(shape: readonly number[], seed: number): RefTensor {
  const x = withTies(shape, 'float32', seed);
  const pick = randomInts(x.data.length, seed + 1, 0, 5);
  return { ...x, data: x.data.map((v, i) => (pick[i] === 0 ? Number.NaN : v)) };
}

function check(op: string, x: RefTensor, dims: Dims | undefined, attrs: AttrMap, expected: readonly RefTensor[]): void {
  const { outputs } = runOp(op, [tensorArg(x, dims)], attrs);
  const what = `${op} ${x.dtype}[${(dims ?? x.shape).join(', ')}] ${JSON.stringify(attrs)}`;
  if (outputs.length !== expected.length) throw new Error(`${what}: ${outputs.length} results, expected ${expected.length}`);
  expected.forEach((e, i) => expectSame(outputs[i], e, `${what} result ${i}`));
}

/** Inputs every op is tried on: ties, NaN, every axis, size-1 and odd dims, long rows (several merge passes). */
const CASES: { x: RefTensor; dims?: Dims; axis: number }[] = [
  { x: randomTensor([2, 7], 'float32', 1), axis: -1 },
  { x: withTies([3, 9], 'float32', 2), axis: 1 },
  { x: withTies([5, 2, 3], 'int32', 3), axis: 0 },
  { x: withTies([2, 6, 3], 'int64', 4), axis: -2 },
  { x: withNaN([3, 8], 5), axis: -1 },
  { x: withNaN([17], 6), axis: 0 },
  { x: withTies([1, 37], 'float32', 7), axis: 1 },
  { x: randomTensor([4, 1], 'float32', 8), axis: 1 },
  { x: randomTensor([1], 'int32', 9), axis: 0 },
  { x: withTies([2, 16], 'int32', 10), axis: -1 },
  { x: randomTensor([3, 6], 'bool', 11), axis: 1 },
  { x: withTies([3, 5], 'float32', 12), dims: ['n', 'm'], axis: 1 },
  { x: withNaN([9, 2], 13), dims: ['n', 2], axis: 0 },
];

describe('sort', () => {
  test('ascending and descending, stable, NaN largest', () => {
    for (const { x, dims, axis } of CASES) {
      for (const descending of [false, true]) check('sort', x, dims, { axis, descending }, [R.sort(x, axis, descending)]);
    }
  });
});

describe('argsort', () => {
  test('ascending and descending, stable, NaN largest, int32 and int64 results', () => {
    for (const [i, { x, dims, axis }] of CASES.entries()) {
      const dtype: DataType = i % 2 === 0 ? 'int32' : 'int64';
      for (const descending of [false, true]) {
        check('argsort', x, dims, { axis, descending, dtype }, [R.argsort(x, axis, descending, dtype)]);
      }
    }
  });
});

describe('topk', () => {
  test('largest and smallest, each return type', () => {
    for (const [i, { x, dims, axis }] of CASES.entries()) {
      const size = x.shape[axis < 0 ? axis + x.shape.length : axis]!;
      const k = [1, Math.min(3, size), size, 0][i % 4]!;
      const dtype: DataType = i % 3 === 0 ? 'int64' : 'int32';
      for (const largest of [true, false]) {
        const { values, indices } = R.topk(x, k, axis, largest, dtype);
        check('topk', x, dims, { k, axis, largest, dtype }, [values, indices]);
        check('topk', x, dims, { k, axis, largest, dtype, ret_type: 'values' }, [values]);
        check('topk', x, dims, { k, axis, largest, dtype, ret_type: 'indices' }, [indices]);
      }
    }
  });

  test('k below 1 keeps the whole axis', () => {
    const x = withTies([2, 5], 'float32', 14);
    const { values, indices } = R.topk(x, -1, -1, true);
    check('topk', x, ['n', 'm'], { k: -1 }, [values, indices]);
  });
});
