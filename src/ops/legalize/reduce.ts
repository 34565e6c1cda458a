/**
 * Legalizations of the reductions (sum, prod, max, min, mean, variance, std),
 * the arg-reductions and the cumulative scans.
 *
 * Sums accumulate half floats in float32 and cast the result back; bool
 * data reduces with `or`/`and`, the only meaningful bool results of a sum
 * or a product. Scans are hand-written loops, linear in the input size.
 */
import {
  compute,
  computeMany,
  MAX,
  MIN,
  PROD,
  type Reducer,
  reduceAxis,
  type ReduceAxis,
  type Reduction,
  reduction,
  SUM,
  type Tensor,
} from '../../ir/builder/te.ts';
import { type DataType, intRange, isBool, isFloat } from '../../ir/dtype.ts';
import {
  add,
  and,
  call,
  castIfNeeded,
  div,
  eq,
  gt,
  imm,
  intImm,
  load,
  lt,
  mul,
  not,
  or,
  type PrimExpr,
  primVar,
  type PrimVar,
  product,
  select,
  sub,
  truncdiv,
} from '../../ir/prim/expr.ts';
import { buffer } from '../../ir/tir/buffer.ts';
import { forLoop, ifThenElse, seq, type Stmt, store } from '../../ir/tir/stmt.ts';
import { convert, lit, normAxes, normAxis } from './common.ts';
import { defineLegalization, type HandWritten, type LegalizeCall } from './registry.ts';

// --- helpers shared with the normalizations and matmul ----------------------------------

/** The type a sum accumulates in: float32 for the half floats, the type itself otherwise. */
export function accumDtype(t: DataType): DataType {
  return t === 'float16' || t === 'bfloat16' ? 'float32' : t;
}

/** One reduce axis per dim of `shape` listed in `axes`. */
export function reduceAxesOf(shape: readonly PrimExpr[], axes: readonly number[]): ReduceAxis[] {
  return axes.map((a) => reduceAxis(shape[a]!, `k${a}`));
}

/**
 * A reduction over `axes`, or the value itself when there is none (numpy's
 * `axis=()`), so that no block pretends to reduce.
 */
export function reduceWith(reducer: Reducer, value: PrimExpr, axes: readonly ReduceAxis[]): PrimExpr | Reduction {
  return axes.length === 0 ? value : reduction(reducer, [value], axes);
}

/**
 * The index of data (rank `ndim`) that output index `out` of a reduction over
 * the sorted `axes` stands for, with reduced dim `axes[j]` at `at[j]`.
 */
export function dataIndex(
  ndim: number,
  axes: readonly number[],
  keepdims: boolean,
  out: readonly PrimExpr[],
  at: readonly PrimExpr[],
): PrimExpr[] {
  let next = 0;
  return Array.from({ length: ndim }, (_, d) => {
    const j = axes.indexOf(d);
    if (j >= 0) {
      if (keepdims) next++;
      return at[j]!;
    }
    return out[next++]!;
  });
}

/** The number of elements a reduction over `axes` combines, as a value of `dtype`. */
export function countOf(shape: readonly PrimExpr[], axes: readonly number[], dtype: DataType): PrimExpr {
  return castIfNeeded(dtype, product(axes.map((a) => shape[a]!)));
}

/** The bool sum and product: or and and. */
export const ANY: Reducer = { identity: () => [imm(false, 'bool')], combine: ([a], [b]) => [or(a!, b!)] };
export const ALL: Reducer = { identity: () => [imm(true, 'bool')], combine: ([a], [b]) => [and(a!, b!)] };

// --- sum, prod, max, min, mean, variance, std -------------------------------------------

interface ReduceSpec {
  readonly x: Tensor;
  readonly axes: number[];
  readonly keepdims: boolean;
  readonly k: ReduceAxis[];
  /** The element of data at the output index `i` and the reduce variables. */
  readonly at: (i: readonly PrimExpr[]) => PrimExpr;
}

function reduceSpec(c: LegalizeCall): ReduceSpec {
  const x = c.tensor('data');
  const axes = normAxes(c.optionalAttr<number[]>('axis'), x.shape.length);
  const keepdims = c.attr<boolean>('keepdims');
  const k = reduceAxesOf(x.shape, axes);
  const vars = k.map((a) => a.var);
  return { x, axes, keepdims, k, at: (i) => x.at(...dataIndex(x.shape.length, axes, keepdims, i, vars)) };
}

/** `t` as the call's output type, by one more stage when it differs. */
function asOutput(c: LegalizeCall, t: Tensor, name: string): Tensor {
  const dtype = c.outDtype();
  return t.dtype === dtype ? t : compute(c.outShape(), (i) => convert(t.at(...i), dtype), name);
}

