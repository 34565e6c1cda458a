/**
 * Soundness of the arithmetic analyzer, by property: for random integer
 * expressions and random facts about their variables, the simplified
 * expression evaluates to the original's value at every assignment that
 * satisfies the facts, constIntBound contains that value, and canProve never
 * claims a condition that evaluates false.
 *
 * Values are BigInt: the analyzer reasons about mathematical integers (it
 * assumes no overflow), and so does this evaluator. An assignment at which
 * the original divides by zero is skipped (the analyzer may assume it does not).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Analyzer } from '../../../src/ir/arith/analyzer.ts';
import { bits, type DataType, isBool, isInt, isSigned } from '../../../src/ir/dtype.ts';
import type { Interval } from '../../../src/ir/arith/interval.ts';
import {
  add,
  and,
  binary,
  cast,
  type CompareOp,
  floordiv,
  floormod,
  intImm,
  mul,
  not,
  or,
  type PrimExpr,
  primVar,
  type PrimVar,
  select,
} from '../../../src/ir/prim/expr.ts';
import { range, type Range } from '../../../src/ir/tir/stmt.ts';
import { show } from './expr-util.ts';

// --- an exact evaluator -------------------------------------------------------

class DivByZero extends Error {}

type Env = ReadonlyMap<PrimVar, bigint>;

function floorDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new DivByZero();
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const big = (v: boolean): bigint => (v ? 1n : 0n);

/** An integer converted to an integer type: two's complement wrap-around. */
function wrap(v: bigint, dtype: DataType): bigint {
  if (isBool(dtype)) return big(v !== 0n);
  if (!isInt(dtype)) throw new Error(`cannot evaluate a cast to ${dtype}`);
  return isSigned(dtype) ? BigInt.asIntN(bits(dtype), v) : BigInt.asUintN(bits(dtype), v);
}

function evaluate(e: PrimExpr, env: Env): bigint {
  switch (e.kind) {
    case 'int':
      return BigInt(e.value);
    case 'bool':
      return big(e.value);
    case 'var': {
      const v = env.get(e);
      if (v === undefined) throw new Error(`unassigned ${e.name}`);
      return v;
    }
    case 'not':
      return big(evaluate(e.a, env) === 0n);
    case 'select': {
      // Both branches are evaluated, as a select does.
      const c = evaluate(e.cond, env);
      const t = evaluate(e.t, env);
      const f = evaluate(e.f, env);
      return c !== 0n ? t : f;
    }
    case 'cast':
      return wrap(evaluate(e.value, env), e.dtype);
    case 'binary': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      switch (e.op) {
        case 'add':
          return a + b;
        case 'sub':
          return a - b;
        case 'mul':
          return a * b;
        case 'floordiv':
          return floorDiv(a, b);
        case 'floormod':
          return a - floorDiv(a, b) * b;
        case 'truncdiv':
          if (b === 0n) throw new DivByZero();
          return a / b;
        case 'truncmod':
          if (b === 0n) throw new DivByZero();
          return a % b;
        case 'min':
          return a < b ? a : b;
        case 'max':
          return a > b ? a : b;
        case 'eq':
          return big(a === b);
        case 'ne':
          return big(a !== b);
        case 'lt':
          return big(a < b);
        case 'le':
          return big(a <= b);
        case 'gt':
          return big(a > b);
        case 'ge':
          return big(a >= b);
        case 'bitand':
          return a & b;
        case 'bitor':
          return a | b;
        case 'bitxor':
          return a ^ b;
        case 'shl':
          return a << b;
        case 'shr':
          return a >> b;
        case 'and':
          return big(a !== 0n && b !== 0n);
        case 'or':
          return big(a !== 0n || b !== 0n);
        default:
          throw new Error(`cannot evaluate ${e.op}`);
      }
    }
    default:
      throw new Error(`cannot evaluate ${e.kind}`);
  }
}

/** The value, or undefined when the expression divides by zero there. */
function tryEvaluate(e: PrimExpr, env: Env): bigint | undefined {
  try {
    return evaluate(e, env);
  } catch (err) {
    if (err instanceof DivByZero) return undefined;
    throw err;
  }
}

// --- variables and facts ----------------------------------------------------------

const x = primVar('x');
const y = primVar('y');
const z = primVar('z');
/** Divisors: always positive. */
const p = primVar('p');
const q = primVar('q');
const VARS = [x, y, z, p, q];

/** What is bound to one variable; `lo`/`hi` are inclusive, hi may be Infinity. */
type Fact =
  | { readonly kind: 'none' }
  | { readonly kind: 'interval'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'range'; readonly r: Range };

interface Facts {
  readonly p: Fact;
  readonly q: Fact;
  readonly x: Fact;
  readonly y: Fact;
  readonly z: Fact;
}

