/**
 * The arithmetic analyzer, table-driven: each row is an input, the facts
 * known about its variables, and what simplify / constIntBound / canProve
 * must answer. Expected expressions are compared structurally (variables by
 * identity), so they also pin down the canonical form.
 */
import { describe, expect, it } from 'vitest';
import { Analyzer } from '../../../src/ir/arith/analyzer.ts';
import type { Interval } from '../../../src/ir/arith/interval.ts';
import {
  add,
  and,
  binary,
  boolImm,
  call,
  cast,
  div,
  eq,
  floatImm,
  floordiv,
  floormod,
  ge,
  gt,
  intImm,
  le,
  load,
  lt,
  max,
  min,
  mul,
  ne,
  not,
  or,
  primVar,
  type PrimExpr,
  type PrimVar,
  select,
  sub,
  truncdiv,
  truncmod,
} from '../../../src/ir/prim/expr.ts';
import { buffer } from '../../../src/ir/tir/buffer.ts';
import { range, type Range } from '../../../src/ir/tir/stmt.ts';
import { sameExpr, show } from './expr-util.ts';

// --- variables ------------------------------------------------------------------

const x = primVar('x');
const y = primVar('y');
const z = primVar('z');
const i = primVar('i');
const j = primVar('j');
const k = primVar('k');
const n = primVar('n');
const m = primVar('m');
// model dims: batch, sequence, heads, head dim, channels, height, width, cache
const b = primVar('b');
const s = primVar('s');
const h = primVar('h');
const d = primVar('d');
const c = primVar('c');
const w = primVar('w');
const past = primVar('past');
const seq = primVar('seq');
const x32 = primVar('x32', 'int32');
const q8 = primVar('q8', 'int8');
const u8 = primVar('u8', 'uint8');
const f = primVar('f', 'float32');
const flag = primVar('flag', 'bool');
const A = buffer('A', [16], 'int32');

const INF = Infinity;
const i32 = (v: number): PrimExpr => intImm(v, 'int32');
const f32 = (v: number): PrimExpr => floatImm(v, 'float32');
const f64 = (v: number): PrimExpr => floatImm(v, 'float64');
const f16 = (v: number): PrimExpr => floatImm(v, 'float16');
const T = boolImm(true);
const F = boolImm(false);

// --- facts ----------------------------------------------------------------------

type Fact = readonly [PrimVar, Range | Interval];
/** v in [lo, hi], inclusive. */
const on = (v: PrimVar, lo: number, hi: number): Fact => [v, { min: lo, max: hi }];
/** v in [min, min + extent). */
const rng = (v: PrimVar, min: PrimExpr | number, extent: PrimExpr | number): Fact => [v, range(min, extent)];
/** Shape variables: v >= 0 (or >= 1 with `pos`). */
const nn = (...vs: PrimVar[]): Fact[] => vs.map((v) => on(v, 0, INF));
const pos = (...vs: PrimVar[]): Fact[] => vs.map((v) => on(v, 1, INF));

// --- the table ------------------------------------------------------------------

type Case =
  | {
      readonly kind: 'simplify';
      readonly name: string;
      readonly input: PrimExpr;
      readonly expected: PrimExpr;
      readonly facts: readonly Fact[];
    }
  | {
      readonly kind: 'bound';
      readonly name: string;
      readonly input: PrimExpr;
      readonly expected: readonly [number, number];
      readonly facts: readonly Fact[];
    }
  | {
      readonly kind: 'prove';
      readonly name: string;
      readonly input: PrimExpr;
      readonly expected: boolean;
      readonly facts: readonly Fact[];
    };

const S = (name: string, input: PrimExpr, expected: PrimExpr, facts: readonly Fact[] = []): Case => ({
  kind: 'simplify',
  name,
  input,
  expected,
  facts,
});
const B = (name: string, input: PrimExpr, expected: readonly [number, number], facts: readonly Fact[] = []): Case => ({
  kind: 'bound',
  name,
  input,
  expected,
  facts,
});
const P = (name: string, input: PrimExpr, expected: boolean, facts: readonly Fact[] = []): Case => ({
  kind: 'prove',
  name,
  input,
  expected,
  facts,
});

