/**
 * Elementwise legalizations (unary, binary, where, and the ones with
 * attributes) against float64 references, on random inputs with symbolic,
 * size-1 and odd shapes, for floats and integers; and a check that every
 * registered operator has a legalization.
 */
import { describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { allOps, getOp } from '../../../src/ops/index.ts';
import { getLegalization } from '../../../src/ops/legalize/index.ts';
import { VM_NATIVE_OPS } from '../../../src/passes/legalize.ts';
import { expectClose, randomRef, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import { erf } from '../../helpers/tir-interpreter.ts';

const F32 = { rtol: 1e-5, atol: 1e-6 };
const EXACT = { rtol: 0, atol: 0 };

let seed = 1;
function rand(shape: readonly number[], dtype: DataType = 'float32', lo = -1, hi = 1): RefTensor {
  return randomRef(shape, dtype, seed++, lo, hi);
}

/** Shapes each operator runs on: static, symbolic, size-1 and odd. */
const SHAPES: readonly [readonly number[], readonly (string | number)[] | undefined][] = [
  [[1], undefined],
  [
    [3, 5],
    ['n', 5],
  ],
  [
    [2, 1, 7],
    ['a', 'b', 'c'],
  ],
];

const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const FLOAT_UNARY: Record<string, [(x: number) => number, number, number]> = {
  abs: [Math.abs, -2, 2],
  acos: [Math.acos, -0.99, 0.99],
  acosh: [Math.acosh, 1.01, 4],
  asin: [Math.asin, -0.99, 0.99],
  asinh: [Math.asinh, -3, 3],
  atan: [Math.atan, -3, 3],
  atanh: [Math.atanh, -0.99, 0.99],
  ceil: [Math.ceil, -3, 3],
  cos: [Math.cos, -3, 3],
  cosh: [Math.cosh, -3, 3],
  erf: [erf, -3, 3],
  exp: [Math.exp, -3, 3],
  exp2: [(x) => 2 ** x, -3, 3],
  expm1: [Math.expm1, -1, 1],
  floor: [Math.floor, -3, 3],
  gelu: [(x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), -4, 4],
  gelu_tanh: [(x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), -4, 4],
  log: [Math.log, 0.01, 4],
  log10: [Math.log10, 0.01, 4],
  log1p: [Math.log1p, -0.5, 3],
  log2: [Math.log2, 0.01, 4],
  negative: [(x) => -x, -2, 2],
  reciprocal: [(x) => 1 / x, 0.5, 4],
  relu: [(x) => Math.max(x, 0), -2, 2],
  round: [roundHalfEven, -4, 4],
  rsqrt: [(x) => 1 / Math.sqrt(x), 0.01, 4],
  sigmoid: [(x) => 1 / (1 + Math.exp(-x)), -6, 6],
  sign: [Math.sign, -2, 2],
  silu: [(x) => x / (1 + Math.exp(-x)), -5, 5],
  sin: [Math.sin, -3, 3],
  sinh: [Math.sinh, -3, 3],
  sqrt: [Math.sqrt, 0.01, 4],
  square: [(x) => x * x, -2, 2],
  tan: [Math.tan, -1.2, 1.2],
  tanh: [Math.tanh, -3, 3],
  trunc: [Math.trunc, -3, 3],
};

function run(
  op: string,
  inputs: readonly RefTensor[],
  dims: readonly (readonly (string | number)[] | undefined)[] = [],
  attrs: AttrMap = {},
): RefTensor {
  return runOp(
    op,
    inputs.map((t, i) => tensorArg(t, dims[i])),
    attrs,
  ).outputs[0]!;
}

describe('unary operators on floats', () => {
  for (const [op, [f, lo, hi]] of Object.entries(FLOAT_UNARY)) {
    test(op, () => {
      for (const [shape, dims] of SHAPES) {
        const x = rand(shape, 'float32', lo, hi);
        const out = run(op, [x], [dims]);
        expect(out.shape).toEqual(shape);
        expectClose(out.data, Array.from(x.data, f), F32, `${op} ${JSON.stringify(shape)}`);
      }
    });
  }

  test('float64 keeps double precision', () => {
    const x = rand([4, 3], 'float64', -3, 3);
    expectClose(run('tanh', [x]).data, Array.from(x.data, Math.tanh), { rtol: 1e-14, atol: 1e-15 }, 'tanh f64');
  });

  test('negative of 0.0 is -0.0, and the predicates see NaN and infinities', () => {
    expect(Object.is(run('negative', [ref([1], 'float32', [0])]).data[0], -0)).toBe(true);
    const x = ref([4], 'float32', [NaN, Infinity, -Infinity, 1.5]);
    expect(Array.from(run('isnan', [x]).data)).toEqual([1, 0, 0, 0]);
    expect(Array.from(run('isinf', [x]).data)).toEqual([0, 1, 1, 0]);
    expect(Array.from(run('isfinite', [x]).data)).toEqual([0, 0, 0, 1]);
  });
});

describe('unary operators on integers and bools', () => {
  test('abs, negative, relu, sign, square of int32 are exact; rounding ops pass integers through', () => {
    const x = rand([3, 4], 'int32', -50, 50);
    const table: Record<string, (v: number) => number> = {
      abs: Math.abs,
      negative: (v) => -v,
      relu: (v) => Math.max(v, 0),
      sign: Math.sign,
      square: (v) => v * v,
      floor: (v) => v,
      round: (v) => v,
    };
    for (const [op, f] of Object.entries(table)) expectClose(run(op, [x]).data, Array.from(x.data, f), EXACT, op);
  });

  test('int32 arithmetic wraps as in C', () => {
    const x = ref([2], 'int32', [2 ** 31 - 1, -(2 ** 31)]);
    expect(Array.from(run('square', [x]).data)).toEqual([1, 0]);
    expect(Array.from(run('negative', [x]).data)).toEqual([-(2 ** 31 - 1), -(2 ** 31)]);
  });

  test('bitwise_not and logical_not', () => {
    const x = ref([4], 'int32', [0, 1, -1, 12]);
    expect(Array.from(run('bitwise_not', [x]).data)).toEqual([-1, -2, 0, -13]);
    const u = ref([2], 'uint8', [0, 5]);
    expect(Array.from(run('bitwise_not', [u]).data)).toEqual([255, 250]);
    const b = ref([3], 'bool', [0, 1, 0]);
    expect(Array.from(run('bitwise_not', [b]).data)).toEqual([1, 0, 1]);
    expect(Array.from(run('logical_not', [x]).data)).toEqual([1, 0, 0, 0]);
  });

  test('the float predicates are constant on integers', () => {
    const x = ref([2], 'int32', [3, -4]);
    expect(Array.from(run('isnan', [x]).data)).toEqual([0, 0]);
    expect(Array.from(run('isfinite', [x]).data)).toEqual([1, 1]);
  });
});

describe('elementwise operators with attributes', () => {
  test('astype between floats, integers and bool', () => {
    const x = ref([6], 'float32', [-2.7, -0.5, 0, 0.5, 2.7, 300.25]);
    expect(Array.from(run('astype', [x], [], { dtype: 'int32' }).data)).toEqual([-2, 0, 0, 0, 2, 300]);
    expect(Array.from(run('astype', [x], [], { dtype: 'uint8' }).data)).toEqual([254, 0, 0, 0, 2, 44]);
    expect(Array.from(run('astype', [x], [], { dtype: 'bool' }).data)).toEqual([1, 1, 0, 1, 1, 1]);
    expectClose(run('astype', [x], [], { dtype: 'float16' }).data, [-2.69921875, -0.5, 0, 0.5, 2.69921875, 300.25], EXACT, 'f16');
    const i = ref([3], 'int64', [-3, 0, 2 ** 40]);
    expect(Array.from(run('astype', [i], [], { dtype: 'float32' }).data)).toEqual([-3, 0, 2 ** 40]);
    expect(Array.from(run('astype', [i], [], { dtype: 'int32' }).data)).toEqual([-3, 0, 0]);
  });

  test('clip, leaky_relu, elu, softplus', () => {
    const x = rand([4, 5], 'float32', -30, 30);
    expectClose(
      run('clip', [x], [], { min: -2, max: 3 }).data,
      Array.from(x.data, (v) => Math.min(Math.max(v, -2), 3)),
      EXACT,
      'clip',
    );
    const xi = rand([7], 'int32', -9, 9);
    expectClose(
      run('clip', [xi], [], { min: -2.5, max: 3.5 }).data,
      Array.from(xi.data, (v) => Math.min(Math.max(v, -2), 3)),
      EXACT,
      'clip int',
    );
    expectClose(
      run('leaky_relu', [x], [], { alpha: 0.1 }).data,
      Array.from(x.data, (v) => (v < 0 ? 0.1 * v : v)),
      F32,
      'leaky_relu',
    );
    expectClose(
      run('elu', [x], [], { alpha: 0.7 }).data,
      Array.from(x.data, (v) => (v > 0 ? v : 0.7 * Math.expm1(v))),
      F32,
      'elu',
    );
    const soft = (v: number): number => (2 * v > 20 ? v : Math.log1p(Math.exp(2 * v)) / 2);
    expectClose(run('softplus', [x], [], { beta: 2, threshold: 20 }).data, Array.from(x.data, soft), F32, 'softplus');
  });

  test('prelu with a slope per channel, and one shared slope', () => {
    const x = rand([2, 3, 4], 'float32', -2, 2);
    const a = rand([3], 'float32', 0, 0.5);
    const want = Array.from(x.data, (v, i) => (v < 0 ? v * a.data[Math.floor(i / 4) % 3]! : v));
    expectClose(run('prelu', [x, a], [['n', 3, 4], undefined], { axis: 1 }).data, want, F32, 'prelu');
    const one = ref([1], 'float32', [0.25]);
    expectClose(
      run('prelu', [x, one]).data,
      Array.from(x.data, (v) => (v < 0 ? v * 0.25 : v)),
      F32,
      'prelu shared',
    );
  });
});

const FLOAT_BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  floor_divide: (a, b) => Math.floor(a / b),
  power: (a, b) => Math.pow(Math.abs(a), b),
  maximum: Math.max,
  minimum: Math.min,
  mod: (a, b) => a % b,
  floor_mod: (a, b) => a - Math.floor(a / b) * b,
};

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  not_equal: (a, b) => a !== b,
  less: (a, b) => a < b,
  less_equal: (a, b) => a <= b,
  greater: (a, b) => a > b,
  greater_equal: (a, b) => a >= b,
};