function simple(c: LegalizeCall, reducer: Reducer, boolReducer: Reducer, accumulate: boolean): Tensor {
  const s = reduceSpec(c);
  const name = `T_${c.op}`;
  if (isBool(s.x.dtype)) return compute(c.outShape(), (i) => reduceWith(boolReducer, s.at(i), s.k), name);
  const acc = accumulate ? accumDtype(s.x.dtype) : s.x.dtype;
  const r = compute(
    c.outShape(),
    (i) => reduceWith(reducer, convert(s.at(i), acc), s.k),
    acc === s.x.dtype ? name : `${name}_acc`,
  );
  return asOutput(c, r, name);
}

defineLegalization('sum', (c) => simple(c, SUM, ANY, true));
defineLegalization('prod', (c) => simple(c, PROD, ALL, true));
defineLegalization('max', (c) => simple(c, MAX, ANY, false));
defineLegalization('min', (c) => simple(c, MIN, ALL, false));

/** Integer means truncate toward zero (TVM divides the integer sum); a bool mean is true when any element is. */
defineLegalization('mean', (c) => {
  const s = reduceSpec(c);
  if (isBool(s.x.dtype)) return compute(c.outShape(), (i) => reduceWith(ANY, s.at(i), s.k), 'T_mean');
  const acc = accumDtype(s.x.dtype);
  const total = compute(c.outShape(), (i) => reduceWith(SUM, convert(s.at(i), acc), s.k), 'T_mean_sum');
  const n = countOf(s.x.shape, s.axes, acc);
  const divide = isFloat(acc) ? div : truncdiv;
  return compute(c.outShape(), (i) => convert(divide(total.at(...i), n), c.outDtype()), 'T_mean');
});

/** Population variance (ddof 0, numpy's default), in two passes: the mean, then the squared deviations. */
function variance(c: LegalizeCall, name: string, finish: (v: PrimExpr) => PrimExpr): Tensor {
  const s = reduceSpec(c);
  const acc = accumDtype(s.x.dtype);
  const nd = s.x.shape.length;
  // The mean keeps the reduced dims, so the second pass can index it like data.
  const keptShape = s.x.shape.map((d, a) => (s.axes.includes(a) ? intImm(1, d.dtype) : d));
  const n = countOf(s.x.shape, s.axes, acc);
  const vars = s.k.map((a) => a.var);
  const kept = (i: readonly PrimExpr[]): PrimExpr => convert(s.x.at(...dataIndex(nd, s.axes, true, i, vars)), acc);
  const total = compute(keptShape, (i) => reduceWith(SUM, kept(i), s.k), `${name}_sum`);
  // Reduced dims at 0 index the kept-dims mean.
  const zeros = s.axes.map(() => intImm(0));
  const sq = compute(
    c.outShape(),
    (i) => {
      const dev = sub(convert(s.at(i), acc), div(total.at(...dataIndex(nd, s.axes, s.keepdims, i, zeros)), n));
      return reduceWith(SUM, mul(dev, dev), s.k);
    },
    `${name}_sqdev`,
  );
  return compute(c.outShape(), (i) => convert(finish(div(sq.at(...i), n)), c.outDtype()), name);
}

defineLegalization('variance', (c) => variance(c, 'T_variance', (v) => v));
defineLegalization('std', (c) => variance(c, 'T_std', (v) => call('sqrt', [v])));

// --- argmax, argmin ------------------------------------------------------------------

/** The lowest (or highest) value of a type; 64-bit integers clamp to the safe integers, as te's reducers do. */
function extreme(t: DataType, highest: boolean): PrimExpr {
  if (isFloat(t)) return imm(highest ? Infinity : -Infinity, t);
  if (isBool(t)) return imm(highest, t);
  const r = intRange(t);
  return imm(highest ? Math.min(r.max, Number.MAX_SAFE_INTEGER) : Math.max(r.min, Number.MIN_SAFE_INTEGER), t);
}

/**
 * Reduces (index, value) pairs to the extreme value with the lowest index,
 * whatever order a schedule visits them in. As in numpy, NaN is the
 * extreme of both argmax and argmin, so the first NaN wins.
 */