const interval = (lo: number, hi: number): Fact => ({ kind: 'interval', lo, hi });
const NONE: Fact = { kind: 'none' };

const smallInterval = fc
  .tuple(fc.integer({ min: -10, max: 10 }), fc.integer({ min: 0, max: 16 }))
  .map(([lo, w]) => interval(lo, lo + w));
const positiveFact = fc.oneof(
  fc.constant(interval(1, Infinity)),
  fc.integer({ min: 1, max: 12 }).map((hi) => interval(1, hi)),
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 })).map(([lo, w]) => interval(lo, lo + w)),
);
const factsArb: fc.Arbitrary<Facts> = fc.record({
  p: positiveFact,
  q: positiveFact,
  x: fc.oneof(fc.constant(NONE), smallInterval, fc.constant(interval(0, Infinity))),
  y: fc.oneof(
    fc.constant(NONE),
    smallInterval,
    fc.constant<Fact>({ kind: 'range', r: range(0, q) }),
    fc.integer({ min: 1, max: 6 }).map((ext): Fact => ({ kind: 'range', r: range(x, ext) })),
  ),
  z: fc.oneof(
    fc.constant(NONE),
    smallInterval,
    fc.constant<Fact>({ kind: 'range', r: range(0, p) }),
    fc.constant<Fact>({ kind: 'range', r: range(y, p) }),
    fc.constant<Fact>({ kind: 'range', r: range(0, mul(p, q)) }),
    fc.constant<Fact>({ kind: 'range', r: range(mul(x, 4), 4) }),
  ),
});

function analyzerWith(facts: Facts): Analyzer {
  const an = new Analyzer();
  for (const v of VARS) {
    const f = facts[v.name as keyof Facts];
    if (f.kind === 'interval') an.bind(v, { min: f.lo, max: f.hi });
    else if (f.kind === 'range') an.bind(v, f.r);
  }
  return an;
}

/** An assignment satisfying the facts, drawn from raw random numbers; undefined when a range is empty. */
function assign(facts: Facts, raws: readonly number[]): Env | undefined {
  const env = new Map<PrimVar, bigint>();
  let k = 0;
  // The ends and small values find off-by-one errors far more often than uniform draws.
  const pick = (lo: bigint, hi: bigint): bigint => {
    const r = BigInt(raws[k++ % raws.length]!);
    const rest = r / 4n;
    switch (r % 4n) {
      case 0n:
        return lo;
      case 1n:
        return hi;
      case 2n: {
        const v = (rest % 7n) - 3n;
        return v < lo ? lo : v > hi ? hi : v;
      }
      default:
        return lo + (rest % (hi - lo + 1n));
    }
  };
  // p and q first, x before y, y before z: later ranges mention earlier variables.
  for (const v of [p, q, x, y, z]) {
    const f = facts[v.name as keyof Facts];
    if (f.kind === 'none') env.set(v, pick(-20n, 20n));
    else if (f.kind === 'interval') env.set(v, pick(BigInt(f.lo), f.hi === Infinity ? BigInt(f.lo) + 24n : BigInt(f.hi)));
    else {
      const lo = evaluate(f.r.min, env);
      const ext = evaluate(f.r.extent, env);
      if (ext <= 0n) return undefined;
      env.set(v, pick(lo, lo + ext - 1n));
    }
  }
  return env;
}

// --- random expressions ------------------------------------------------------------

const constant = fc.integer({ min: -6, max: 9 }).map((v) => intImm(v));
const leaf: fc.Arbitrary<PrimExpr> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<PrimExpr>(...VARS) },
  { weight: 1, arbitrary: constant },
);
const divisor = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }).map((v) => intImm(v)) },
  { weight: 1, arbitrary: fc.integer({ min: -4, max: -1 }).map((v) => intImm(v)) },
  { weight: 2, arbitrary: fc.constantFrom<PrimExpr>(p, q, mul(p, q), add(p, 1)) },
);
const positive = fc.integer({ min: 1, max: 8 });
const compareOp = fc.constantFrom<CompareOp>('eq', 'ne', 'lt', 'le', 'gt', 'ge');

