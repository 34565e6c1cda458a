/**
 * Pooling: MaxPool (with its indices), AveragePool and LpPool on Kiln's 1-D, 2-D and 3-D pools,
 * the global pools as reductions over every spatial dim (any rank), and
 * MaxUnpool as a scatter into zeros.
 *
 * Kiln's pool output size is ONNX's: floor (or with ceil_mode, ceil) of
 * (in + pads - dilation * (k - 1) - 1) / stride, plus 1.
 */
import { add, mul, product, sub } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { castTo, dtypeOf, requested, reshape, scalar, staticDims } from './common.ts';
import { spatialInts, windowPads } from './window.ts';

interface Window {
  readonly nd: number;
  readonly kernel: number[];
  readonly strides: number[];
  readonly pads: number[];
  readonly dilations: number[];
}

function poolWindow(ctx: NodeContext): Window {
  const dims = ctx.shape(0);
  const nd = dims.length - 2;
  if (nd < 1 || nd > 3) {
    return ctx.fail(
      nd < 1
        ? `an input of rank ${dims.length} has no spatial dims`
        : `${nd}-D pooling is not supported; Kiln pools 1-D, 2-D and 3-D inputs`,
    );
  }
  if (!ctx.attr.has('kernel_shape')) return ctx.fail('kernel_shape is required');
  const kernel = spatialInts(ctx, 'kernel_shape', nd, 0);
  const strides = spatialInts(ctx, 'strides', nd, 1);
  const dilations = spatialInts(ctx, 'dilations', nd, 1);
  return { nd, kernel, strides, dilations, pads: windowPads(ctx, dims.slice(2), kernel, strides, dilations) };
}

function pool(ctx: NodeContext, kind: 'max' | 'avg', x: Value, w: Window, countIncludePad: boolean): Value {
  return ctx.op(`${kind}_pool${w.nd}d`, [x], {
    pool_size: w.kernel,
    strides: w.strides,
    padding: w.pads,
    dilation: w.dilations,
    ceil_mode: ctx.attr.int('ceil_mode', 0) === 1,
    count_include_pad: countIncludePad,
  });
}

defineConverter('MaxPool', (ctx) => {
  const w = poolWindow(ctx);
  const y = pool(ctx, 'max', ctx.input(0), w, false);
  if (!requested(ctx, 1)) return y;
  // The indices: flat into the input, the spatial part row-major (storage_order 0) or column-major.
  const indices = ctx.op(`max_pool${w.nd}d_indices`, [ctx.input(0)], {
    pool_size: w.kernel,
    strides: w.strides,
    padding: w.pads,
    dilation: w.dilations,
    ceil_mode: ctx.attr.int('ceil_mode', 0) === 1,
    index_order: ctx.attr.int('storage_order', 0) === 1 ? 'column_major' : 'row_major',
  });
  return [y, indices];
});

defineConverter('AveragePool', (ctx) =>
  pool(ctx, 'avg', ctx.input(0), poolWindow(ctx), ctx.attr.int('count_include_pad', 0) === 1),
);

/** |x|^p, and its inverse root, with the cheap forms for p = 1 and 2. */
function lpPower(ctx: NodeContext, x: Value, p: number): Value {
  if (p === 2) return ctx.op('multiply', [x, x]);
  const a = ctx.op('abs', [x]);
  return p === 1 ? a : ctx.op('power', [a, scalar(ctx, p, dtypeOf(x))]);
}

function lpRoot(ctx: NodeContext, s: Value, p: number): Value {
  if (p === 1) return s;
  if (p === 2) return ctx.op('sqrt', [s]);
  return ctx.op('power', [s, scalar(ctx, 1 / p, dtypeOf(s))]);
}

defineConverter('LpPool', (ctx) => {
  const p = ctx.attr.int('p', 2);
  const w = poolWindow(ctx);
  // The sum over a window is its average counting the padding (zeros here) times the window size;
  // a ceil_mode window hanging past the padding would count fewer taps.
  if (ctx.attr.int('ceil_mode', 0) === 1) return ctx.fail('ceil_mode is not supported');
  const x = ctx.input(0);
  const avg = pool(ctx, 'avg', lpPower(ctx, x, p), w, true);
  const size = w.kernel.reduce((a, b) => a * b, 1);
  return lpRoot(ctx, ctx.op('multiply', [avg, scalar(ctx, size, dtypeOf(x))]), p);
});

/** The spatial axes: every axis after N and C. */
function spatialAxes(ctx: NodeContext): number[] {
  const rank = ctx.rank(0);
  if (rank < 3) return ctx.fail(`an input of rank ${rank} has no spatial dims`);
  return Array.from({ length: rank - 2 }, (_, i) => i + 2);
}

defineConverter('GlobalAveragePool', (ctx) => ctx.op('mean', [ctx.input(0)], { axis: spatialAxes(ctx), keepdims: true }));

defineConverter('GlobalMaxPool', (ctx) => ctx.op('max', [ctx.input(0)], { axis: spatialAxes(ctx), keepdims: true }));

defineConverter('GlobalLpPool', (ctx) => {
  const p = ctx.attr.int('p', 2);
  const s = ctx.op('sum', [lpPower(ctx, ctx.input(0), p)], { axis: spatialAxes(ctx), keepdims: true });
  return lpRoot(ctx, s, p);
});

/**
 * MaxUnpool: zeros with each value of X at its index in I, a flat index
 * (batch and channel included) into the pooling's input, whose shape is
 * (in - 1) * stride + k - pads along each spatial dim. A larger
 * output_shape adds zeros at the end of the spatial dims.
 */
defineConverter('MaxUnpool', (ctx) => {
  const dims = ctx.shape(0);
  const nd = dims.length - 2;
  if (!ctx.attr.has('kernel_shape')) return ctx.fail('kernel_shape is required');
  const kernel = spatialInts(ctx, 'kernel_shape', nd, 0);
  const strides = spatialInts(ctx, 'strides', nd, 1);
  const pads = ctx.attr.ints(
    'pads',
    Array.from({ length: 2 * nd }, () => 0),
  );
  const unpooled = [
    ...dims.slice(0, 2),
    ...dims.slice(2).map((d, i) => ctx.simplify(add(mul(sub(d, 1), strides[i]!), kernel[i]! - pads[i]! - pads[nd + i]!))),
  ];
  const x = ctx.input(0);
  const zeros = ctx.op('zeros', [ctx.shapeArg([product(unpooled)])], { dtype: dtypeOf(x) });
  const indices = castTo(ctx, reshape(ctx, ctx.input(1), [product([...ctx.shape(1)])]), 'int64');
  const flat = ctx.op('scatter_elements', [zeros, indices, reshape(ctx, x, [product([...dims])])], { axis: 0 });
  const y = reshape(ctx, flat, unpooled);
  if (!ctx.has(2)) return y;
  const shape = ctx.known(2);
  if (!shape || shape.values.length !== dims.length) {
    return ctx.fail(`the output_shape input must be known at import time and have ${dims.length} values`);
  }
  const grow = shape.values.map((d, i) => staticDims(ctx, [sub(d, unpooled[i]!)])?.[0]);
  if (grow.some((g) => g === undefined || g < 0)) {
    return ctx.fail('output_shape must exceed the unpooled shape by a static amount along each dim');
  }
  if (grow.every((g) => g === 0)) return y;
  return ctx.op('pad', [y], { pad_width: grow.flatMap((g) => [0, g!]) });
});
