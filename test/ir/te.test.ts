/**
 * The tensor-expression DSL. Each case builds a PrimFunc with the DSL
 * (Before), compares it structurally with the PrimFunc written in the text
 * format (Expected), checks it is well-formed, and runs it on random inputs
 * with the reference interpreter against a plain JS computation.
 */
import { describe, expect, test } from 'vitest';
import {
  compute,
  computeMany,
  createPrimFunc,
  maxOf,
  minOf,
  placeholder,
  prod,
  reduceAxis,
  type ReduceAxis,
  type Reducer,
  type Reduction,
  reduction,
  sum,
} from '../../src/ir/builder/te.ts';
import { irModule } from '../../src/ir/module.ts';
import {
  add,
  call,
  cast,
  div,
  floatImm,
  ge,
  gt,
  intImm,
  le,
  max,
  mul,
  type PrimExpr,
  type PrimVar,
  primVar,
  select,
  sub,
} from '../../src/ir/prim/expr.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { range, type PrimFunc } from '../../src/ir/tir/stmt.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';
import { maxError, type PrimArg, randomArray, runPrimFunc } from '../helpers/tir-interpreter.ts';

/** `f` equals the prim_func `f` of `expected` and is well-formed. */
function expectPrimFunc(f: PrimFunc, expected: string): void {
  const e = parseModule(expected, { file: 'expected.kir' }).functions.get('f');
  expect(e?.kind).toBe('prim_func');
  const m = irModule({ f });
  const mismatch = findMismatch(e!, f);
  expect(
    mismatch,
    mismatch && `at ${mismatch.path}: expected ${mismatch.expected}, found ${mismatch.found}\n${printModule(m)}`,
  ).toBeUndefined();
  expect(verifyModule(m).map((d) => d.message)).toEqual([]);
}

/** Runs `f` and compares output `out` (an index into args) with `reference`, to float32 accuracy. */
function expectNumerics(
  f: PrimFunc,
  args: PrimArg[],
  out: number,
  reference: ArrayLike<number>,
  sizes: Record<string, number> = {},
): void {
  runPrimFunc(f, args, { sizes });
  const err = maxError(args[out] as Float64Array, reference);
  expect(err.abs <= 1e-5 || err.rel <= 1e-5, `max abs error ${err.abs}, max rel error ${err.rel}`).toBe(true);
}

const n = primVar('n');
const ROWS = 5;