export function argReducer(isMax: boolean): Reducer {
  return {
    identity: ([ti, tv]) => [imm(Number.MAX_SAFE_INTEGER, ti!), extreme(tv!, !isMax)],
    combine: ([ai, av], [bi, bv]) => {
      let better = isMax ? gt(bv!, av!) : lt(bv!, av!);
      let tie = eq(bv!, av!);
      if (isFloat(bv!.dtype)) {
        const nanA = call('isnan', [av!]);
        const nanB = call('isnan', [bv!]);
        better = or(better, and(nanB, not(nanA)));
        tie = or(tie, and(nanB, nanA));
      }
      const take = or(better, and(tie, lt(bi!, ai!)));
      return [select(take, bi!, ai!), select(take, bv!, av!)];
    },
  };
}

/** Row-major position of `idx` in `shape`. */
export function ravel(idx: readonly PrimExpr[], shape: readonly PrimExpr[]): PrimExpr {
  return idx.reduce<PrimExpr>((acc, x, d) => (d === 0 ? x : add(mul(acc, shape[d]!), x)), intImm(0));
}

function argReduce(c: LegalizeCall, isMax: boolean): Tensor {
  const x = c.tensor('data');
  const axis = c.optionalAttr<number>('axis');
  // No axis: the index into the flattened tensor, as numpy returns.
  const axes = axis === undefined ? normAxes(undefined, x.shape.length) : [normAxis(axis, x.shape.length)];
  const keepdims = c.attr<boolean>('keepdims');
  const k = reduceAxesOf(x.shape, axes);
  const vars = k.map((a) => a.var);
  const index = castIfNeeded('int64', axis === undefined ? ravel(vars, x.shape) : vars[0]!);
  const name = `T_${c.op}`;
  const [idx] = computeMany(
    c.outShape(),
    (i) => {
      const v = x.at(...dataIndex(x.shape.length, axes, keepdims, i, vars));
      // A 0-d tensor has nothing to reduce over: its only element is at 0.
      return k.length === 0 ? intImm(0, 'int64') : reduction(argReducer(isMax), [index, v], k);
    },
    k.length === 0 ? [name] : [name, `${name}_value`],
  );
  return idx!;
}

defineLegalization('argmax', (c) => argReduce(c, true));
defineLegalization('argmin', (c) => argReduce(c, false));

// --- cumsum, cumprod -----------------------------------------------------------------

/**
 * A scan, written as one loop nest over data in row-major order: element k
 * along the scanned axis (or of the flattened tensor) is combined from
 * element k - 1 of the output, which row-major order has already written.
 * Exclusive scans write element k + 1 instead, from element k.
 */
function scan(c: LegalizeCall, isSum: boolean): HandWritten {
  const x = c.tensor('data');
  const axis = c.optionalAttr<number>('axis');
  const exclusive = c.attr<boolean>('exclusive');
  const dtype = c.outDtype();
  const out = buffer(`T_${c.op}`, c.outShape(), dtype);
  const combine = (a: PrimExpr, b: PrimExpr): PrimExpr =>
    isBool(dtype) ? (isSum ? or(a, b) : and(a, b)) : isSum ? add(a, b) : mul(a, b);
  const identity = lit(isSum ? 0 : 1, dtype);

  const vars: PrimVar[] = x.shape.map((d, i) => primVar(`i${i}`, d.dtype));
  const ax = axis === undefined ? undefined : normAxis(axis, x.shape.length);
  // Where this element sits in the output, and the output index `delta` steps along the scan from it.
  const pos = ax === undefined ? ravel(vars, x.shape) : vars[ax]!;
  const extent = ax === undefined ? product(x.shape) : x.shape[ax]!;
  const outAt = (delta: number): PrimExpr[] => {
    const p = delta === 0 ? pos : add(pos, intImm(delta, pos.dtype));
    if (ax === undefined) return [p];
    return vars.map((v, d) => (d === ax ? p : v));
  };
  const value = convert(x.at(...vars), dtype);
  const prev = (delta: number): PrimExpr => load(out, outAt(delta));
  const first = eq(pos, intImm(0, pos.dtype));
  let body: Stmt;
  if (!exclusive) {
    body = ifThenElse(first, store(out, outAt(0), value), store(out, outAt(0), combine(prev(-1), value)));
  } else {
    body = seq([
      ifThenElse(first, store(out, outAt(0), identity)),
      ifThenElse(lt(add(pos, intImm(1, pos.dtype)), extent), store(out, outAt(1), combine(prev(0), value))),
    ]);
  }
  for (let d = vars.length - 1; d >= 0; d--) body = forLoop(vars[d]!, intImm(0, x.shape[d]!.dtype), x.shape[d]!, body);
  return { kind: 'tir', outputs: [out], body };
}

defineLegalization('cumsum', (c) => scan(c, true));
defineLegalization('cumprod', (c) => scan(c, false));