/** Broadcasting in float64: right-aligned, size-1 dims stretch. */
function broadcast2(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const nd = Math.max(a.shape.length, b.shape.length);
  const pad = (s: readonly number[]): number[] => [...Array<number>(nd - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]!));
  const size = shape.reduce((x, y) => x * y, 1);
  const at = (t: RefTensor, s: number[], idx: number[]): number => {
    let off = 0;
    for (let k = 0; k < nd; k++) off = off * s[k]! + (s[k] === 1 ? 0 : idx[k]!);
    return t.data[off]!;
  };
  const data: number[] = [];
  for (let flat = 0; flat < size; flat++) {
    const idx: number[] = [];
    let r = flat;
    for (let k = nd - 1; k >= 0; k--) {
      idx[k] = r % shape[k]!;
      r = Math.floor(r / shape[k]!);
    }
    data.push(f(at(a, sa, idx), at(b, sb, idx)));
  }
  return { shape, data };
}

describe('binary operators broadcast', () => {
  const PAIRS: [
    readonly number[],
    readonly (string | number)[] | undefined,
    readonly number[],
    readonly (string | number)[] | undefined,
  ][] = [
    [[3, 4], ['n', 4], [4], undefined],
    [[2, 1, 5], undefined, [3, 1], undefined],
    [[1], undefined, [1], undefined],
    [
      [3, 7],
      ['n', 'm'],
      [3, 7],
      ['n', 'm'],
    ],
  ];
  for (const [op, f] of Object.entries(FLOAT_BINARY)) {
    test(`${op} on float32`, () => {
      for (const [sa, da, sb, db] of PAIRS) {
        const a = op === 'power' ? rand(sa, 'float32', 0.1, 2) : rand(sa);
        const b = op === 'power' ? rand(sb, 'float32', -2, 2) : rand(sb, 'float32', 0.2, 1.5);
        const want = broadcast2(a, b, f);
        const out = run(op, [a, b], [da, db]);
        expect(out.shape).toEqual(want.shape);
        expectClose(out.data, want.data, F32, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
      }
    });
  }

  test('integer arithmetic: truncating divide and mod, flooring floor_divide and floor_mod, wrapping', () => {
    const a = ref([6], 'int32', [7, -7, 7, -7, 2 ** 31 - 1, 9]);
    const b = ref([6], 'int32', [2, 2, -2, -2, 2, 3]);
    expect(Array.from(run('divide', [a, b]).data)).toEqual([3, -3, -3, 3, 2 ** 30 - 1, 3]);
    expect(Array.from(run('mod', [a, b]).data)).toEqual([1, -1, 1, -1, 1, 0]);
    expect(Array.from(run('floor_divide', [a, b]).data)).toEqual([3, -4, -4, 3, 2 ** 30 - 1, 3]);
    expect(Array.from(run('floor_mod', [a, b]).data)).toEqual([1, 1, -1, -1, 1, 0]);
    expect(Array.from(run('add', [a, b]).data)[4]).toBe(-(2 ** 31) + 1);
    expect(Array.from(run('multiply', [a, b]).data)[4]).toBe(-2);
    expect(Array.from(run('power', [b, ref([6], 'int32', [3, 2, 3, 0, 10, 4])]).data)).toEqual([8, 4, -8, 1, 1024, 81]);
  });

  test('integer power is exact without floats: large results, bases 0 and ±1, negative and huge exponents', () => {
    const base = ref([9], 'int32', [2, -3, 7, 1, -1, -1, 2, 5, 0]);
    const exp = ref([9], 'int32', [30, 5, 11, 1000, 1001, -3, -1, 0, -2]);
    expect(Array.from(run('power', [base, exp]).data)).toEqual([2 ** 30, -243, 1977326743, 1, -1, -1, 0, 1, 0]);
    const b64 = ref([3], 'int64', [2, -3, 10]);
    const e64 = ref([3], 'int64', [52, 33, 15]);
    expect(Array.from(run('power', [b64, e64]).data)).toEqual([2 ** 52, -5559060566555523, 10 ** 15]);
    const u8 = ref([2], 'uint8', [2, 3]);
    expect(Array.from(run('power', [u8, ref([2], 'uint8', [7, 5])]).data)).toEqual([128, 243]);
  });

  test('int64 beyond 32 bits', () => {
    const a = ref([2], 'int64', [2 ** 40, -(2 ** 35)]);
    const b = ref([2], 'int64', [3, 5]);
    expect(Array.from(run('multiply', [a, b]).data)).toEqual([3 * 2 ** 40, -5 * 2 ** 35]);
    expect(Array.from(run('floor_divide', [a, b]).data)).toEqual([Math.floor(2 ** 40 / 3), Math.floor(-(2 ** 35) / 5)]);
    expect(Array.from(run('bitwise_and', [a, ref([2], 'int64', [2 ** 40 + 1, -1])]).data)).toEqual([2 ** 40, -(2 ** 35)]);
  });

  test('bitwise and shift operators', () => {
    const a = ref([4], 'int32', [12, -8, 5, 255]);
    const b = ref([4], 'int32', [10, 3, 1, 4]);
    expect(Array.from(run('bitwise_and', [a, b]).data)).toEqual([8, 0, 1, 4]);
    expect(Array.from(run('bitwise_or', [a, b]).data)).toEqual([14, -5, 5, 255]);
    expect(Array.from(run('bitwise_xor', [a, b]).data)).toEqual([6, -5, 4, 251]);
    expect(Array.from(run('left_shift', [a, b]).data)).toEqual([12288, -64, 10, 4080]);
    expect(Array.from(run('right_shift', [a, b]).data)).toEqual([0, -1, 2, 15]);
    const u = ref([2], 'uint8', [200, 3]);
    expect(Array.from(run('left_shift', [u, ref([2], 'uint8', [1, 2])]).data)).toEqual([144, 12]);
    const t = ref([2], 'bool', [1, 0]);
    expect(Array.from(run('bitwise_xor', [t, ref([2], 'bool', [1, 1])]).data)).toEqual([0, 1]);
  });

  test('comparisons and logical operators give bools', () => {
    const a = rand([3, 4], 'int32', -3, 3);
    const b = rand([4], 'int32', -3, 3);
    for (const [op, f] of Object.entries(COMPARE)) {
      const out = run(op, [a, b], [['n', 4], undefined]);
      expect(out.dtype).toBe('bool');
      expect(Array.from(out.data), op).toEqual(broadcast2(a, b, (x, y) => (f(x, y) ? 1 : 0)).data);
    }
    const logic: Record<string, (x: boolean, y: boolean) => boolean> = {
      logical_and: (x, y) => x && y,
      logical_or: (x, y) => x || y,
      logical_xor: (x, y) => x !== y,
    };
    for (const [op, f] of Object.entries(logic)) {
      expect(Array.from(run(op, [a, b]).data), op).toEqual(broadcast2(a, b, (x, y) => (f(x !== 0, y !== 0) ? 1 : 0)).data);
    }
  });

  test('where picks from broadcast operands', () => {
    const c = ref([3, 1], 'bool', [1, 0, 1]);
    const x = rand([3, 4]);
    const y = rand([4]);
    const want = Array.from(x.data, (v, i) => (c.data[Math.floor(i / 4)] ? v : y.data[i % 4]!));
    expectClose(run('where', [c, x, y], [['n', 1], ['n', 4], undefined]).data, want, EXACT, 'where');
  });
});

test('every registered operator has a legalization, except those the VM or a runtime builtin runs', () => {
  const missing = allOps().filter(
    (op) => !VM_NATIVE_OPS.has(op) && !getOp(op).builtin && !getLegalization(op) && !op.startsWith('test_only_'),
  );
  expect(missing).toEqual([]);
});