describe('elementwise and indexing', () => {
  test('elementwise over a symbolic shape', () => {
    const A = placeholder([n, 4], 'float32', 'A');
    const B = compute([n, 4], ([i, j]) => add(mul(A.at(i!, j!), floatImm(2)), floatImm(1)), 'B');
    const f = createPrimFunc([A, B]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] * 2.0 + 1.0
    }
  }
}`,
    );
    const a = randomArray(ROWS * 4, 1);
    expectNumerics(
      f,
      [a, new Float64Array(ROWS * 4)],
      1,
      a.map((x) => Math.fround(x * 2 + 1)),
      { n: ROWS },
    );
  });

  test('broadcast-like indexing: a bias row and a size-1 dimension', () => {
    const A = placeholder([n, 4], 'float32', 'A');
    const b = placeholder([4], 'float32', 'b');
    const s = placeholder([1, 4], 'float32', 's');
    const C = compute([n, 4], ([i, j]) => mul(add(A.at(i!, j!), b.at(j!)), s.at(0, j!)), 'C');
    const f = createPrimFunc([A, b, s, C]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, 4], b: f32[4], s: f32[1, 4], C: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block C(vi = spatial(i), vj = spatial(j)) {
      C[vi, vj] = (A[vi, vj] + b[vj]) * s[0, vj]
    }
  }
}`,
    );
    const a = randomArray(ROWS * 4, 2);
    const bias = randomArray(4, 3);
    const scale = randomArray(4, 4);
    const ref = a.map((x, idx) => (x + bias[idx % 4]!) * scale[idx % 4]!);
    expectNumerics(f, [a, bias, scale, new Float64Array(ROWS * 4)], 3, ref, { n: ROWS });
  });

  test('a transpose and a cast', () => {
    const A = placeholder([3, n], 'float32', 'A');
    const B = compute([n, 3], ([i, j]) => cast('int32', A.at(j!, i!)), 'B');
    const f = createPrimFunc([A, B]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[3, n], B: i32[n, 3]) {
  for i, j in grid(n, 3) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = i32(A[vj, vi])
    }
  }
}`,
    );
    const a = randomArray(3 * ROWS, 5, -10, 10);
    const ref = new Float64Array(ROWS * 3);
    for (let i = 0; i < ROWS; i++) for (let j = 0; j < 3; j++) ref[i * 3 + j] = Math.trunc(a[j * ROWS + i]!);
    expectNumerics(f, [a, new Float64Array(ROWS * 3)], 1, ref, { n: ROWS });
  });
});

describe('reductions', () => {
  test('matmul with a reduce axis', () => {
    const A = placeholder([n, 16], 'float32', 'A');
    const B = placeholder([16, 8], 'float32', 'B');
    const k = reduceAxis(16, 'k');
    const C = compute([n, 8], ([i, j]) => sum(mul(A.at(i!, k.var), B.at(k.var, j!)), [k]), 'C');
    const f = createPrimFunc([A, B, C]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, 16], B: f32[16, 8], C: f32[n, 8]) {
  for i, j, k in grid(n, 8, 16) {
    block C(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { C[vi, vj] = 0.0 }
      C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]
    }
  }
}`,
    );
    const a = randomArray(ROWS * 16, 6);
    const b = randomArray(16 * 8, 7);
    const ref = new Float64Array(ROWS * 8);
    for (let i = 0; i < ROWS; i++)
      for (let j = 0; j < 8; j++) for (let q = 0; q < 16; q++) ref[i * 8 + j]! += a[i * 16 + q]! * b[q * 8 + j]!;
    expectNumerics(f, [a, b, new Float64Array(ROWS * 8)], 2, ref, { n: ROWS });
  });

  const rowReduction = (make: (e: PrimExpr, k: ReduceAxis, i: PrimVar) => Reduction): PrimFunc => {
    const A = placeholder([n, 6], 'float32', 'A');
    const k = reduceAxis(6, 'k');
    const B = compute([n], ([i]) => make(A.at(i!, k.var), k, i!), 'B');
    return createPrimFunc([A, B]);
  };

  /** The JS reference of a row reduction over the rows of a [ROWS, 6] input. */
  const rowsOf = (a: Float64Array, init: number, f: (acc: number, x: number, i: number, k: number) => number): Float64Array => {
    const out = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) {
      let acc = init;
      for (let k = 0; k < 6; k++) acc = f(acc, a[i * 6 + k]!, i, k);
      out[i] = acc;
    }
    return out;
  };

  const CASES = [
    {
      name: 'sum',
      make: (e: PrimExpr, k: ReduceAxis) => sum(e, [k]),
      text: 'init { B[vi] = 0.0 }\n      B[vi] = B[vi] + A[vi, vk]',
      ref: (a: Float64Array) => rowsOf(a, 0, (acc, x) => acc + x),
    },
    {
      name: 'max',
      make: (e: PrimExpr, k: ReduceAxis) => maxOf(e, [k]),
      text: 'init { B[vi] = -inf }\n      B[vi] = max(B[vi], A[vi, vk])',
      ref: (a: Float64Array) => rowsOf(a, -Infinity, (acc, x) => Math.max(acc, x)),
    },
    {
      name: 'min',
      make: (e: PrimExpr, k: ReduceAxis) => minOf(e, [k]),
      text: 'init { B[vi] = inf }\n      B[vi] = min(B[vi], A[vi, vk])',
      ref: (a: Float64Array) => rowsOf(a, Infinity, (acc, x) => Math.min(acc, x)),
    },
    {
      name: 'prod',
      make: (e: PrimExpr, k: ReduceAxis) => prod(e, [k]),
      text: 'init { B[vi] = 1.0 }\n      B[vi] = B[vi] * A[vi, vk]',
      ref: (a: Float64Array) => rowsOf(a, 1, (acc, x) => Math.fround(acc * x)),
    },
  ];

  for (const c of CASES) {
    test(`${c.name} over a row`, () => {
      const f = rowReduction((e, k) => c.make(e, k));
      expectPrimFunc(
        f,
        `
prim_func f(A: f32[n, 6], B: f32[n]) {
  for i, k in grid(n, 6) {
    block B(vi = spatial(i), vk = reduce(k)) {
      ${c.text}
    }
  }
}`,
      );
      const a = randomArray(ROWS * 6, 8, 0.5, 1.5);
      expectNumerics(f, [a, new Float64Array(ROWS)], 1, c.ref(a), { n: ROWS });
    });
  }

  test('sum with `where`: the positive elements of a row, over a prefix of it', () => {
    const f = rowReduction((e, k) => sum(e, [k], gt(e, floatImm(0))));
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, 6], B: f32[n]) {
  for i, k in grid(n, 6) {
    block B(vi = spatial(i), vk = reduce(k)) {
      init { B[vi] = 0.0 }
      if A[vi, vk] > 0.0 {
        B[vi] = B[vi] + A[vi, vk]
      }
    }
  }
}`,
    );
    const a = randomArray(ROWS * 6, 9);
    expectNumerics(
      f,
      [a, new Float64Array(ROWS)],
      1,
      rowsOf(a, 0, (acc, x) => (x > 0 ? acc + x : acc)),
      { n: ROWS },
    );

    const prefix = rowReduction((e, k, i) => maxOf(e, [k], le(k.var, i)));
    expectPrimFunc(
      prefix,
      `