const constantFolding: Case[] = [
  S('int add', add(2, 3), intImm(5)),
  S('int sub to negative', sub(2, 7), intImm(-5)),
  S('int mul', mul(-3, 4), intImm(-12)),
  S('floordiv rounds down', floordiv(7, 2), intImm(3)),
  S('floordiv of a negative rounds toward -inf', floordiv(-7, 2), intImm(-4)),
  S('floormod of a negative is non-negative', floormod(-7, 2), intImm(1)),
  S('floordiv by a negative', floordiv(7, -2), intImm(-4)),
  S('floormod by a negative takes the divisor sign', floormod(7, -2), intImm(-1)),
  S('truncdiv rounds toward zero', truncdiv(-7, 2), intImm(-3)),
  S('truncmod takes the dividend sign', truncmod(-7, 2), intImm(-1)),
  S('min of constants', min(3, 5), intImm(3)),
  S('max of constants', max(3, 5), intImm(5)),
  S('constant division by zero is kept', floordiv(7, 0), floordiv(7, 0)),
  S('division by zero is kept', floordiv(x, 0), floordiv(x, 0)),
  S('modulo by zero is kept', floormod(x, 0), floormod(x, 0)),
  S('int32 fold that fits', add(i32(100), i32(27)), i32(127)),
  S('int32 overflow is not folded', add(i32(2147483647), i32(1)), add(i32(2147483647), i32(1))),
  S('nested constants', mul(add(2, 3), sub(10, 4)), intImm(30)),
  S('f32 add rounds to f32', add(f32(0.1), f32(0.2)), f32(Math.fround(Math.fround(0.1) + Math.fround(0.2)))),
  S('f32 operands are rounded before folding', sub(f32(16777217), f32(1)), f32(16777215)),
  S('f64 add keeps double precision', add(f64(0.1), f64(0.2)), f64(0.1 + 0.2)),
  S('f16 add rounds to half', add(f16(1), f16(0.0001)), f16(1)),
  S('f32 division by zero is inf', div(f32(1), f32(0)), f32(Infinity)),
  S('f32 mul', mul(f32(1.5), f32(-2)), f32(-3)),
  S('f32 min', min(f32(1.5), f32(-2)), f32(-2)),
  S('float x * 1 is x', mul(f, 1), f),
  S('float 1 * x is x', mul(1, f), f),
  S('float x / 1 is x', div(f, 1), f),
  S('float x - 0 is x', sub(f, 0), f),
  S('float x * 0 is kept (NaN, inf)', mul(f, 0), mul(f, 0)),
  S('float x - x is kept (NaN, inf)', sub(f, f), sub(f, f)),
  S('cast f32 to int truncates', cast('int32', f32(3.75)), i32(3)),
  S('cast negative f32 to int truncates toward zero', cast('int32', f32(-3.75)), i32(-3)),
  S('cast int to f32 rounds', cast('float32', intImm(16777217)), f32(16777216)),
  S('cast f32 literal to int sees the f32 value', cast('int64', f32(16777217)), intImm(16777216)),
  S('narrowing cast out of range is kept', cast('int8', intImm(300)), cast('int8', intImm(300))),
  S('cast NaN to int is kept', cast('int32', f32(NaN)), cast('int32', f32(NaN))),
  S('cast int to bool', cast('bool', intImm(2)), T),
  S('cast bool to int', cast('int32', T), i32(1)),
  S('cast to the same type is dropped', cast('int64', x), x),
  S('cast of a simplified operand', cast('int32', add(x, sub(1, 1))), cast('int32', x)),
  S('f32 compare', lt(f32(1), f32(2)), T),
  S('NaN == NaN is false', eq(f32(NaN), f32(NaN)), F),
  S('NaN != NaN is true', ne(f32(NaN), f32(NaN)), T),
  S('f32 compare after rounding', eq(f32(16777217), f32(16777216)), T),
  S('float compare with a variable is kept', lt(f, f32(1)), lt(f, f32(1))),
  S('bool compare', eq(T, F), F),
  S('true && c is c', and(T, flag), flag),
  S('false && c is false', and(F, flag), F),
  S('c && true is c', and(flag, T), flag),
  S('true || c is true', or(T, flag), T),
  S('false || c is c', or(F, flag), flag),
  S('c && c is c', and(flag, flag), flag),
  S('!true is false', not(T), F),
  S('!!c is c', not(not(flag)), flag),
  S('bitand', binary('bitand', 12, 10), intImm(8)),
  S('bitor', binary('bitor', 12, 3), intImm(15)),
  S('bitxor', binary('bitxor', 5, 3), intImm(6)),
  S('shl', binary('shl', 1, 4), intImm(16)),
  S('shr of a negative is arithmetic', binary('shr', -8, 1), intImm(-4)),
  S('int32 shl past the range is kept', binary('shl', i32(1), i32(31)), binary('shl', i32(1), i32(31))),
  S('exp(0)', call('exp', [f32(0)]), f32(1)),
  S('sqrt(2) rounds to f32', call('sqrt', [f32(2)]), f32(Math.fround(Math.SQRT2))),
  S('floor', call('floor', [f32(-2.5)]), f32(-3)),
  S('round is half to even', call('round', [f32(2.5)]), f32(2)),
  S('abs of an int', call('abs', [intImm(-3)]), intImm(3)),
  S('abs of int32 min overflows and is kept', call('abs', [i32(-2147483648)]), call('abs', [i32(-2147483648)])),
  S('isnan folds to a bool', call('isnan', [f32(NaN)]), T),
  S('select on true', select(T, x, y), x),
  S('select on false', select(F, x, y), y),
  S('select with equal branches', select(flag, add(x, 1), add(1, x)), add(x, 1)),
  S('select(c, true, false) is c', select(flag, T, F), flag),
];

const linear: Case[] = [
  S('n*4 - 4*n is 0', sub(mul(n, 4), mul(4, n)), intImm(0)),
  S('(a+b)*2 - 2*a is b*2', sub(mul(add(x, y), 2), mul(2, x)), mul(y, 2)),
  S('operands are ordered by name', add(y, x), add(x, y)),
  S('x + x is x*2', add(x, x), mul(x, 2)),
  S('x - x is 0', sub(x, x), intImm(0)),
  S('constants cancel', sub(add(mul(x, 3), 2), add(mul(x, 3), 2)), intImm(0)),
  S('difference of squares', mul(add(x, 1), sub(x, 1)), sub(mul(x, x), 1)),
  S('binomial cross term', sub(sub(mul(add(x, y), add(x, y)), mul(x, x)), mul(y, y)), mul(mul(x, y), 2)),
  S('distribution', sub(mul(x, add(y, z)), mul(x, y)), mul(x, z)),
  S('negation', sub(0, x), mul(x, -1)),
  S('constant minus variable', sub(3, x), sub(3, x)),
  S('positive terms first, then negative, then the constant', sub(add(mul(y, 3), 7), add(x, 12)), sub(sub(mul(y, 3), x), 5)),
  S('constant difference', sub(add(x, 5), add(x, 2)), intImm(3)),
  S('x * 0 is 0', mul(x, 0), intImm(0)),
  S('x * 1 + 0 is x', add(mul(x, 1), 0), x),
  S('the constant goes last', add(1, x), add(x, 1)),
  S('x - (y - x)', sub(x, sub(y, x)), sub(mul(x, 2), y)),
  S('products commute', sub(mul(y, x), mul(x, y)), intImm(0)),
  S('constants gather', add(add(add(x, 1), 1), 1), add(x, 3)),
  S('like monomials gather', add(mul(mul(x, y), 2), mul(y, x)), mul(mul(x, y), 3)),
  S('int32 stays int32', add(x32, x32), mul(x32, i32(2))),
  S('min is an atom of the sum', sub(add(min(x, y), 1), min(y, x)), intImm(1)),
  S('a distributed constant cancels', sub(add(mul(x, 4), 8), mul(4, add(x, 2))), intImm(0)),
  S('higher degree first', add(x, mul(x, x)), add(mul(x, x), x)),
  S('a bound variable of extent 1 is its min', add(i, 1), add(n, 1), [rng(i, n, 1)]),
  S('load indices are simplified', load(A, [add(x, sub(1, 1))]), load(A, [x])),
  S('loads are atoms', sub(add(load(A, [x]), 1), load(A, [x])), i32(1)),
];

