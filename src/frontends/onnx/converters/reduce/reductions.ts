/**
 * Reductions (the Reduce* family), the arg-reductions, CumSum, and the
 * normalizations made of reductions (LpNormalization,
 * MeanVarianceNormalization). Sums, products, maxima and minima of values
 * known at import time (a Shape → ReduceProd element count) are folded
 * symbolically, so they stay shapes.
 */
import { type DataType, isFloat, isInt } from '../../../../ir/dtype.ts';
import { add, max, min, mul, type PrimExpr, sub } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { literal } from '../../context.ts';
import type { KnownValue, Value } from '../../values.ts';
import { knownSize } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { axesOf, normAxis } from '../shape.ts';

/** A 0-d value of `dtype`, known at import time. */
export function scalar(ctx: NodeContext, v: number | PrimExpr, dtype: DataType): KnownValue {
  return ctx.knownValue(dtype, [], [typeof v === 'number' ? literal(v, dtype) : v]);
}

/** Sorted, distinct, non-negative axes. */
export function normAxes(ctx: NodeContext, axes: readonly number[], rank: number): number[] {
  return [...new Set(axes.map((a) => normAxis(ctx, a, rank)))].sort((a, b) => a - b);
}

function allAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

// --- Reduce* ----------------------------------------------------------------------------

interface Reduction {
  readonly axes: number[];
  readonly keepdims: boolean;
}

/**
 * What a Reduce* node reduces: its axes come from the attribute, or from
 * input 1 from opset `axesInputSince` on. No axes (or an empty list) reduce
 * every axis, unless noop_with_empty_axes makes the node a no-op: undefined.
 */
function reductionOf(ctx: NodeContext, axesInputSince: number): Reduction | undefined {
  const rank = ctx.rank(0);
  const keepdims = ctx.attr.int('keepdims', 1) !== 0;
  const given = axesOf(ctx, 1, axesInputSince);
  if (!given || given.length === 0) {
    if (ctx.attr.int('noop_with_empty_axes', 0) !== 0) return undefined;
    return { axes: allAxes(rank), keepdims };
  }
  return { axes: normAxes(ctx, given, rank), keepdims };
}

/**
 * A reduction of a known integer tensor (shape arithmetic), combined
 * symbolically; undefined when `x` is not such a value.
 */
function foldKnown(
  ctx: NodeContext,
  x: Value,
  r: Reduction,
  combine: (a: PrimExpr, b: PrimExpr) => PrimExpr,
): KnownValue | undefined {
  if (x.kind !== 'known' || !isInt(x.dtype) || x.values.length === 0) return undefined;
  const shape = x.shape;
  const outShape = shape.flatMap((d, i) => (!r.axes.includes(i) ? [d] : r.keepdims ? [1] : []));
  const acc = new Array<PrimExpr | undefined>(knownSize(outShape)).fill(undefined);
  x.values.forEach((v, flat) => {
    // The output element of input element `flat`: its index with the reduced axes left out.
    let rest = flat;
    let out = 0;
    let scale = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      const i = rest % shape[k]!;
      rest = Math.floor(rest / shape[k]!);
      if (!r.axes.includes(k)) {
        out += i * scale;
        scale *= shape[k]!;
      }
    }
    const cur = acc[out];
    acc[out] = cur === undefined ? v : combine(cur, v);
  });
  return ctx.knownValue(x.dtype, outShape, acc as PrimExpr[]);
}

/** `f` computed in float64 for a non-float input, the result cast back: ONNX computes these in floats, then casts. */
function viaFloat(ctx: NodeContext, x: Value, f: (x: Value) => Value): Value {
  const dtype = ctx.dtype(0);
  if (isFloat(dtype)) return f(x);
  return ctx.op('astype', [f(ctx.op('astype', [x], { dtype: 'float64' }))], { dtype });
}

interface ReduceSpec {
  /** The opset from which the axes are an input rather than an attribute. */
  readonly axesInputSince: number;
  readonly compute: (ctx: NodeContext, x: Value, r: Reduction) => Value;
  /** What the no-op (noop_with_empty_axes with no axes) gives: the input itself unless said otherwise. */
  readonly noop?: (ctx: NodeContext, x: Value) => Value;
  /** Folds known integer inputs. */
  readonly fold?: (a: PrimExpr, b: PrimExpr) => PrimExpr;
}

function plain(op: string) {
  return (ctx: NodeContext, x: Value, r: Reduction): Value => ctx.op(op, [x], { axis: r.axes, keepdims: r.keepdims });
}

function square(ctx: NodeContext, x: Value): Value {
  return ctx.op('multiply', [x, x]);
}