prim_func f(A: f32[n, 6], B: f32[n]) {
  for i, k in grid(n, 6) {
    block B(vi = spatial(i), vk = reduce(k)) {
      init { B[vi] = -inf }
      if vk <= vi {
        B[vi] = max(B[vi], A[vi, vk])
      }
    }
  }
}`,
    );
    expectNumerics(
      prefix,
      [a, new Float64Array(ROWS)],
      1,
      rowsOf(a, -Infinity, (acc, x, i, k) => (k <= i ? Math.max(acc, x) : acc)),
      { n: ROWS },
    );
  });

  test('a reduce axis over a range not starting at 0, and a full reduction to a scalar', () => {
    const A = placeholder([4, 8], 'float32', 'A');
    const k = reduceAxis(range(2, 3), 'k');
    const B = compute([4], ([i]) => sum(A.at(i!, k.var), [k]), 'B');
    const f = createPrimFunc([A, B]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[4, 8], B: f32[4]) {
  for i, k in grid(4, 3) {
    block B(vi = spatial(i), vk = reduce(2 +: 3, k + 2)) {
      init { B[vi] = 0.0 }
      B[vi] = B[vi] + A[vi, vk]
    }
  }
}`,
    );
    const a = randomArray(32, 10);
    const ref = new Float64Array(4).map((_, i) => a[i * 8 + 2]! + a[i * 8 + 3]! + a[i * 8 + 4]!);
    expectNumerics(f, [a, new Float64Array(4)], 1, ref);

    const r = reduceAxis(4, 'r');
    const c = reduceAxis(8, 'c');
    const total = compute([], () => sum(A.at(r.var, c.var), [r, c]), 'total');
    const g = createPrimFunc([A, total]);
    expectPrimFunc(
      g,
      `
prim_func f(A: f32[4, 8], total: f32[]) {
  for r, c in grid(4, 8) {
    block total(vr = reduce(r), vc = reduce(c)) {
      init { total[] = 0.0 }
      total[] = total[] + A[vr, vc]
    }
  }
}`,
    );
    expectNumerics(g, [a, new Float64Array(1)], 1, [a.reduce((x, y) => x + y, 0)]);
  });

  test('integer max: the identity is the lowest integer a literal holds', () => {
    const A = placeholder([n, 4], 'int64', 'A');
    const B = placeholder([n, 4], 'int32', 'B');
    const k = reduceAxis(4, 'k');
    const M = compute([n], ([i]) => maxOf(A.at(i!, k.var), [k]), 'M');
    const N = compute([n], ([i]) => minOf(B.at(i!, k.var), [k]), 'N');
    const f = createPrimFunc([A, B, M, N]);
    expectPrimFunc(
      f,
      `
prim_func f(A: i64[n, 4], B: i32[n, 4], M: i64[n], N: i32[n]) {
  for i, k in grid(n, 4) {
    block M(vi = spatial(i), vk = reduce(k)) {
      init { M[vi] = -9007199254740991 }
      M[vi] = max(M[vi], A[vi, vk])
    }
  }
  for i, k in grid(n, 4) {
    block N(vi = spatial(i), vk = reduce(k)) {
      init { N[vi] = 2147483647i32 }
      N[vi] = min(N[vi], B[vi, vk])
    }
  }
}`,
    );
    const a = randomArray(ROWS * 4, 11, -1000, 1000).map(Math.round);
    const ref = new Float64Array(ROWS).map((_, i) => Math.max(...a.subarray(i * 4, i * 4 + 4)));
    expectNumerics(f, [a, a.slice(), new Float64Array(ROWS), new Float64Array(ROWS)], 2, ref, { n: ROWS });
  });
});