const divmod: Case[] = [
  S('(x*8) floordiv 4 is x*2', floordiv(mul(x, 8), 4), mul(x, 2)),
  S('(x*8) floormod 4 is 0', floormod(mul(x, 8), 4), intImm(0)),
  S('(x*4 + 3) floordiv 4 is x', floordiv(add(mul(x, 4), 3), 4), x),
  S('(x*4 + 3) floordiv 4 is x, with x >= 0', floordiv(add(mul(x, 4), 3), 4), x, nn(x)),
  S('(x*4 + 3) floormod 4 is 3', floormod(add(mul(x, 4), 3), 4), intImm(3)),
  S('(x*4 + y) floordiv 4 is x when 0 <= y < 4', floordiv(add(mul(x, 4), y), 4), x, [on(y, 0, 3)]),
  S('(x*4 + y) floormod 4 is y when 0 <= y < 4', floormod(add(mul(x, 4), y), 4), y, [on(y, 0, 3)]),
  S('(x*4 + y) floordiv 4 splits without bounds', floordiv(add(mul(x, 4), y), 4), add(x, floordiv(y, 4))),
  S('(x*4 + y) floormod 4 drops the multiple', floormod(add(mul(x, 4), y), 4), floormod(y, 4)),
  S('a divisible coefficient divides exactly', floordiv(mul(x, 98), 49), mul(x, 2)),
  S('gcd reduction of floordiv', floordiv(mul(x, 6), 4), floordiv(mul(x, 3), 2)),
  S('gcd reduction of floordiv to a variable', floordiv(add(mul(x, 6), mul(y, 4)), 2), add(mul(x, 3), mul(y, 2))),
  S('gcd reduction of floormod', floormod(mul(x, 6), 4), mul(floormod(mul(x, 3), 2), 2)),
  S('a constant below the common factor drops out of floordiv (a tile end)', floordiv(add(mul(x, 8), 7), 64), floordiv(x, 8)),
  S('a tile end and start share their floordiv', sub(floordiv(add(mul(x, 8), 7), 64), floordiv(mul(x, 8), 64)), intImm(0)),
  S('the common factor splits a constant past it', floordiv(add(mul(x, 8), 9), 64), floordiv(add(x, 1), 8)),
  S('a constant below the common factor moves out of floormod', floormod(add(mul(x, 8), 7), 64), add(mul(floormod(x, 8), 8), 7)),
  S(
    'a bounded term below the common factor drops out of floordiv (a vector lane)',
    floordiv(add(mul(x, 8), y), 32),
    floordiv(x, 4),
    [on(y, 0, 7)],
  ),
  S('a bounded term and a constant below the common factor', floordiv(add(add(mul(x, 8), y), 3), 32), floordiv(x, 4), [
    on(y, 0, 4),
  ]),
  S('a term that may reach the common factor stays', floordiv(add(mul(x, 8), y), 32), floordiv(add(mul(x, 8), y), 32), [
    on(y, 0, 8),
  ]),
  S(
    'a bounded term below the common factor moves out of floormod',
    floormod(add(mul(x, 8), y), 32),
    add(y, mul(floormod(x, 4), 8)),
    [on(y, 0, 7)],
  ),
  S('a partial common factor of floormod', floormod(add(mul(x, 6), 4), 9), add(mul(floormod(add(mul(x, 2), 1), 3), 3), 1)),
  S('nested floordiv', floordiv(floordiv(x, 2), 3), floordiv(x, 6)),
  S('nested floormod', floormod(floormod(x, 8), 4), floormod(x, 4)),
  S('fused-loop identity', add(mul(floordiv(x, 4), 4), floormod(x, 4)), x),
  S('fused-loop identity, scaled', mul(add(mul(floordiv(x, 4), 4), floormod(x, 4)), 3), mul(x, 3)),
  S('fused-loop identity with other terms', add(add(mul(floordiv(x, 4), 8), mul(floormod(x, 4), 2)), y), add(mul(x, 2), y)),
  S('fused-loop identity over a sum', add(mul(floordiv(add(x, y), 16), 16), floormod(add(y, x), 16)), add(x, y)),
  S('floordiv(i*4 + j, 4) is i', floordiv(add(mul(i, 4), j), 4), i, [rng(i, 0, n), rng(j, 0, 4)]),
  S('floormod(i*4 + j, 4) is j', floormod(add(mul(i, 4), j), 4), j, [rng(i, 0, n), rng(j, 0, 4)]),
  S('floordiv by 1', floordiv(x, 1), x),
  S('floormod by 1', floormod(x, 1), intImm(0)),
  S('a multiple of the divisor moves out', floordiv(add(x, 4), 4), add(floordiv(x, 4), 1)),
  S('the constant is reduced into [0, c)', sub(floordiv(sub(x, 1), 2), 1), sub(floordiv(add(x, 1), 2), 2)),
  S('floormod ignores multiples of the divisor', floormod(add(x, 4), 4), floormod(x, 4)),
  S('floormod reduces the constant', floormod(add(x, 5), 4), floormod(add(x, 1), 4)),
  S('floordiv of a small value is 0', floordiv(x, 4), intImm(0), [on(x, 0, 3)]),
  S('floormod of a small value is itself', floormod(x, 4), x, [on(x, 0, 3)]),
  S('floormod within one period', floormod(x, 4), sub(x, 4), [on(x, 4, 7)]),
  S('floordiv within one period', floordiv(x, 4), intImm(1), [on(x, 4, 7)]),
  S('floordiv of negatives within one period', floordiv(x, 4), intImm(-1), [on(x, -4, -1)]),
  S('floordiv spanning periods is kept', floordiv(x, 4), floordiv(x, 4), [on(x, 0, 4)]),
  S('floordiv(x*y, y) is x', floordiv(mul(x, y), y), x),
  S('floormod(x*y, y) is 0', floormod(mul(x, y), y), intImm(0)),
  S('floordiv(x*y + y, y) is x + 1', floordiv(add(mul(x, y), y), y), add(x, 1)),
  S('floordiv by a multiple of itself', floordiv(add(mul(n, 2), 2), add(n, 1)), intImm(2)),
  S('floordiv(j, n) is 0 for j in [0, n)', floordiv(j, n), intImm(0), [rng(j, 0, n)]),
  S('floormod(j, n) is j for j in [0, n)', floormod(j, n), j, [rng(j, 0, n)]),
  S('floordiv(i*n + j, n) is i', floordiv(add(mul(i, n), j), n), i, [rng(i, 0, m), rng(j, 0, n)]),
  S('floormod(i*n + j, n) is j', floormod(add(mul(i, n), j), n), j, [rng(i, 0, m), rng(j, 0, n)]),
  S('floordiv(i*n + j, n) without j bounds splits', floordiv(add(mul(i, n), j), n), add(i, floordiv(j, n)), pos(n)),
  S('symbolic fused-loop identity', add(mul(floordiv(x, n), n), floormod(x, n)), x),
  S('truncdiv of non-negatives is floordiv', truncdiv(x, 4), floordiv(x, 4), nn(x)),
  S('truncmod of non-negatives is floormod', truncmod(x, 4), floormod(x, 4), nn(x)),
  S('truncmod of a loop variable', truncmod(i, 4), floormod(i, 4), [rng(i, 0, 16)]),
  S('exact truncdiv needs no sign', truncdiv(mul(x, 8), 4), mul(x, 2)),
  S('exact truncmod needs no sign', truncmod(add(mul(x, 8), 4), 4), intImm(0)),
  S('truncdiv of a possibly negative value is kept', truncdiv(x, 4), truncdiv(x, 4)),
  S('floordiv by a negative constant is kept', floordiv(x, -4), floordiv(x, -4)),
];