const { expr, cond } = fc.letrec<{ expr: PrimExpr; cond: PrimExpr }>((tie) => {
  const e = tie('expr');
  const c = tie('cond');
  return {
    expr: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'expr' },
      leaf,
      fc
        .tuple(fc.constantFrom('add', 'sub', 'mul', 'min', 'max') as fc.Arbitrary<'add'>, e, e)
        .map(([op, a, b]) => binary(op, a, b)),
      fc
        .tuple(fc.constantFrom('floordiv', 'floormod', 'truncdiv', 'truncmod') as fc.Arbitrary<'floordiv'>, e, divisor)
        .map(([op, a, b]) => binary(op, a, b)),
      fc.tuple(fc.constantFrom('floordiv', 'floormod') as fc.Arbitrary<'floordiv'>, e, e).map(([op, a, b]) => binary(op, a, b)),
      fc.tuple(c, e, e).map(([k, a, b]) => select(k, a, b)),
      fc.tuple(fc.constantFrom<DataType>('int8', 'uint8', 'int32'), e).map(([t, a]) => cast('int64', cast(t, a))),
      fc
        .tuple(fc.constantFrom('bitand', 'bitor', 'bitxor') as fc.Arbitrary<'bitand'>, e, e)
        .map(([op, a, b]) => binary(op, a, b)),
      fc
        .tuple(fc.constantFrom('shl', 'shr') as fc.Arbitrary<'shl'>, e, fc.integer({ min: 0, max: 3 }))
        .map(([op, a, k]) => binary(op, a, k)),
      // Shapes the rules look for, which random trees rarely hit.
      fc.tuple(e, divisor).map(([a, k]) => add(mul(floordiv(a, k), k), floormod(a, k))),
      fc.tuple(e, e, divisor, fc.boolean()).map(([a, b, k, div]) => (div ? floordiv : floormod)(add(mul(a, k), b), k)),
      fc.tuple(e, positive, positive).map(([a, k1, k2]) => floordiv(floordiv(a, k1), k2)),
      fc.tuple(e, positive, positive).map(([a, k1, k2]) => floormod(floormod(a, k1 * k2), k1)),
      fc.tuple(e, positive).map(([a, k]) => mul(floordiv(add(a, k - 1), k), k)),
    ),
    cond: fc.oneof(
      { maxDepth: 2, depthIdentifier: 'cond' },
      fc.tuple(compareOp, e, e).map(([op, a, b]) => binary(op, a, b)),
      fc.tuple(c, c).map(([a, b]) => and(a, b)),
      fc.tuple(c, c).map(([a, b]) => or(a, b)),
      c.map((a) => not(a)),
    ),
  };
});

const raws = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 5, maxLength: 40 });

const contains = (b: Interval, v: bigint): boolean =>
  (b.min === -Infinity || BigInt(b.min) <= v) && (b.max === Infinity || v <= BigInt(b.max));

/** The assignments, one per draw, that satisfy the facts. */
function assignments(facts: Facts, draws: readonly (readonly number[])[]): Env[] {
  return draws.map((r) => assign(facts, r)).filter((env): env is Env => env !== undefined);
}

/** ARITH_RUNS=20000 for a longer search. */
const RUNS = { numRuns: Number(process.env.ARITH_RUNS ?? 400) };

describe('arith analyzer soundness', () => {
  it('simplify keeps the value and constIntBound contains it', () => {
    fc.assert(
      fc.property(expr, factsArb, fc.array(raws, { minLength: 12, maxLength: 12 }), (e, facts, draws) => {
        const an = analyzerWith(facts);
        const s = an.simplify(e);
        const bound = an.constIntBound(e);
        for (const env of assignments(facts, draws)) {
          const want = tryEvaluate(e, env);
          if (want === undefined) continue;
          const got = tryEvaluate(s, env);
          const at = [...env].map(([v, val]) => `${v.name}=${val}`).join(' ');
          expect(got, `${show(e)}\n  simplified ${show(s)}\n  at ${at}`).toBe(want);
          expect(contains(bound, want), `${show(e)} = ${want} at ${at}, bound [${bound.min}, ${bound.max}]`).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('canProve never proves a false condition, and simplify keeps conditions', () => {
    fc.assert(
      fc.property(cond, factsArb, fc.array(raws, { minLength: 12, maxLength: 12 }), (c, facts, draws) => {
        const an = analyzerWith(facts);
        const proved = an.canProve(c);
        const s = an.simplify(c);
        for (const env of assignments(facts, draws)) {
          const want = tryEvaluate(c, env);
          if (want === undefined) continue;
          const at = [...env].map(([v, val]) => `${v.name}=${val}`).join(' ');
          if (proved) expect(want, `proved ${show(c)}, false at ${at}`).toBe(1n);
          expect(tryEvaluate(s, env), `${show(c)}\n  simplified ${show(s)}\n  at ${at}`).toBe(want);
        }
      }),
      RUNS,
    );
  });

  it('simplify is idempotent', () => {
    fc.assert(
      fc.property(expr, factsArb, (e, facts) => {
        const an = analyzerWith(facts);
        const once = an.simplify(e);
        expect(show(an.simplify(once)), show(e)).toBe(show(once));
      }),
      { numRuns: Math.ceil(RUNS.numRuns / 2) },
    );
  });
});