describe('several stages', () => {
  test('softmax: intermediates are scratch allocations, computed in dependency order', () => {
    const X = placeholder([n, 8], 'float32', 'X');
    const k = reduceAxis(8, 'k');
    // One reduce axis serves two stages; Y reads row_sum before e, and still e comes first.
    const mx = compute([n], ([i]) => maxOf(X.at(i!, k.var), [k]), 'row_max');
    const e = compute([n, 8], ([i, j]) => call('exp', [sub(X.at(i!, j!), mx.at(i!))]), 'e');
    const s = compute([n], ([i]) => sum(e.at(i!, k.var), [k]), 'row_sum');
    const Y = compute([n, 8], ([i, j]) => mul(div(floatImm(1), s.at(i!)), e.at(i!, j!)), 'Y');
    const f = createPrimFunc([X, Y]);
    expectPrimFunc(
      f,
      `
prim_func f(X: f32[n, 8], Y: f32[n, 8]) {
  alloc row_max: f32[n]
  alloc e: f32[n, 8]
  alloc row_sum: f32[n]
  for i, k in grid(n, 8) {
    block row_max(vi = spatial(i), vk = reduce(k)) {
      init { row_max[vi] = -inf }
      row_max[vi] = max(row_max[vi], X[vi, vk])
    }
  }
  for i, j in grid(n, 8) {
    block e(vi = spatial(i), vj = spatial(j)) {
      e[vi, vj] = exp(X[vi, vj] - row_max[vi])
    }
  }
  for i, k in grid(n, 8) {
    block row_sum(vi = spatial(i), vk = reduce(k)) {
      init { row_sum[vi] = 0.0 }
      row_sum[vi] = row_sum[vi] + e[vi, vk]
    }
  }
  for i, j in grid(n, 8) {
    block Y(vi = spatial(i), vj = spatial(j)) {
      Y[vi, vj] = 1.0 / row_sum[vi] * e[vi, vj]
    }
  }
}`,
    );
    const x = randomArray(ROWS * 8, 12, -3, 3);
    const ref = new Float64Array(ROWS * 8);
    for (let i = 0; i < ROWS; i++) {
      const row = x.subarray(i * 8, i * 8 + 8);
      const m = Math.max(...row);
      const total = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
      row.forEach((v, j) => (ref[i * 8 + j] = Math.exp(v - m) / total));
    }
    expectNumerics(f, [x, new Float64Array(ROWS * 8)], 1, ref, { n: ROWS });
  });

  test('an intermediate that is a parameter is an output, not scratch; stages of one name get distinct blocks', () => {
    const A = placeholder([4], 'float32', 'A');
    const B = compute([4], ([i]) => mul(A.at(i!), A.at(i!)), 'sq');
    const C = compute([4], ([i]) => add(B.at(i!), floatImm(1)), 'sq');
    const f = createPrimFunc([A, B, C]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[4], sq: f32[4], sq_1: f32[4]) {
  for i in range(4) {
    block sq(vi = spatial(i)) {
      sq[vi] = A[vi] * A[vi]
    }
  }
  for i in range(4) {
    block sq_1(vi = spatial(i)) {
      sq_1[vi] = sq[vi] + 1.0
    }
  }
}`,
    );
    const a = randomArray(4, 13);
    const args = [a, new Float64Array(4), new Float64Array(4)];
    expectNumerics(
      f,
      args,
      2,
      a.map((v) => Math.fround(Math.fround(v * v) + 1)),
    );
    expect(
      maxError(
        args[1]!,
        a.map((v) => Math.fround(v * v)),
      ).abs,
    ).toBe(0);
  });

  test('argmax: a reduction of two values with a custom reducer (computeMany)', () => {
    const A = placeholder([n, 8], 'float32', 'A');
    const k = reduceAxis(8, 'k');
    // Keeps the first index of the largest value.
    const argmax: Reducer = {
      identity: () => [intImm(-1), floatImm(-Infinity)],
      combine: ([ai, av], [bi, bv]) => [select(gt(bv!, av!), bi!, ai!), select(gt(bv!, av!), bv!, av!)],
    };
    const [idx, val] = computeMany([n], ([i]) => reduction(argmax, [k.var, A.at(i!, k.var)], [k]), ['idx', 'val']);
    const f = createPrimFunc([A, idx!]);
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, 8], idx: i64[n]) {
  alloc val: f32[n]
  for i, k in grid(n, 8) {
    block idx(vi = spatial(i), vk = reduce(k)) {
      init {
        idx[vi] = -1
        val[vi] = -inf
      }
      let idx_new = select(A[vi, vk] > val[vi], vk, idx[vi])
      let val_new = select(A[vi, vk] > val[vi], A[vi, vk], val[vi])
      idx[vi] = idx_new
      val[vi] = val_new
    }
  }
}`,
    );
    const a = randomArray(ROWS * 8, 14).map((v) => Math.round(v * 4) / 4); // ties, to check the first wins
    const ref = new Float64Array(ROWS).map((_, i) => {
      const row = [...a.subarray(i * 8, i * 8 + 8)];
      return row.indexOf(Math.max(...row));
    });
    expectNumerics(f, [a, new Float64Array(ROWS)], 1, ref, { n: ROWS });
    // Both values as outputs.
    const g = createPrimFunc([A, idx!, val!]);
    const maxes = new Float64Array(ROWS);
    runPrimFunc(g, [a, new Float64Array(ROWS), maxes], { sizes: { n: ROWS } });
    expect([...maxes]).toEqual(Array.from({ length: ROWS }, (_, i) => Math.max(...a.subarray(i * 8, i * 8 + 8))));
  });
});

