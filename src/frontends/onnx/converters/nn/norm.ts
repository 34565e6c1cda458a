/**
 * Normalizations: BatchNormalization (inference, and training_mode's
 * outputs), InstanceNormalization,
 * LayerNormalization, GroupNormalization and LRN.
 * Kiln's normalizations take their parameters in the data's dtype, so the
 * ONNX ones that may differ (BatchNormalization's statistics) are cast.
 */
import { floordiv, type PrimExpr, product } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { dtypeOfElemType, elemTypeName } from '../../tensor.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { normAxis } from '../shape.ts';
import { castTo, idx, onlyFirstOutputs, reshape, requested, scalar } from './common.ts';

defineConverter('BatchNormalization', (ctx) => {
  if (ctx.opset >= 14 && ctx.attr.int('training_mode', 0) === 1) return batchStatistics(ctx);
  if (ctx.opset < 9 && ctx.attr.int('spatial', 1) === 0) {
    return ctx.fail('spatial 0 (statistics per element rather than per channel) is not supported');
  }
  onlyFirstOutputs(ctx, 1, 'the updated running statistics are outputs of training');
  const x = ctx.input(0);
  const params = [1, 2, 3, 4].map((i) => castTo(ctx, ctx.input(i), ctx.dtype(0)));
  return ctx.op('batch_norm', [x, ...params], { axis: 1, epsilon: ctx.attr.float('epsilon', 1e-5) });
});

/**
 * training_mode 1: Y normalized with the batch's own mean and (population)
 * variance per channel; the running mean and variance outputs, when used,
 * are the inputs' moved towards the batch's by 1 - momentum, in the
 * statistics' dtype.
 */
function batchStatistics(ctx: NodeContext): (Value | undefined)[] {
  const x = ctx.input(0);
  const rank = ctx.rank(0);
  if (rank < 2) return ctx.fail(`an input of rank ${rank} has no channel axis`);
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const mean = ctx.op('mean', [x], { axis: axes });
  const variance = ctx.op('variance', [x], { axis: axes });
  const [scale, bias] = [1, 2].map((i) => castTo(ctx, ctx.input(i), ctx.dtype(0)));
  const y = ctx.op('batch_norm', [x, scale!, bias!, mean, variance], { axis: 1, epsilon: ctx.attr.float('epsilon', 1e-5) });
  const momentum = ctx.attr.float('momentum', 0.9);
  const running = (i: number, batch: Value): Value => {
    const dtype = ctx.dtype(i);
    const kept = ctx.op('multiply', [ctx.input(i), scalar(ctx, momentum, dtype)]);
    return ctx.op('add', [kept, ctx.op('multiply', [castTo(ctx, batch, dtype), scalar(ctx, 1 - momentum, dtype)])]);
  };
  return [y, requested(ctx, 1) ? running(3, mean) : undefined, requested(ctx, 2) ? running(4, variance) : undefined];
}

defineConverter('InstanceNormalization', (ctx) => {
  if (ctx.rank(0) < 3) return ctx.fail(`an input of rank ${ctx.rank(0)} has no spatial dims to normalize over`);
  const [scale, bias] = [1, 2].map((i) => castTo(ctx, ctx.input(i), ctx.dtype(0)));
  return ctx.op('instance_norm', [ctx.input(0), scale!, bias!], { channel_axis: 1, epsilon: ctx.attr.float('epsilon', 1e-5) });
});

/** `p` with exactly the dims `dims` (ONNX lets a parameter broadcast to them). */
function fitted(ctx: NodeContext, i: number, dims: readonly PrimExpr[]): Value {
  const p = castTo(ctx, ctx.input(i), ctx.dtype(0));
  const shape = ctx.shape(i);
  if (shape.length === dims.length && shape.every((d, k) => ctx.analyzer.proveEqual(d, dims[k]!))) return p;
  return ctx.op('broadcast_to', [p, ctx.shapeArg(dims)]);
}