const minmax: Case[] = [
  S('min(x, x + 1) is x', min(x, add(x, 1)), x),
  S('max(x, x + 1) is x + 1', max(x, add(x, 1)), add(x, 1)),
  S('min(x, x) is x', min(x, x), x),
  S('min decided by disjoint bounds', min(x, y), x, [on(x, 0, 3), on(y, 5, 9)]),
  S('max decided by disjoint bounds', max(x, y), y, [on(x, 0, 3), on(y, 5, 9)]),
  S('min decided by touching bounds', min(x, y), x, [on(x, 0, 5), on(y, 5, 9)]),
  S('min(i, n) is i for i in [0, n)', min(i, n), i, [rng(i, 0, n)]),
  S('max(i, n) is n for i in [0, n)', max(i, n), n, [rng(i, 0, n)]),
  S('min(i + 1, n) is i + 1 for i in [0, n)', min(add(i, 1), n), add(i, 1), [rng(i, 0, n)]),
  S('min(i + 2, n) is undecided', min(add(i, 2), n), min(n, add(i, 2)), [rng(i, 0, n)]),
  S('a common constant moves out of min', min(add(x, 3), add(y, 5)), add(min(x, add(y, 2)), 3)),
  S('max(n, 1) is n for n >= 1', max(n, 1), n, pos(n)),
  S('max(n, 1) is kept for n >= 0', max(n, 1), max(n, 1), nn(n)),
  S('min operands are ordered', min(y, x), min(x, y)),
  S('max operands are ordered', max(y, x), max(x, y)),
  S('min(8, n) is n for n <= 5', min(8, n), n, [on(n, 0, 5)]),
  S('min of a padded size and its bound', min(mul(floordiv(add(n, 3), 4), 4), add(n, 3)), mul(floordiv(add(n, 3), 4), 4), nn(n)),
  S('min(n, m) when m is n + k', min(n, add(n, k)), n, nn(k)),
  S('nested min', min(min(x, 3), 5), min(x, 3)),
  S('nested max with constants', max(max(x, 1), 2), max(x, 2)),
  S('nested min with constants', min(min(x, 5), 3), min(x, 3)),
  S('nested max absorbs a repeated operand', max(max(x, y), y), max(x, y)),
  S('nested min absorbs a smaller operand', min(min(x, add(y, 1)), y), min(x, y)),
  S('nested max of different operands is kept', max(max(x, y), z), max(z, max(x, y))),
];