const REDUCE: Record<string, ReduceSpec> = {
  ReduceSum: { axesInputSince: 13, compute: plain('sum'), fold: (a, b) => add(a, b) },
  ReduceProd: { axesInputSince: 18, compute: plain('prod'), fold: (a, b) => mul(a, b) },
  ReduceMax: { axesInputSince: 18, compute: plain('max'), fold: (a, b) => max(a, b) },
  ReduceMin: { axesInputSince: 18, compute: plain('min'), fold: (a, b) => min(a, b) },
  ReduceMean: { axesInputSince: 18, compute: plain('mean') },
  ReduceL1: {
    axesInputSince: 18,
    compute: (ctx, x, r) => plain('sum')(ctx, ctx.op('abs', [x]), r),
  },
  ReduceL2: {
    axesInputSince: 18,
    compute: (ctx, x, r) => viaFloat(ctx, x, (f) => ctx.op('sqrt', [plain('sum')(ctx, square(ctx, f), r)])),
  },
  ReduceSumSquare: {
    axesInputSince: 18,
    compute: (ctx, x, r) => plain('sum')(ctx, square(ctx, x), r),
    // The ONNX reference (which makes the backend tests) squares the input here.
    noop: square,
  },
  ReduceLogSum: {
    axesInputSince: 18,
    compute: (ctx, x, r) => viaFloat(ctx, x, (f) => ctx.op('log', [plain('sum')(ctx, f, r)])),
  },
  ReduceLogSumExp: { axesInputSince: 18, compute: (ctx, x, r) => viaFloat(ctx, x, (f) => logSumExp(ctx, f, r)) },
};

/**
 * log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the maximum, so exp
 * cannot overflow. An infinite maximum (all -inf, or some +inf) is replaced
 * by 0, which gives the right -inf or +inf instead of inf - inf = NaN.
 */
function logSumExp(ctx: NodeContext, x: Value, r: Reduction): Value {
  const m = ctx.op('max', [x], { axis: r.axes, keepdims: true });
  const shift = ctx.op('where', [ctx.op('isfinite', [m]), m, scalar(ctx, 0, m.sinfo.dtype)]);
  const total = ctx.op('sum', [ctx.op('exp', [ctx.op('subtract', [x, shift])])], { axis: r.axes, keepdims: true });
  const y = ctx.op('add', [ctx.op('log', [total]), shift]);
  return r.keepdims ? y : ctx.op('squeeze', [y], { axis: r.axes });
}

for (const [onnx, spec] of Object.entries(REDUCE)) {
  defineConverter(onnx, (ctx) => {
    const x = ctx.input(0);
    const r = reductionOf(ctx, spec.axesInputSince);
    if (!r) return spec.noop ? spec.noop(ctx, x) : x;
    return (spec.fold && foldKnown(ctx, x, r, spec.fold)) ?? spec.compute(ctx, x, r);
  });
}

// --- ArgMax, ArgMin ---------------------------------------------------------------------

for (const [onnx, kiln] of [
  ['ArgMax', 'argmax'],
  ['ArgMin', 'argmin'],
] as const) {
  defineConverter(onnx, (ctx) => {
    const dims = ctx.shape(0);
    const axis = normAxis(ctx, ctx.attr.int('axis', 0), dims.length);
    const keepdims = ctx.attr.int('keepdims', 1) !== 0;
    const x = ctx.input(0);
    if (ctx.attr.int('select_last_index', 0) === 0) return ctx.op(kiln, [x], { axis, keepdims });
    // Kiln picks the first of equal extremes: the first in the flipped tensor is the last one, at n - 1 - i.
    const i = ctx.op(kiln, [ctx.op('flip', [x], { axis })], { axis, keepdims });
    return ctx.op('subtract', [scalar(ctx, sub(dims[axis]!, 1), 'int64'), i]);
  });
}

// --- CumSum -----------------------------------------------------------------------------

defineConverter('CumSum', (ctx) => {
  const axisValue = ctx.knownInts(1);
  if (!axisValue || axisValue.length !== 1) return ctx.fail('the axis input must be a constant with one element');
  const axis = normAxis(ctx, axisValue[0]!, ctx.rank(0));
  const exclusive = ctx.attr.int('exclusive', 0) !== 0;
  // A reverse scan is the scan of the flipped tensor, flipped back.
  const reverse = ctx.attr.int('reverse', 0) !== 0;
  const flip = (v: Value): Value => (reverse ? ctx.op('flip', [v], { axis }) : v);
  return flip(ctx.op('cumsum', [flip(ctx.input(0))], { axis, exclusive }));
});

// --- normalizations ---------------------------------------------------------------------

defineConverter('LpNormalization', (ctx) => {
  const x = ctx.input(0);
  const axis = normAxis(ctx, ctx.attr.int('axis', -1), ctx.rank(0));
  const p = ctx.attr.int('p', 2);
  const r = { axis: [axis], keepdims: true };
  let norm: Value;
  if (p === 1) norm = ctx.op('sum', [ctx.op('abs', [x])], r);
  else if (p === 2) norm = ctx.op('sqrt', [ctx.op('sum', [square(ctx, x)], r)]);
  else return ctx.fail(`p = ${p} is not supported (ONNX allows only 1 and 2)`);
  return ctx.op('divide', [x, norm]);
});

defineConverter('MeanVarianceNormalization', (ctx) => {
  const x = ctx.input(0);
  const axes = normAxes(ctx, ctx.attr.ints('axes', [0, 2, 3]), ctx.rank(0));
  const r = { axis: axes, keepdims: true };
  const centered = ctx.op('subtract', [x, ctx.op('mean', [x], r)]);
  // ONNX's function body divides by the standard deviation plus 1e-9.
  const std = ctx.op('std', [x], r);
  return ctx.op('divide', [centered, ctx.op('add', [std, scalar(ctx, 1e-9, ctx.dtype(0))])]);
});