describe('parameters', () => {
  test('symbolic shapes over two variables, and scalar parameters after the buffers', () => {
    const m = primVar('m');
    const alpha = primVar('alpha', 'float32');
    const offset = primVar('offset');
    const A = placeholder([n, m], 'float32', 'A');
    const B = compute([n, sub(m, 1)], ([i, j]) => max(mul(A.at(i!, add(j!, offset)), alpha), floatImm(0)), 'B');
    const f = createPrimFunc([A, B], { scalars: [alpha, offset], attrs: { op_pattern: 'injective' } });
    expectPrimFunc(
      f,
      `
prim_func f(A: f32[n, m], B: f32[n, m - 1], alpha: f32, offset: i64) attrs(op_pattern="injective") {
  for i, j in grid(n, m - 1) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = max(A[vi, vj + offset] * alpha, 0.0)
    }
  }
}`,
    );
    const a = randomArray(3 * 6, 15);
    const ref = new Float64Array(3 * 5);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) ref[i * 5 + j] = Math.max(Math.fround(a[i * 6 + j + 1]! * 0.5), 0);
    expectNumerics(f, [a, new Float64Array(15), 0.5, 1], 1, ref, { n: 3, m: 6 });
  });

  test('a stage attribute becomes the block annotation', () => {
    const A = placeholder([4], 'float32', 'A');
    const B = compute([4], ([i]) => A.at(i!), 'B', { schedule_rule: 'none' });
    expectPrimFunc(
      createPrimFunc([A, B]),
      `
prim_func f(A: f32[4], B: f32[4]) {
  for i in range(4) {
    block B(vi = spatial(i)) {
      attrs(schedule_rule="none")
      B[vi] = A[vi]
    }
  }
}`,
    );
  });
});