const comparisons: Case[] = [
  S('i < n for i in [0, n)', lt(i, n), T, [rng(i, 0, n)]),
  S('i >= n is false for i in [0, n)', ge(i, n), F, [rng(i, 0, n)]),
  S('0 <= i for i in [0, n)', le(0, i), T, [rng(i, 0, n)]),
  S('i + 1 <= n for i in [0, n)', le(add(i, 1), n), T, [rng(i, 0, n)]),
  S('i*4 + j < n*4', lt(add(mul(i, 4), j), mul(n, 4)), T, [rng(i, 0, n), rng(j, 0, 4)]),
  S('i*n + j < m*n', lt(add(mul(i, n), j), mul(m, n)), T, [...nn(n, m), rng(i, 0, m), rng(j, 0, n)]),
  S('x*4 == 4*x', eq(mul(x, 4), mul(4, x)), T),
  S('an even number never equals an odd one', eq(mul(x, 2), add(mul(y, 2), 1)), F),
  S('an even number always differs from an odd one', ne(mul(x, 2), add(mul(y, 2), 1)), T),
  S('x < x is false', lt(x, x), F),
  S('x <= x is true', le(x, x), T),
  S('x + 1 > x', gt(add(x, 1), x), T),
  S('x < 5 for x in [0, 3]', lt(x, 5), T, [on(x, 0, 3)]),
  S('x < 5 for x in [3, 7] is kept', lt(x, 5), lt(x, 5), [on(x, 3, 7)]),
  S('x == 3 for x in [4, 9] is false', eq(x, 3), F, [on(x, 4, 9)]),
  S('x > y is normalised to y < x', gt(x, y), lt(y, x)),
  S('x >= y is normalised to y <= x', ge(x, y), le(y, x)),
  S('common constants cancel', lt(add(x, 1), add(y, 1)), lt(x, y)),
  S('constants move to one side', eq(add(x, 1), 3), eq(x, 2)),
  S('negative terms move to the other side', lt(sub(x, y), 0), lt(x, y)),
  S('a common factor divides out', lt(mul(x, 4), mul(y, 4)), lt(x, y)),
  S('a common factor divides out of ==', eq(mul(x, 4), add(mul(y, 4), 8)), eq(x, add(y, 2))),
  S('strict < tightens after dividing', lt(mul(x, 4), add(mul(y, 4), 2)), lt(x, add(y, 1))),
  S('<= tightens after dividing', le(add(mul(x, 2), 1), mul(y, 2)), le(add(x, 1), y)),
  S('int32 comparison', lt(x32, i32(10)), T, [on(x32, 0, 5)]),
  S('int8 comparison against its range', le(q8, intImm(127, 'int8')), T),
  S('uint8 is never negative', ge(u8, intImm(0, 'uint8')), T),
  S('comparison of a floordiv', lt(floordiv(i, 4), n), T, [rng(i, 0, mul(n, 4))]),
];

const logic: Case[] = [
  S('0 <= i && i < n', and(le(0, i), lt(i, n)), T, [rng(i, 0, n)]),
  S('anything || true', or(lt(x, y), T), T),
  S('anything && false', and(lt(x, y), F), F),
  S('a decided side of && goes', and(lt(i, n), lt(x, y)), lt(x, y), [rng(i, 0, n)]),
  S('a false side of || goes', or(ge(i, n), lt(x, y)), lt(x, y), [rng(i, 0, n)]),
  S('!(x < y) is y <= x', not(lt(x, y)), le(y, x)),
  S('!(x == y) is x != y', not(eq(x, y)), ne(x, y)),
  S('!(x > y) is x <= y', not(gt(x, y)), le(x, y)),
  S('!(f < 1.0) is kept for floats (NaN)', not(lt(f, f32(1))), not(lt(f, f32(1)))),
  S('select on a decided comparison', select(lt(i, n), i, n), i, [rng(i, 0, n)]),
  S('select on an undecided comparison is kept', select(lt(x, y), x, y), select(lt(x, y), x, y)),
  S('select with equal constant branches', select(lt(x, y), 1, 1), intImm(1)),
  S('select inside a sum', sub(add(select(flag, x, y), 1), select(flag, x, y)), intImm(1)),
  S('select branches are simplified', select(flag, add(x, sub(y, y)), y), select(flag, x, y)),
];

const bounds: Case[] = [
  B('constant', intImm(5), [5, 5]),
  B('unbound int64 variable', x, [-INF, INF]),
  B('int32 variable', x32, [-2147483648, 2147483647]),
  B('uint8 variable', u8, [0, 255]),
  B('int8 variable', q8, [-128, 127]),
  B('linear form', add(mul(x, 4), 3), [3, 43], [on(x, 0, 10)]),
  B('difference', sub(x, y), [-5, 5], [on(x, 0, 5), on(y, 0, 5)]),
  B('product of signed intervals', mul(x, y), [-8, 12], [on(x, -2, 3), on(y, 1, 4)]),
  B('a square is non-negative', mul(x, x), [0, 9], [on(x, -3, 2)]),
  B('floordiv by a constant', floordiv(x, 4), [0, 4], [on(x, 0, 17)]),
  B('floormod by a constant, unbounded', floormod(x, 4), [0, 3]),
  B('floormod within one period', floormod(x, 4), [1, 2], [on(x, 5, 6)]),
  B('min with a constant', min(x, 10), [-INF, 10]),
  B('max with a constant', max(x, 0), [0, INF]),
  B('select', select(flag, 1, 5), [1, 5]),
  B('narrowing cast that may wrap', cast('int8', x), [-128, 127], [on(x, 0, 300)]),
  B('narrowing cast that fits', cast('int8', x), [0, 100], [on(x, 0, 100)]),
  B('widening cast', cast('int64', x32), [-2147483648, 2147483647]),
  B('cast from float', cast('int32', f), [-2147483648, 2147483647]),
  B('floordiv by a bounded variable', floordiv(x, y), [0, 50], [on(x, 0, 100), on(y, 2, 10)]),
  B('floordiv of a negative by a variable', floordiv(x, y), [-50, 0], [on(x, -100, 0), on(y, 2, 10)]),
  B('floormod by a bounded variable', floormod(x, y), [0, 7], [on(y, 1, 8)]),
  B('floormod of a small value by a variable', floormod(x, n), [0, 5], [on(x, 0, 5), ...pos(n)]),
  B('truncmod of a signed value', truncmod(x, 4), [-3, 3], [on(x, -10, 10)]),
  B('truncdiv of a signed value', truncdiv(x, 4), [-2, 2], [on(x, -10, 10)]),
  B('a comparison is 0 or 1', lt(x, y), [0, 1]),
  B('bitand with a mask', binary('bitand', x, 7), [0, 7], nn(x)),
  B('shr of a non-negative value', binary('shr', x, 2), [0, 25], [on(x, 0, 100)]),
  B('shl of a bounded value', binary('shl', x, 2), [0, 40], [on(x, 0, 10)]),
  B('a loop variable', i, [2, 6], [rng(i, 2, 5)]),
  B('a flattened index', add(mul(i, 4), j), [0, 31], [rng(i, 0, 8), rng(j, 0, 4)]),
  B('a loop variable over a bounded extent', i, [0, 15], [on(n, 1, 16), rng(i, 0, n)]),
  B('ceil-div of a bounded size', floordiv(add(n, 31), 32), [1, 2], [on(n, 1, 64)]),
  B('a load has the range of its type', load(A, [x]), [-2147483648, 2147483647]),
  B('a product with a zero factor', mul(x, y), [0, 0], [on(x, 0, 0)]),
];

