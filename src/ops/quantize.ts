/**
 * Linear quantization, as ONNX defines it:
 *
 *   quantize(x, scale, zero_point)    saturate(round_half_even(x / scale) + zero_point), an integer dtype
 *   dequantize(x, scale, zero_point)  (x - zero_point) * scale, the scale's dtype
 *
 * The scale and zero point are one value (a 0-d or 1-element tensor) or one per
 * index of `axis` (1-D). `dequantize_blockwise` unpacks the block-wise n-bit
 * weights of com.microsoft's MatMulNBits into the transposed [K, N] matrix a
 * matmul takes; fused into that matmul, the weights are dequantized in the kernel.
 */
import { z } from 'zod';
import { type DataType, isFloat } from '../ir/dtype.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, constValue, fmtExpr, int, normAxis, outTensor, provablyDifferent, requireDtype, sameShape } from './shape.ts';

/** The integer dtypes a quantized tensor may have. */
export const QUANT_DTYPES: readonly DataType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32'];

/** Checks that `p` (a scale or zero point) is one value or one per index of `axis` of `x`. */
function checkParam(ctx: InferContext, name: string, p: TensorStructInfo, x: TensorStructInfo, axis: number): void {
  if (p.ndim < 0) return;
  if (p.ndim > 1) ctx.shapeError(`expected ${argText(name, p)} to be one value or 1-D (one per index of the axis)`);
  if (p.ndim === 0 || !p.shape || !x.shape || x.ndim < 0) return;
  const n = p.shape[0]!;
  if (!provablyDifferent(ctx.analyzer, n, int(1))) return; // one value: the axis plays no part
  const d = x.shape[normAxis(ctx, axis, x.ndim, 'x')]!;
  if (provablyDifferent(ctx.analyzer, n, d))
    ctx.shapeError(`${argText(name, p)} has ${fmtExpr(n)} values but axis ${axis} of ${argText('x', x)} has ${fmtExpr(d)}`);
}

const quantArgs = [
  { name: 'x', kind: 'tensor' },
  { name: 'scale', kind: 'tensor' },
  { name: 'zero_point', kind: 'tensor', optional: true },
] as const;

defineOp({
  name: 'quantize',
  args: quantArgs,
  attrs: z.object({ axis: A.axis(1), out_dtype: A.dtype('uint8') }),
  infer: ({ x, scale, zero_point }, attrs, ctx) => {
    requireDtype(ctx, 'x', x, (d) => isFloat(d) || d === 'int32', 'a float or int32');
    requireDtype(ctx, 'scale', scale, isFloat, 'a float');
    const out = attrs.out_dtype;
    if (!QUANT_DTYPES.includes(out)) ctx.dtypeError(`out_dtype ${out} is not one of ${QUANT_DTYPES.join(', ')}`);
    if (zero_point && zero_point.dtype !== out)
      ctx.dtypeError(`argument 'zero_point' has dtype ${zero_point.dtype} but out_dtype is ${out}`);
    checkParam(ctx, 'scale', scale, x, attrs.axis);
    if (zero_point) checkParam(ctx, 'zero_point', zero_point, x, attrs.axis);
    return sameShape(x, out);
  },
});

defineOp({
  name: 'dequantize',
  args: quantArgs,
  attrs: z.object({ axis: A.axis(1) }),
  infer: ({ x, scale, zero_point }, attrs, ctx) => {
    requireDtype(ctx, 'x', x, (d) => QUANT_DTYPES.includes(d), QUANT_DTYPES.join(', '));
    requireDtype(ctx, 'scale', scale, isFloat, 'a float');
    if (zero_point && zero_point.dtype !== x.dtype)
      ctx.dtypeError(`argument 'zero_point' has dtype ${zero_point.dtype} but argument 'x' has dtype ${x.dtype}`);
    checkParam(ctx, 'scale', scale, x, attrs.axis);
    if (zero_point) checkParam(ctx, 'zero_point', zero_point, x, attrs.axis);
    return sameShape(x, scale.dtype);
  },
});

defineOp({
  name: 'dequantize_blockwise',
  args: [
    { name: 'b', kind: 'tensor' },
    { name: 'scales', kind: 'tensor' },
    { name: 'zero_points', kind: 'tensor', optional: true },
  ],
  attrs: z.object({
    k: z.int().positive(),
    n: z.int().positive(),
    bits: z.union([z.literal(2), z.literal(4), z.literal(8)]).default(4),
    block_size: z.int().min(16),
  }),
  infer: ({ b, scales, zero_points }, attrs, ctx) => {
    requireDtype(ctx, 'b', b, (d) => d === 'uint8', 'uint8 (packed weights)');
    requireDtype(ctx, 'scales', scales, isFloat, 'a float');
    const packed = zero_points?.dtype === 'uint8';
    if (zero_points && !packed && zero_points.dtype !== scales.dtype)
      ctx.dtypeError(`argument 'zero_points' has dtype ${zero_points.dtype}, expected uint8 (packed) or ${scales.dtype}`);
    const blocks = Math.ceil(attrs.k / attrs.block_size);
    const expect = (name: string, t: TensorStructInfo, want: readonly number[]): void => {
      const dims = t.shape?.map(constValue);
      if (t.ndim >= 0 && (t.ndim !== want.length || (dims && dims.some((d, i) => d !== undefined && d !== want[i]))))
        ctx.shapeError(`expected ${argText(name, t)} to have shape (${want.join(', ')})`);
    };
    expect('b', b, [attrs.n, blocks, (attrs.block_size * attrs.bits) / 8]);
    expect('scales', scales, [attrs.n, blocks]);
    if (zero_points) expect('zero_points', zero_points, [attrs.n, packed ? Math.ceil((blocks * attrs.bits) / 8) : blocks]);
    return outTensor([int(attrs.k), int(attrs.n)], scales.dtype, b);
  },
});