defineConverter('LayerNormalization', (ctx) => {
  const x = ctx.input(0);
  const rank = ctx.rank(0);
  const axis = normAxis(ctx, ctx.attr.int('axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const epsilon = ctx.attr.float('epsilon', 1e-5);
  const dims = ctx.shape(0).slice(axis);
  const scale = fitted(ctx, 1, dims);
  // Without B, centering is off and the beta argument is never read.
  const bias = ctx.has(2) ? fitted(ctx, 2, dims) : scale;
  const y = ctx.op('layer_norm', [x, scale, bias], { axes, epsilon, center: ctx.has(2) });
  if (!requested(ctx, 1) && !requested(ctx, 2)) return y;
  // Mean and InvStdDev, computed in the stash type.
  const stash = ctx.attr.int('stash_type', 1);
  const dtype = dtypeOfElemType(stash);
  if (!dtype) return ctx.fail(`stash_type ${elemTypeName(stash)} is not supported`);
  const xs = castTo(ctx, x, dtype);
  const mean = ctx.op('mean', [xs], { axis: axes, keepdims: true });
  const variance = ctx.op('variance', [xs], { axis: axes, keepdims: true });
  const invStd = ctx.op('rsqrt', [ctx.op('add', [variance, scalar(ctx, epsilon, dtype)])]);
  return [y, mean, invStd];
});

defineConverter('GroupNormalization', (ctx) => {
  const groups = ctx.attr.int('num_groups');
  const dims = ctx.shape(0);
  if (dims.length < 3) return ctx.fail(`an input of rank ${dims.length} has no spatial dims to normalize over`);
  const channels = dims[1]!;
  const perChannel = (i: number): Value => {
    const p = castTo(ctx, ctx.input(i), ctx.dtype(0));
    // Opset 18 gives one scale and bias per group (opset 21, per channel): each repeats over its group's channels.
    if (ctx.opset >= 21 || ctx.analyzer.proveEqual(ctx.shape(i)[0]!, channels)) return p;
    const spread = ctx.op('broadcast_to', [
      reshape(ctx, p, [groups, 1]),
      ctx.shapeArg([idx(groups), ctx.simplify(floordiv(channels, groups))]),
    ]);
    return reshape(ctx, spread, [channels]);
  };
  return ctx.op('group_norm', [ctx.input(0), perChannel(1), perChannel(2)], {
    num_groups: groups,
    channel_axis: 1,
    epsilon: ctx.attr.float('epsilon', 1e-5),
  });
});

/**
 * LRN: x / (bias + alpha / size * s)^beta, s the sum of squares over a
 * window of `size` channels around each one. The window sum is an average
 * pool over the channels (as the height of an N1C(rest) view) that counts
 * the padding, times size, which the alpha / size cancels.
 */
defineConverter('LRN', (ctx) => {
  const size = ctx.attr.int('size');
  const alpha = ctx.attr.float('alpha', 1e-4);
  const beta = ctx.attr.float('beta', 0.75);
  const bias = ctx.attr.float('bias', 1);
  const x = ctx.input(0);
  const dtype = ctx.dtype(0);
  const dims = ctx.shape(0);
  if (dims.length < 2) return ctx.fail(`an input of rank ${dims.length} has no channel axis`);
  const view = [dims[0]!, idx(1), dims[1]!, product(dims.slice(2))];
  const squares = reshape(ctx, ctx.op('multiply', [x, x]), view);
  const avg = ctx.op('avg_pool2d', [squares], {
    pool_size: [size, 1],
    padding: [Math.floor((size - 1) / 2), 0, Math.ceil((size - 1) / 2), 0],
    count_include_pad: true,
  });
  const scaled = ctx.op('add', [
    ctx.op('multiply', [reshape(ctx, avg, dims), scalar(ctx, alpha, dtype)]),
    scalar(ctx, bias, dtype),
  ]);
  const denominator = beta === 1 ? scaled : ctx.op('power', [scaled, scalar(ctx, beta, dtype)]);
  return ctx.op('divide', [x, denominator]);
});