const proofs: Case[] = [
  P('n*4 == 4*n', eq(mul(n, 4), mul(4, n)), true),
  P('reshape keeps the product', eq(mul(mul(b, s), mul(h, d)), mul(mul(mul(b, s), h), d)), true),
  P('i < n for i in [0, n)', lt(i, n), true, [rng(i, 0, n)]),
  P('i < n - 1 is not known', lt(i, sub(n, 1)), false, [rng(i, 0, n)]),
  P('i*4 + 3 <= n*4 - 1', le(add(mul(i, 4), 3), sub(mul(n, 4), 1)), true, [rng(i, 0, n)]),
  P('x < y is not known without facts', lt(x, y), false),
  P('x < y from disjoint bounds', lt(x, y), true, [on(x, 0, 3), on(y, 4, 8)]),
  P('a padded size covers the size', ge(mul(floordiv(add(n, 31), 32), 32), n), true, nn(n)),
  P('a padded size adds less than one block', lt(sub(mul(floordiv(add(n, 31), 32), 32), n), 32), true, nn(n)),
  P('ceil-div does not exceed the size', le(floordiv(add(n, 3), 4), n), true, pos(n)),
  P('ceil-div may exceed n - 1', le(floordiv(add(n, 3), 4), sub(n, 1)), false, nn(n)),
  P('0 <= i && i < n', and(le(0, i), lt(i, n)), true, [rng(i, 0, n)]),
  P('a disjunction with one provable side', or(lt(x, y), lt(i, n)), true, [rng(i, 0, n)]),
  P('a conjunction with one unprovable side', and(lt(x, y), lt(i, n)), false, [rng(i, 0, n)]),
  P('fused-loop identity', eq(add(mul(floordiv(x, 4), 4), floormod(x, 4)), x), true),
  P('different variables are not known equal', eq(n, m), false),
  P('a flattened 2-d index stays in bounds', lt(add(mul(i, n), j), mul(m, n)), true, [...nn(n, m), rng(i, 0, m), rng(j, 0, n)]),
  P('a flattened 3-d index stays in bounds', lt(add(add(mul(mul(i, s), d), mul(j, d)), k), mul(mul(b, s), d)), true, [
    ...nn(b, s, d),
    rng(i, 0, b),
    rng(j, 0, s),
    rng(k, 0, d),
  ]),
  P('a loop over a tile stays in the tile', lt(add(mul(floordiv(i, 8), 8), floormod(i, 8)), n), true, [rng(i, 0, n)]),
  P('i < n does not hold for a wider range', lt(i, n), false, [rng(i, 0, add(n, 1))]),
  P('floormod is below its divisor', lt(floormod(x, n), n), true, pos(n)),
  P('floordiv of a loop variable by its extent factor', lt(floordiv(i, 4), n), true, [rng(i, 0, mul(n, 4))]),
  P('a bound variable equals itself shifted back', eq(sub(add(i, 3), 3), i), true),
  P('an unbound floormod may be anything in range', eq(floormod(x, 4), 0), false),
];