describe('errors', () => {
  test('a placeholder read that is not a parameter', () => {
    const A = placeholder([4], 'float32', 'A');
    const W = placeholder([4], 'float32', 'W');
    const B = compute([4], ([i]) => mul(A.at(i!), W.at(i!)), 'B');
    expect(() => createPrimFunc([A, B])).toThrow(/K4001.*stage B: placeholder W is read but is not a parameter/);
    // Also when the read is only in a reduction's condition, through an intermediate stage.
    const k = reduceAxis(4, 'k');
    const C = compute([4], () => sum(A.at(k.var), [k], ge(W.at(k.var), floatImm(0))), 'C');
    const D = compute([4], ([i]) => C.at(i!), 'D');
    expect(() => createPrimFunc([A, D])).toThrow(/stage C: placeholder W is read/);
  });

  test('a variable that no parameter defines, and a tensor passed twice', () => {
    const A = placeholder([n], 'float32', 'A');
    const alpha = primVar('alpha', 'float32');
    const B = compute([n], ([i]) => mul(A.at(i!), alpha), 'B');
    expect(() => createPrimFunc([A, B])).toThrow(
      /stage B: variable alpha is neither in a parameter's shape nor a scalar parameter/,
    );
    expect(createPrimFunc([A, B], { scalars: [alpha] }).params).toHaveLength(3);
    // A scratch stage whose shape no parameter gives.
    const m = primVar('m');
    const T = compute([m], ([i]) => A.at(i!), 'T');
    const C = compute([n], ([i]) => T.at(i!), 'C');
    expect(() => createPrimFunc([A, C])).toThrow(/stage T: variable m is neither/);
    expect(() => createPrimFunc([A, A, B])).toThrow(/createPrimFunc: a tensor is a parameter twice/);
  });

  test('computeMany needs one name per value', () => {
    const A = placeholder([4], 'float32', 'A');
    expect(() => computeMany([4], ([i]) => A.at(i!), ['x', 'y'])).toThrow(/compute x, y: 1 values but 2 names/);
  });

  test('indices of the wrong count are refused when the expression is built', () => {
    const A = placeholder([4, 4], 'float32', 'A');
    expect(() => compute([4], ([i]) => A.at(i!), 'B')).toThrow(/load of A: buffer has 2 dimensions, found 1 indices/);
  });
});

describe('the reference interpreter', () => {
  test('strides, loop offsets, alloc, let, if/else, select, intrinsics, casts and integer division', () => {
    const m = parseModule(`
prim_func f(A: f32[4, 3] strides(1, 4), B: f32[4], C: i32[4]) {
  for i in range(4) {
    alloc T: f32[1] local {
      T[0] = 0.0
      for j in range(1, 3) {
        let v = A[i, j] * 2.0
        if v > 0.0 {
          T[0] = T[0] + sqrt(v)
        } else {
          T[0] = T[0] - exp(v)
        }
      }
      B[i] = select(isnan(T[0]), -1.0, T[0])
    }
    C[i] = i32(floor(A[i, 0] * 10.0)) // 3i32 + i32(i) % 2i32
  }
}`);
    const f = m.functions.get('f') as PrimFunc;
    const a = randomArray(12, 16);
    const b = new Float64Array(4);
    const c = new Float64Array(4);
    runPrimFunc(f, [a, b, c]);
    // Column-major: A[i, j] is a[i + 4 * j].
    const at = (i: number, j: number): number => a[i + 4 * j]!;
    for (let i = 0; i < 4; i++) {
      let t = 0;
      for (let j = 1; j < 3; j++) {
        const v = Math.fround(at(i, j) * 2);
        t = Math.fround(v > 0 ? t + Math.sqrt(v) : t - Math.exp(v));
      }
      expect(b[i]).toBeCloseTo(t, 6);
      expect(c[i]).toBe(Math.floor(Math.trunc(Math.floor(Math.fround(at(i, 0) * 10))) / 3) + (i % 2));
    }
  });

  test('accesses out of bounds and variables without a size are errors', () => {
    const m = parseModule(`
prim_func f(A: f32[n], B: f32[n]) {
  for i in range(n) {
    B[i] = A[i + 1]
  }
}`);
    const f = m.functions.get('f') as PrimFunc;
    expect(() => runPrimFunc(f, [new Float64Array(3), new Float64Array(3)], { sizes: { n: 3 } })).toThrow(
      /A\[3\] is out of bounds of \[3\]/,
    );
    expect(() => runPrimFunc(f, [new Float64Array(3), new Float64Array(3)])).toThrow(/no size given for 'n'/);
  });
});
