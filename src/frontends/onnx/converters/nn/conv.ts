/**
 * Conv, ConvTranspose and ConvInteger on Kiln's conv1d / conv2d / conv3d and
 * their transposed forms (NCW / NCHW / NCDHW data, OIW / OIHW / OIDHW
 * weights, IOW / IOHW / IODHW for the transposed ones).
 */
import type { PrimExpr } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { centered, idx, reshape, staticDims } from './common.ts';
import { kernelOf, spatialInts, windowPads } from './window.ts';

/** The number of spatial dims of input 0, which must be one that Kiln's convolutions support. */
function spatialRank(ctx: NodeContext, allowed: readonly number[]): number {
  const nd = ctx.rank(0) - 2;
  if (!allowed.includes(nd)) {
    const what = nd < 1 ? `an input of rank ${ctx.rank(0)}` : `${nd}-D convolutions`;
    return ctx.fail(
      `${what} ${nd < 1 ? 'cannot be convolved' : 'are not supported'}; Kiln convolves ${allowed.join('-D and ')}-D inputs`,
    );
  }
  return nd;
}

/** y + bias, the bias having one value per channel (axis 1). */
function addBias(ctx: NodeContext, y: Value, bias: Value, nd: number): Value {
  const b = reshape(ctx, bias, [ctx.shape(2)[0]!, ...Array.from({ length: nd }, () => 1)]);
  return ctx.op('add', [y, b]);
}

/** Conv (and ConvInteger, QLinearConv once their zero points are subtracted): x and w have the shapes of input 0 and input `wIndex`. */
export function convolve(ctx: NodeContext, x: Value, w: Value, wIndex = 1): Value {
  const nd = spatialRank(ctx, [1, 2, 3]);
  const strides = spatialInts(ctx, 'strides', nd, 1);
  const dilation = spatialInts(ctx, 'dilations', nd, 1);
  const kernel = kernelOf(ctx, ctx.shape(wIndex).slice(2));
  const padding = windowPads(ctx, ctx.shape(0).slice(2), kernel, strides, dilation);
  return ctx.op(`conv${nd}d`, [x, w], { strides, padding, dilation, groups: ctx.attr.int('group', 1) });
}

defineConverter('Conv', (ctx) => {
  const y = convolve(ctx, ctx.input(0), ctx.input(1));
  return ctx.has(2) ? addBias(ctx, y, ctx.input(2), ctx.rank(0) - 2) : y;
});

defineConverter('ConvInteger', (ctx) => {
  const nd = ctx.rank(0) - 2;
  const x = centered(ctx, 0, 2, (n) => [n]);
  // The weight's zero point may be per output channel.
  const w = centered(ctx, 1, 3, (n) => [n, ...Array.from({ length: nd + 1 }, () => idx(1))]);
  return convolve(ctx, x, w);
});

/** A transposed convolution's padding, and the zeros it leaves to add at the end of each spatial dim. */
interface TransposePadding {
  readonly pads: number[];
  readonly extra: number[];
}

/**
 * The padding of a transposed convolution. Given output_shape, the padding
 * is what makes the output that size, the larger half at the end with
 * SAME_UPPER and at the beginning otherwise (the spec's rule); an output
 * larger than the convolution makes gets zeros at the end of each dim (no
 * input reaches there). SAME without output_shape makes the output
 * in * stride, whatever the input size.
 */
function transposePadding(
  ctx: NodeContext,
  inDims: readonly PrimExpr[],
  kernel: readonly number[] | undefined,
  strides: readonly number[],
  dilations: readonly number[],
  outputPadding: readonly number[],
): TransposePadding {
  const nd = inDims.length;
  const autoPad = ctx.attr.string('auto_pad', 'NOTSET');
  const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
  const shape = ctx.attr.has('output_shape') ? ctx.attr.ints('output_shape').slice(-nd) : undefined;
  const noExtra = Array.from({ length: nd }, () => 0);
  if (!shape && !same) return { pads: windowPads(ctx, inDims, kernel, strides, dilations), extra: noExtra };
  if (!kernel) return ctx.fail('output_shape and SAME padding need kernel_shape or a weight with static spatial dims');
  if (shape && shape.length !== nd) return ctx.fail(`output_shape has ${shape.length} values for ${nd} spatial dims`);
  const before: number[] = [];
  const after: number[] = [];
  const extra: number[] = [];
  for (let d = 0; d < nd; d++) {
    // Unpadded, the output has (in - 1) * stride + output_padding + (k - 1) * dilation + 1 elements.
    const grow = outputPadding[d]! + (kernel[d]! - 1) * dilations[d]! + 1 - strides[d]!;
    let total = Math.max(0, grow);
    if (shape) {
      const n = staticDims(ctx, [inDims[d]!])?.[0];
      if (n === undefined) return ctx.fail(`output_shape needs a static size of spatial dim ${d}, which is symbolic`);
      total = n * strides[d]! + grow - shape[d]!;
    }
    extra.push(Math.max(0, -total));
    total = Math.max(0, total);
    const half = Math.floor(total / 2);
    before.push(autoPad === 'SAME_UPPER' ? half : total - half);
    after.push(total - before[d]!);
  }
  return { pads: [...before, ...after], extra };
}

defineConverter('ConvTranspose', (ctx) => {
  const nd = spatialRank(ctx, [1, 2, 3]);
  const strides = spatialInts(ctx, 'strides', nd, 1);
  const dilation = spatialInts(ctx, 'dilations', nd, 1);
  const outputPadding = spatialInts(ctx, 'output_padding', nd, 0);
  const kernel = kernelOf(ctx, ctx.shape(1).slice(2));
  const { pads, extra } = transposePadding(ctx, ctx.shape(0).slice(2), kernel, strides, dilation, outputPadding);
  const attrs = { strides, padding: pads, output_padding: outputPadding, dilation, groups: ctx.attr.int('group', 1) };
  let y = ctx.op(`conv${nd}d_transpose`, [ctx.input(0), ctx.input(1)], attrs);
  if (extra.some((e) => e > 0)) y = ctx.op('pad', [y], { pad_width: [0, 0, 0, 0, ...extra.flatMap((e) => [0, e])] });
  return ctx.has(2) ? addBias(ctx, y, ctx.input(2), nd) : y;
});