const shapes: Case[] = [
  S(
    'reshape [b, s, h*d] -> [b, s, h, d]: -1 inference',
    floordiv(mul(mul(mul(b, s), h), d), mul(mul(b, s), h)),
    d,
    nn(b, s, h, d),
  ),
  S('reshape with constant head dims', floordiv(mul(mul(b, s), 4096), mul(mul(b, s), 32)), intImm(128), nn(b, s)),
  S('reshape [n, 4096] -> [n, 32, -1]', floordiv(mul(n, 4096), mul(n, 32)), intImm(128), nn(n)),
  S('reshape product that does not divide is kept', floordiv(mul(n, 10), mul(n, 4)), floordiv(mul(n, 10), mul(n, 4)), nn(n)),
  S('concat of [n] and [m]', add(n, m), add(m, n), nn(n, m)),
  S('slicing back a concat', sub(add(n, m), n), m, nn(n, m)),
  S('flatten [b, c, h, w] -> [b, c*h*w]', mul(b, mul(c, mul(h, w))), mul(mul(mul(b, c), h), w), nn(b, c, h, w)),
  S('flatten then unflatten', floordiv(mul(mul(b, c), mul(h, w)), mul(c, mul(h, w))), b, nn(b, c, h, w)),
  S('conv output size, concrete', add(floordiv(sub(add(224, mul(2, 3)), 7), 2), 1), intImm(112)),
  S('conv 3x3 pad 1 stride 1 keeps the size', add(floordiv(sub(add(h, mul(2, 1)), 3), 1), 1), h, nn(h)),
  S(
    'conv 3x3 pad 1 stride 2 halves it (rounding up)',
    add(floordiv(sub(add(h, mul(2, 1)), 3), 2), 1),
    floordiv(add(h, 1), 2),
    nn(h),
  ),
  S('conv 1x1', add(floordiv(sub(h, 1), 1), 1), h, nn(h)),
  S('dilated conv keeps the size', add(floordiv(sub(sub(add(h, mul(2, 2)), mul(2, sub(3, 1))), 1), 1), 1), h, nn(h)),
  S('conv 7x7 pad 3 stride 2', add(floordiv(sub(add(h, 6), 7), 2), 1), floordiv(add(h, 1), 2), nn(h)),
  S('maxpool 2x2 stride 2', add(floordiv(sub(h, 2), 2), 1), floordiv(h, 2), nn(h)),
  S('strided slice length', floordiv(add(sub(n, 0), sub(2, 1)), 2), floordiv(add(n, 1), 2), nn(n)),
  S('slice [1 : n-1]', sub(sub(n, 1), 1), sub(n, 2), nn(n)),
  S('slice [past : past + seq]', sub(add(past, seq), past), seq, nn(past, seq)),
  S('split into two halves adds back up', add(floordiv(n, 2), sub(n, floordiv(n, 2))), n, nn(n)),
  S('split of 3*k into three', floordiv(mul(k, 3), 3), k, nn(k)),
  S('chunk count', floordiv(add(n, 3), 4), floordiv(add(n, 3), 4), nn(n)),
  S('broadcast n with n', max(n, n), n, nn(n)),
  S('broadcast 1 with n', max(1, n), n, pos(n)),
  S('kv cache length', sub(add(add(past, seq), 1), 1), add(past, seq), nn(past, seq)),
  S('attention [b, s, h, d] -> [b*h, s, d]', floordiv(mul(mul(b, h), mul(s, d)), mul(s, d)), mul(b, h), nn(b, s, h, d)),
  S('attention heads back out', floordiv(mul(b, h), h), b, nn(b, h)),
  S('grouped-query heads per group', floordiv(intImm(32), intImm(8)), intImm(4)),
  S('rotary half dims', mul(floordiv(mul(d, 2), 2), 2), mul(d, 2), nn(d)),
  S('keepdims product', mul(mul(1, n), 1), n, nn(n)),
  S('sliding window count', add(floordiv(sub(n, 4), 1), 1), sub(n, 3), nn(n)),
  S('slice [1:-1] length', max(sub(max(add(-1, n), 0), 1), 0), sub(max(n, 2), 2), nn(n)),
  S('slice [0:n:1] length', max(floordiv(add(sub(n, 0), sub(1, 1)), 1), 0), n, nn(n)),
  S('slice [0:n:2] length', max(floordiv(add(sub(n, 0), 1), 2), 0), floordiv(add(n, 1), 2), nn(n)),
  S('split at [2]: the first part', max(sub(min(2, n), 0), 0), min(n, 2), nn(n)),
  S('split at [2]: the rest', max(sub(n, min(2, n)), 0), sub(n, min(n, 2)), nn(n)),
  S('reshape [b*s, 4096] -> [b, s, -1]', floordiv(mul(mul(b, s), 4096), mul(b, s)), intImm(4096), nn(b, s)),
  S('reshape: a -1 dim leaves no remainder', floormod(mul(mul(mul(b, s), h), d), mul(mul(b, s), h)), intImm(0), nn(b, s, h, d)),
  S('matmul output elements', mul(mul(b, m), n), mul(mul(b, m), n), nn(b, m, n)),
  S('transpose index recovers the row', floordiv(add(mul(i, d), j), d), i, [...nn(d), rng(i, 0, s), rng(j, 0, d)]),
  S('transpose index recovers the column', floormod(add(mul(i, d), j), d), j, [...nn(d), rng(i, 0, s), rng(j, 0, d)]),
  S('position in a 4096 ring', floormod(add(past, 4096), 4096), floormod(past, 4096), nn(past)),
  S(
    'pad to a multiple of 32 is idempotent',
    mul(floordiv(add(mul(floordiv(add(n, 31), 32), 32), 31), 32), 32),
    mul(floordiv(add(n, 31), 32), 32),
    nn(n),
  ),
  S(
    'im2col rows',
    mul(add(floordiv(sub(h, 3), 1), 1), add(floordiv(sub(w, 3), 1), 1)),
    add(sub(sub(mul(h, w), mul(h, 2)), mul(w, 2)), 4),
    nn(h, w),
  ),
  P('broadcast n vs n is equal', eq(n, n), true, nn(n)),
  P('broadcast 1 vs n is not known', eq(n, 1), false, nn(n)),
  P('broadcast 2 vs 3 is known different', ne(intImm(2), intImm(3)), true),
  P('kv cache grows', lt(past, add(past, seq)), true, [...nn(past), ...pos(seq)]),
  P('kv cache fits a budget', le(add(past, seq), 4096), true, [on(past, 0, 4000), on(seq, 1, 96)]),
  P('kv cache may overflow a budget', le(add(past, seq), 4096), false, [on(past, 0, 4000), on(seq, 1, 97)]),
  P(
    'reshape [b, s, h*d] -> [b, s, h, d]: products match',
    eq(mul(mul(b, s), mul(h, d)), mul(mul(mul(b, s), h), d)),
    true,
    nn(b, s, h, d),
  ),
  P('attention reshape keeps the element count', eq(mul(mul(mul(b, h), s), d), mul(mul(b, s), mul(h, d))), true, nn(b, s, h, d)),
  P('concat sizes are commutative', eq(add(n, m), add(m, n)), true, nn(n, m)),
  P('concat output is larger than an input', le(n, add(n, m)), true, nn(n, m)),
  P('conv output is positive for a large enough input', ge(add(floordiv(sub(add(h, 2), 3), 2), 1), 1), true, [on(h, 1, INF)]),
  P('split halves are no larger than the whole', le(floordiv(n, 2), n), true, nn(n)),
  P('different dims are not known equal', eq(mul(b, s), mul(b, h)), false, nn(b, s, h)),
  B('a sliced length is bounded by the slice', sub(min(n, 10), 2), [-INF, 8]),
  B('a clamped dim', min(max(n, 1), 64), [1, 64], nn(n)),
];

