/**
 * The quantized operators: QuantizeLinear and DequantizeLinear as Kiln's explicit
 * quantize / dequantize (so fusion can fold a dequantize into the matmul or
 * convolution that reads it), DynamicQuantizeLinear, QLinearMatMul and
 * QLinearConv (integer products in int32, requantized with the multiplier
 * a_scale * b_scale / y_scale as the spec's reference computes it), and
 * com.microsoft's MatMulNBits (block-wise n-bit weights, dequantized into the matmul).
 */
import { type DataType, isFloat } from '../../../ir/dtype.ts';
import type { PrimExpr } from '../../../ir/prim/expr.ts';
import type { NodeContext } from '../context.ts';
import type { Value } from '../values.ts';
import { centered, castTo, dtypeOf, idx, reshape, scalar } from './nn/common.ts';
import { convolve } from './nn/conv.ts';
import { defineConverter } from './registry.ts';

/** A per-axis scale or zero point (1-D of more than one value) must have the length of x's axis. */
function axisAttr(ctx: NodeContext): number {
  if (ctx.attr.int('block_size', 0) !== 0) ctx.fail('blocked quantization (block_size) is not supported');
  return ctx.attr.int('axis', 1);
}

/** Inputs 1 and 2 (scale, optional zero point) of QuantizeLinear / DequantizeLinear. */
function params(ctx: NodeContext): Value[] {
  return ctx.has(2) ? [ctx.input(1), ctx.input(2)] : [ctx.input(1)];
}

defineConverter('QuantizeLinear', (ctx) => {
  const fromAttr = ctx.attr.int('output_dtype', 0);
  if (fromAttr !== 0 && !ctx.has(2)) ctx.fail('output_dtype is not supported; give a zero point of the dtype instead');
  const out: DataType = ctx.has(2) ? ctx.dtype(2) : 'uint8';
  return ctx.op('quantize', [ctx.input(0), ...params(ctx)], { axis: axisAttr(ctx), out_dtype: out });
});

defineConverter('DequantizeLinear', (ctx) => ctx.op('dequantize', [ctx.input(0), ...params(ctx)], { axis: axisAttr(ctx) }));

/**
 * y_scale = (max(0, max x) - min(0, min x)) / 255, y_zero_point = saturate(round(-min / y_scale)),
 * y = saturate(round(x / y_scale) + y_zero_point), in uint8.
 */
defineConverter('DynamicQuantizeLinear', (ctx) => {
  const x = ctx.input(0);
  const dtype = ctx.dtype(0);
  const zero = scalar(ctx, 0, dtype);
  const lo = ctx.op('minimum', [ctx.op('min', [x], { axis: null, keepdims: false }), zero]);
  const hi = ctx.op('maximum', [ctx.op('max', [x], { axis: null, keepdims: false }), zero]);
  const scale = ctx.op('divide', [ctx.op('subtract', [hi, lo]), scalar(ctx, 255, dtype)]);
  const zp = ctx.op('quantize', [ctx.op('negative', [lo]), scale], { out_dtype: 'uint8', axis: 0 });
  return [ctx.op('quantize', [x, scale, zp], { out_dtype: 'uint8', axis: 0 }), scale, zp];
});

/**
 * saturate(round(acc * multiplier) + y_zero_point): int32 products `acc` requantized with
 * multiplier = a_scale * b_scale / y_scale (per output channel when b's scale is), the
 * scale of the result's quantize being 1.
 */
function requantize(ctx: NodeContext, acc: Value, multiplier: Value, yZp: number, axis: number): Value {
  const f = dtypeOf(multiplier);
  const y = ctx.op('multiply', [castTo(ctx, acc, f), multiplier]);
  const args = ctx.has(yZp) ? [y, scalar(ctx, 1, f), ctx.input(yZp)] : [y, scalar(ctx, 1, f)];
  return ctx.op('quantize', args, { out_dtype: ctx.has(yZp) ? ctx.dtype(yZp) : 'uint8', axis });
}

/** a_scale * b_scale / y_scale, the inputs at those indices, with b's scale reshaped by `perChannel` when it has several values. */
function multiplier(ctx: NodeContext, a: number, b: number, y: number, perChannel: (n: PrimExpr) => PrimExpr[]): Value {
  const bs = ctx.shape(b);
  const bScale = bs.length === 1 ? reshape(ctx, ctx.input(b), perChannel(bs[0]!)) : ctx.input(b);
  if (!isFloat(ctx.dtype(a))) ctx.fail(`input ${a} (a scale) has dtype ${ctx.dtype(a)}, expected a float`);
  return ctx.op('divide', [ctx.op('multiply', [ctx.input(a), bScale]), ctx.input(y)]);
}

/** Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point. */
defineConverter('QLinearMatMul', (ctx) => {
  const a = centered(ctx, 0, 2, (m) => [m, idx(1)]);
  const b = centered(ctx, 3, 5, (n) => [n]);
  const acc = ctx.op('matmul', [a, b]);
  return requantize(
    ctx,
    acc,
    multiplier(ctx, 1, 4, 6, (n) => [n]),
    7,
    -1,
  );
});

/** Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32 bias). */
defineConverter('QLinearConv', (ctx) => {
  const nd = ctx.rank(0) - 2;
  const unit = Array.from({ length: nd }, () => idx(1));
  const x = centered(ctx, 0, 2, (n) => [n]);
  const w = centered(ctx, 3, 5, (m) => [m, idx(1), ...unit]);
  let acc = convolve(ctx, x, w, 3);
  if (ctx.has(8)) acc = ctx.op('add', [acc, reshape(ctx, castTo(ctx, ctx.input(8), 'int32'), [ctx.shape(8)[0]!, ...unit])]);
  return requantize(
    ctx,
    acc,
    multiplier(ctx, 1, 4, 6, (m) => [m, ...unit]),
    7,
    1,
  );
});

/**
 * com.microsoft MatMulNBits: A [..., K] times the [K, N] matrix block-wise quantized in
 * B [N, ceil(K / block_size), block_size * bits / 8], with scales and optional zero points
 * per (column, block); the dequantize is an operator of its own, which fusion puts in the matmul.
 */
defineConverter('com.microsoft.MatMulNBits', (ctx) => {
  const k = ctx.attr.int('K');
  const n = ctx.attr.int('N');
  const bits = ctx.attr.int('bits', 4);
  const blockSize = ctx.attr.int('block_size');
  if (ctx.has(4)) ctx.fail('g_idx (input 4) is not supported');
  if (ctx.has(5)) ctx.fail('bias (input 5) is not supported');
  const blocks = Math.ceil(k / blockSize);
  const b = reshape(ctx, ctx.input(1), [n, blocks, (blockSize * bits) / 8]);
  const scales = reshape(ctx, ctx.input(2), [n, blocks]);
  const args = [b, scales];
  if (ctx.has(3)) {
    const packed = ctx.dtype(3) === 'uint8';
    args.push(reshape(ctx, ctx.input(3), [n, packed ? Math.ceil((blocks * bits) / 8) : blocks]));
  }
  const w = ctx.op('dequantize_blockwise', args, { k, n, bits, block_size: blockSize });
  return ctx.op('matmul', [ctx.input(0), castTo(ctx, w, ctx.dtype(0))]);
});
