/**
 * Legalizations of the tensor-creating operators against float64 references;
 * and a check that every operator of the create, nn and image families has a
 * legalization.
 */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { getLegalization } from '../../../src/ops/legalize/index.ts';
import { arange, eye, oneHot, triangle } from '../../helpers/reference/create.ts';
import {
  expectClose,
  randomRef,
  type OpInput,
  primArg,
  ref,
  type RefTensor,
  runOp,
  shapeArg,
  tensorArg,
} from '../../helpers/run-op.ts';

const EXACT = { rtol: 0, atol: 0 };

let seed = 200;
function rand(shape: readonly number[], dtype: DataType = 'float32', lo = -1, hi = 1): RefTensor {
  return randomRef(shape, dtype, seed++, lo, hi);
}

function run(op: string, inputs: readonly OpInput[], attrs: AttrMap = {}): RefTensor {
  return runOp(op, inputs, attrs).outputs[0]!;
}

function expectTensor(
  actual: RefTensor,
  shape: readonly number[],
  dtype: DataType,
  data: ArrayLike<number>,
  tol = EXACT,
  what = '',
): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  expectClose(actual.data, data, tol, what);
}

const filled = (shape: readonly number[], v: number): Float64Array => new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(v);

test('every operator of the create, nn and image families has a legalization', () => {
  const ops = [
    ...['full', 'zeros', 'ones', 'full_like', 'zeros_like', 'ones_like', 'arange', 'tril', 'triu', 'eye', 'one_hot'],
    ...[
      'conv1d',
      'conv2d',
      'conv1d_transpose',
      'conv2d_transpose',
      'conv3d_transpose',
      'max_pool1d',
      'max_pool2d',
      'avg_pool1d',
      'avg_pool2d',
    ],
    ...['adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'pad', 'resize2d'],
  ];
  expect(ops.filter((op) => getLegalization(op) === undefined)).toEqual([]);
});

describe('full and full_like', () => {
  test('full from a literal, a run-time scalar and a 0-d tensor', () => {
    expectTensor(run('full', [shapeArg([2, 3]), primArg(2.5, 'float32')]), [2, 3], 'float32', filled([2, 3], 2.5));
    expectTensor(run('full', [shapeArg([1, 4, 1]), primArg(-1.25, 'float32', true)]), [1, 4, 1], 'float32', filled([4], -1.25));
    const fill = ref([], 'float32', [0.375]);
    expectTensor(run('full', [shapeArg([3]), tensorArg(fill)]), [3], 'float32', filled([3], 0.375));
    expectTensor(run('full', [shapeArg([]), primArg(7, 'int32')]), [], 'int32', [7]);
  });

  test('full converts the fill value to dtype (toward zero for integers)', () => {
    expectTensor(
      run('full', [shapeArg([2, 2]), primArg(-3.75, 'float32')], { dtype: 'int32' }),
      [2, 2],
      'int32',
      filled([4], -3),
    );
    expectTensor(run('full', [shapeArg([2]), primArg(0.5, 'float32', true)], { dtype: 'bool' }), [2], 'bool', [1, 1]);
  });

  test('full_like over symbolic dims, with and without dtype', () => {
    const x = rand([2, 3, 5]);
    expectTensor(
      run('full_like', [tensorArg(x, ['a', 3, 'b']), primArg(4.5, 'float32', true)]),
      [2, 3, 5],
      'float32',
      filled([30], 4.5),
    );
    expectTensor(
      run('full_like', [tensorArg(x, ['a', 'b', 5]), primArg(9, 'int64')], { dtype: 'int8' }),
      [2, 3, 5],
      'int8',
      filled([30], 9),
    );
  });
});

describe('zeros and ones', () => {
  for (const op of ['zeros', 'ones'] as const) {
    const v = op === 'zeros' ? 0 : 1;
    test(op, () => {
      expectTensor(run(op, [shapeArg([3, 1, 2])]), [3, 1, 2], 'float32', filled([6], v));
      expectTensor(run(op, [shapeArg([4])], { dtype: 'int32' }), [4], 'int32', filled([4], v));
      expectTensor(run(op, [shapeArg([2])], { dtype: 'bool' }), [2], 'bool', filled([2], v));
    });
    test(`${op}_like over symbolic dims`, () => {
      const x = rand([3, 1, 4], 'int32', -5, 5);
      expectTensor(run(`${op}_like`, [tensorArg(x, ['n', 1, 'm'])]), [3, 1, 4], 'int32', filled([12], v));
      expectTensor(run(`${op}_like`, [tensorArg(x, ['n', 'k', 4])], { dtype: 'float16' }), [3, 1, 4], 'float16', filled([12], v));
    });
  }
});

describe('arange', () => {
  test('integer ranges, up, down and empty', () => {
    for (const [s, e, st] of [
      [0, 10, 3],
      [10, 0, -3],
      [-4, 5, 1],
      [5, 0, 1],
      [3, 4, 7],
    ] as const) {
      const ex = arange(s, e, st);
      expectTensor(run('arange', [primArg(s), primArg(e), primArg(st)]), ex.shape, 'int64', ex.data, EXACT, `${s}:${e}:${st}`);
    }
  });

  test('integer bounds to another dtype', () => {
    const ex = arange(1, 9, 2);
    expectTensor(run('arange', [primArg(1), primArg(9), primArg(2)], { dtype: 'float32' }), ex.shape, 'float32', ex.data);
    expectTensor(
      run('arange', [primArg(1, 'int32'), primArg(9, 'int32'), primArg(2, 'int32')], { dtype: 'int32' }),
      ex.shape,
      'int32',
      ex.data,
    );
  });

  test('float ranges', () => {
    for (const [s, e, st] of [
      [0, 1, 0.25],
      [0.1, 1.7, 0.3],
      [2.5, -1, -0.75],
    ] as const) {
      const f = Math.fround;
      const ex = arange(f(s), f(e), f(st));
      const out = run('arange', [primArg(s, 'float32'), primArg(e, 'float32'), primArg(st, 'float32')]);
      expectTensor(out, ex.shape, 'float32', ex.data, { rtol: 1e-6, atol: 1e-7 }, `${s}:${e}:${st}`);
    }
    const mixed = arange(1, 4, 0.5);
    expectTensor(run('arange', [primArg(1), primArg(4), primArg(0.5, 'float32')]), mixed.shape, 'float32', mixed.data);
  });

  test('symbolic bounds given at run time', () => {
    for (const [s, e, st] of [
      [2, 11, 3],
      [-3, 4, 2],
      [6, 1, 1],
      [9, -2, -4],
    ] as const) {
      const ex = arange(s, e, st);
      const out = run('arange', [primArg(s, 'int64', true), primArg(e, 'int64', true), primArg(st)]);
      expectTensor(out, ex.shape, 'int64', ex.data, EXACT, `${s}:${e}:${st}`);
    }
  });
});

describe('tril and triu', () => {
  for (const op of ['tril', 'triu'] as const) {
    test(`${op} with diagonals below, on and above the main one`, () => {
      const x = rand([4, 5]);
      for (const k of [-2, 0, 1, 6]) {
        const ex = triangle(op, x, k);
        expectTensor(run(op, [tensorArg(x)], { k }), ex.shape, 'float32', ex.data, EXACT, `k=${k}`);
      }
    });
    test(`${op} over a batch with symbolic dims, integers`, () => {
      const x = rand([2, 3, 4], 'int32', -50, 50);
      const ex = triangle(op, x, 1);
      expectTensor(run(op, [tensorArg(x, ['b', 'n', 'm'])], { k: 1 }), ex.shape, 'int32', ex.data);
      const one = rand([1, 1, 1, 3]);
      const ex1 = triangle(op, one, 0);
      expectTensor(run(op, [tensorArg(one, ['b', 1, 'n', 'm'])]), ex1.shape, 'float32', ex1.data);
    });
  }
});

describe('eye', () => {
  test('square, rectangular and shifted diagonals', () => {
    for (const [n, m, k] of [
      [3, undefined, 0],
      [3, 5, 1],
      [5, 2, -2],
      [4, 4, 4],
      [1, 1, 0],
    ] as const) {
      const inputs = m === undefined ? [primArg(n)] : [primArg(n), primArg(m)];
      const ex = eye(n, m ?? n, k);
      expectTensor(run('eye', inputs, { k }), ex.shape, 'float32', ex.data, EXACT, `${n}x${m}, k=${k}`);
    }
  });

  test('symbolic sizes given at run time, integer dtype', () => {
    const ex = eye(4, 3, -1);
    expectTensor(
      run('eye', [primArg(4, 'int64', true), primArg(3, 'int64', true)], { k: -1, dtype: 'int32' }),
      [4, 3],
      'int32',
      ex.data,
    );
    const sq = eye(3, 3, 1);
    expectTensor(run('eye', [primArg(3, 'int64', true)], { k: 1 }), [3, 3], 'float32', sq.data);
  });
});

describe('one_hot', () => {
  test('every axis, with out-of-range indices', () => {
    // -1 and 4 are out of range for depth 4: all off.
    const indices = ref([2, 3], 'int32', [0, 3, -1, 2, 4, 1]);
    for (const axis of [-1, 0, 1, 2, -3]) {
      const ex = oneHot(indices, 4, axis, 1, 0);
      const out = run('one_hot', [tensorArg(indices, ['n', 3]), primArg(1, 'float32'), primArg(0, 'float32')], {
        depth: 4,
        axis,
      });
      expectTensor(out, ex.shape, 'float32', ex.data, EXACT, `axis ${axis}`);
    }
  });

  test('integer values and values given at run time', () => {
    const indices = ref([5], 'int64', [1, 0, 2, 2, 1]);
    const ex = oneHot(indices, 3, -1, 5, -2);
    expectTensor(run('one_hot', [tensorArg(indices), primArg(5), primArg(-2)], { depth: 3 }), [5, 3], 'int64', ex.data);
    const ex2 = oneHot(indices, 3, 0, 0.5, -0.25);
    const out = run('one_hot', [tensorArg(indices, ['n']), primArg(0.5, 'float32', true), primArg(-0.25, 'float32', true)], {
      depth: 3,
      axis: 0,
    });
    expectTensor(out, [3, 5], 'float32', ex2.data);
  });
});