const TABLE: readonly Case[] = [
  ...constantFolding,
  ...linear,
  ...divmod,
  ...minmax,
  ...comparisons,
  ...logic,
  ...bounds,
  ...proofs,
  ...shapes,
];

function analyzerWith(facts: readonly Fact[]): Analyzer {
  const an = new Analyzer();
  for (const [v, r] of facts) an.bind(v, r);
  return an;
}

const fmt = (v: number): string => (v === INF ? 'inf' : v === -INF ? '-inf' : String(v));

describe('arith analyzer table', () => {
  it('has enough cases', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(170);
    expect(new Set(TABLE.map((t) => `${t.kind}: ${t.name}`)).size).toBe(TABLE.length);
  });

  it.each(TABLE.map((t) => [`${t.kind}: ${t.name}`, t] as const))('%s', (_, t) => {
    const an = analyzerWith(t.facts);
    switch (t.kind) {
      case 'simplify': {
        const got = an.simplify(t.input);
        if (!sameExpr(got, t.expected)) {
          expect.fail(`simplify ${show(t.input)}\n  expected ${show(t.expected)}\n  got      ${show(got)}`);
        }
        // Simplification is idempotent: a second pass changes nothing.
        const again = an.simplify(got);
        if (!sameExpr(again, got)) expect.fail(`not idempotent: ${show(got)} -> ${show(again)}`);
        break;
      }
      case 'bound': {
        const got = an.constIntBound(t.input);
        expect(`[${fmt(got.min)}, ${fmt(got.max)}]`).toBe(`[${fmt(t.expected[0])}, ${fmt(t.expected[1])}]`);
        break;
      }
      case 'prove':
        expect(an.canProve(t.input), show(t.input)).toBe(t.expected);
        break;
    }
  });
});

describe('arith analyzer API', () => {
  it('returns the same object when nothing changes', () => {
    const an = new Analyzer();
    const e = add(mul(x, 4), y);
    expect(an.simplify(e)).toBe(e);
    expect(an.simplify(x)).toBe(x);
  });

  it('proveEqual / proveLess / proveLessEqual', () => {
    const an = analyzerWith([rng(i, 0, n)]);
    expect(an.proveEqual(mul(n, 4), mul(4, n))).toBe(true);
    expect(an.proveLess(i, n)).toBe(true);
    expect(an.proveLessEqual(i, sub(n, 1))).toBe(true);
    expect(an.proveLess(n, i)).toBe(false);
  });

  it('withBinding scopes a fact and restores the previous one', () => {
    const an = new Analyzer();
    an.bind(x, { min: 0, max: 100 });
    expect(an.withBinding(x, { min: 0, max: 3 }, () => an.simplify(floordiv(x, 4)))).toEqual(intImm(0));
    expect(sameExpr(an.simplify(floordiv(x, 4)), floordiv(x, 4))).toBe(true);
    expect(an.constIntBound(x)).toEqual({ min: 0, max: 100 });
  });

  it('bounds derived from a symbolic range follow the facts about its ends', () => {
    const an = new Analyzer();
    an.bind(i, range(0, n));
    an.withBinding(n, { min: 1, max: 16 }, () => expect(an.constIntBound(i)).toEqual({ min: 0, max: 15 }));
    expect(an.constIntBound(i)).toEqual({ min: 0, max: INF });
  });

  it('interval facts narrow each other', () => {
    const an = new Analyzer();
    an.bind(x, { min: 0, max: 10 });
    an.bind(x, { min: 5, max: 20 });
    expect(an.constIntBound(x)).toEqual({ min: 5, max: 10 });
  });

  it('bindNonNegative keeps existing facts', () => {
    const an = new Analyzer();
    an.bind(n, { min: 2, max: 8 });
    an.bindNonNegative(n, m);
    expect(an.constIntBound(n)).toEqual({ min: 2, max: 8 });
    expect(an.constIntBound(m)).toEqual({ min: 0, max: INF });
  });

  it('canonical output does not depend on variable creation order', () => {
    const a1 = primVar('a');
    const b1 = primVar('b');
    const b2 = primVar('b');
    const a2 = primVar('a');
    expect(show(new Analyzer().simplify(add(b1, a1)))).toBe(show(new Analyzer().simplify(add(b2, a2))));
  });

  it('survives coefficients past the safe-integer range', () => {
    const an = new Analyzer();
    const big = mul(mul(x, 2 ** 30), 2 ** 30);
    expect(() => an.simplify(lt(big, y))).not.toThrow();
    expect(() => an.simplify(add(big, big))).not.toThrow();
    expect(() => an.constIntBound(big)).not.toThrow();
    expect(an.canProve(lt(big, y))).toBe(false);
  });

  it('keeps bounds sound beyond 2^53', () => {
    const an = new Analyzer();
    an.bind(x, { min: 0, max: 2 ** 53 - 1 });
    const bnd = an.constIntBound(mul(x, 3));
    // 3 * (2^53 - 1) is not a double; the nearest one below it is not an upper bound.
    expect(bnd.max === Infinity || BigInt(bnd.max) >= 3n * (2n ** 53n - 1n)).toBe(true);
  });
});
