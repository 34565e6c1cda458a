/**
 * Convolutions and pooling in channel-first layouts (NCW / NCHW / NCDHW,
 * weights OIW / OIHW / OIDHW, transposed weights IOW / IOHW / IODHW), and pad. Output spatial sizes are
 * symbolic expressions of the input sizes, simplified by the analyzer:
 *   out = floordiv(in + pad_before + pad_after - dilation * (kernel - 1) - 1, stride) + 1
 */
import { z } from 'zod';
import { add, floordiv, floormod, mul, ne, type PrimExpr, sub } from '../ir/prim/expr.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, fmtExpr, int, outTensor, provablyDifferent, requireRank, sameDtype } from './shape.ts';

const DATA_LAYOUT = { 1: 'NCW', 2: 'NCHW', 3: 'NCDHW' } as const;
const KERNEL_LAYOUT = { 1: 'OIW', 2: 'OIHW', 3: 'OIDHW' } as const;

/** The output size of one spatial dim of a sliding window. */
function windowOut(
  i: PrimExpr,
  k: PrimExpr,
  stride: number,
  before: number,
  after: number,
  dilation: number,
  ceil: boolean,
): PrimExpr {
  let num = sub(sub(add(i, before + after), mul(k, dilation)), 1 - dilation);
  // Relax's ceil_mode: round the window count up (the last window may hang over the padding).
  if (ceil) num = add(num, stride - 1);
  return add(floordiv(num, stride), 1);
}

/** Fails when an output size is provably below 1: the (dilated) window does not fit the padded input. */
function checkFits(ctx: InferContext, out: PrimExpr, window: string, data: TensorStructInfo): void {
  if (ctx.analyzer.proveLess(out, int(1))) {
    ctx.shapeError(
      `the ${window} does not fit in the padded input of ${argText('data', data)}: an output size would be ${fmtExpr(ctx.analyzer.simplify(out))}`,
    );
  }
}

function defineConv(nd: 1 | 2 | 3): void {
  defineOp({
    name: `conv${nd}d`,
    args: [
      { name: 'data', kind: 'tensor' },
      { name: 'weight', kind: 'tensor' },
    ],
    attrs: z.object({
      strides: A.spatial(nd, 1, 1),
      padding: A.padding(nd),
      dilation: A.spatial(nd, 1, 1),
      groups: z.int().min(1).default(1),
      data_layout: A.choice([DATA_LAYOUT[nd]], DATA_LAYOUT[nd]),
      kernel_layout: A.choice([KERNEL_LAYOUT[nd]], KERNEL_LAYOUT[nd]),
      out_dtype: A.optionalDtype(),
    }),
    infer: ({ data, weight }, attrs, ctx) => {
      const dtype =
        attrs.out_dtype ??
        sameDtype(ctx, [
          ['data', data],
          ['weight', weight],
        ]);
      requireRank(ctx, 'data', data, nd + 2);
      requireRank(ctx, 'weight', weight, nd + 2);
      if (!data.shape || !weight.shape) return outTensor(nd + 2, dtype, data);
      const an = ctx.analyzer;
      const g = attrs.groups;
      const [n, c] = data.shape;
      const [o, ig] = weight.shape;
      if (provablyDifferent(an, c!, mul(ig!, g))) {
        ctx.shapeError(
          `${argText('data', data)} has ${fmtExpr(c!)} input channels but ${argText('weight', weight)} ` +
            `expects ${fmtExpr(ig!)} x ${g} group${g === 1 ? '' : 's'}`,
        );
      }
      if (an.canProve(ne(floormod(o!, g), 0))) {
        ctx.shapeError(`${argText('weight', weight)} has ${fmtExpr(o!)} output channels, which ${g} groups do not divide`);
      }
      const spatialOut = data.shape.slice(2).map((i, d) => {
        const out = windowOut(
          i,
          weight.shape![2 + d]!,
          attrs.strides[d]!,
          attrs.padding[d]!,
          attrs.padding[nd + d]!,
          attrs.dilation[d]!,
          false,
        );
        checkFits(ctx, out, `kernel of ${argText('weight', weight)}`, data);
        return out;
      });
      return outTensor([n!, o!, ...spatialOut], dtype, data);
    },
  });
}

defineConv(1);
defineConv(2);
defineConv(3);

const TRANSPOSED_KERNEL_LAYOUT = { 1: 'IOW', 2: 'IOHW', 3: 'IODHW' } as const;

/**
 * conv1d_transpose / conv2d_transpose / conv3d_transpose (IOW / IOHW / IODHW weights):
 * out = (in - 1) * stride - pad_before - pad_after + dilation * (k - 1) + output_padding + 1.
 */
function defineConvTranspose(nd: 1 | 2 | 3): void {
  defineOp({
    name: `conv${nd}d_transpose`,
    args: [
      { name: 'data', kind: 'tensor' },
      { name: 'weight', kind: 'tensor' },
    ],
    attrs: z.object({
      strides: A.spatial(nd, 1, 1),
      padding: A.padding(nd),
      output_padding: A.spatial(nd, 0, 0),
      dilation: A.spatial(nd, 1, 1),
      groups: z.int().min(1).default(1),
      data_layout: A.choice([DATA_LAYOUT[nd]], DATA_LAYOUT[nd]),
      kernel_layout: A.choice([TRANSPOSED_KERNEL_LAYOUT[nd]], TRANSPOSED_KERNEL_LAYOUT[nd]),
      out_dtype: A.optionalDtype(),
    }),
    infer: ({ data, weight }, attrs, ctx) => {
      const dtype =
        attrs.out_dtype ??
        sameDtype(ctx, [
          ['data', data],
          ['weight', weight],
        ]);
      requireRank(ctx, 'data', data, nd + 2);
      requireRank(ctx, 'weight', weight, nd + 2);
      for (let d = 0; d < nd; d++) {
        if (attrs.output_padding[d]! >= Math.max(attrs.strides[d]!, attrs.dilation[d]!)) {
          ctx.shapeError(`output_padding ${attrs.output_padding[d]} must be smaller than the stride or the dilation of its dim`);
        }
      }
      if (!data.shape || !weight.shape) return outTensor(nd + 2, dtype, data);
      const [n, c, ...spatial] = data.shape;
      const [i, og, ...k] = weight.shape;
      if (provablyDifferent(ctx.analyzer, c!, i!)) {
        ctx.shapeError(
          `${argText('data', data)} has ${fmtExpr(c!)} input channels but ${argText('weight', weight)} expects ${fmtExpr(i!)}`,
        );
      }
      const spatialOut = spatial.map((x, d) => {
        const out = add(
          sub(mul(sub(x, 1), attrs.strides[d]!), attrs.padding[d]! + attrs.padding[nd + d]!),
          add(mul(sub(k[d]!, 1), attrs.dilation[d]!), attrs.output_padding[d]! + 1),
        );
        checkFits(ctx, out, `padding of the transposed convolution of ${argText('weight', weight)}`, data);
        return out;
      });
      return outTensor([n!, mul(og!, attrs.groups), ...spatialOut], dtype, data);
    },
  });
}

defineConvTranspose(1);
defineConvTranspose(2);
defineConvTranspose(3);

/**
 * max_pool / avg_pool, and max_pool{nd}d_indices: where each maximum lies, as a
 * flat index into the input (batch and channel included; the spatial dims
 * row-major, or column-major with index_order), the first of equal maxima in
 * the window's order (ONNX MaxPool's second output).
 */
function definePool(kind: 'max' | 'avg' | 'max_indices', nd: 1 | 2 | 3): void {
  const indices = kind === 'max_indices';
  const window = {
    pool_size: A.spatial(nd, 1, 1),
    strides: A.spatial(nd, 1, 1),
    padding: A.padding(nd),
    dilation: A.spatial(nd, 1, 1),
    ceil_mode: A.flag(false),
    count_include_pad: A.flag(false),
    layout: A.choice([DATA_LAYOUT[nd]], DATA_LAYOUT[nd]),
  };
  defineOp({
    name: indices ? `max_pool${nd}d_indices` : `${kind}_pool${nd}d`,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: indices
      ? z.object({ ...window, index_order: A.choice(['row_major', 'column_major'], 'row_major') })
      : z.object(window),
    infer: ({ data }, attrs, ctx) => {
      const dtype = indices ? 'int64' : data.dtype;
      requireRank(ctx, 'data', data, nd + 2);
      if (!data.shape) return outTensor(nd + 2, dtype, data);
      const spatialOut = data.shape.slice(2).map((i, d) => {
        const k = attrs.pool_size[d]!;
        const out = windowOut(
          i,
          int(k),
          attrs.strides[d]!,
          attrs.padding[d]!,
          attrs.padding[nd + d]!,
          attrs.dilation[d]!,
          attrs.ceil_mode,
        );
        checkFits(ctx, out, `pool window of size ${k}`, data);
        return out;
      });
      return outTensor([...data.shape.slice(0, 2), ...spatialOut], dtype, data);
    },
  });
}

definePool('max', 1);
definePool('max', 2);
definePool('avg', 1);
definePool('avg', 2);
definePool('max', 3);
definePool('avg', 3);
for (const nd of [1, 2, 3] as const) definePool('max_indices', nd);

/** Adaptive average pooling to a fixed output size; output_size [1, 1] is global average pooling. */
function defineAdaptivePool(nd: 1 | 2): void {
  defineOp({
    name: `adaptive_avg_pool${nd}d`,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({
      output_size: z
        .union([z.int().min(1), z.array(z.int().min(1)).min(1).max(nd)], {
          error: `expected a positive integer or a list of 1 to ${nd} of them`,
        })
        .nullable()
        .default(null)
        .transform((v) =>
          v === null
            ? null
            : typeof v === 'number' || v.length === 1
              ? Array.from({ length: nd }, () => (typeof v === 'number' ? v : v[0]!))
              : v,
        ),
      layout: A.choice([DATA_LAYOUT[nd]], DATA_LAYOUT[nd]),
    }),
    infer: ({ data }, attrs, ctx) => {
      requireRank(ctx, 'data', data, nd + 2);
      if (!data.shape) return outTensor(nd + 2, data.dtype, data);
      // No output size keeps the input size, as in Relax.
      const size = attrs.output_size?.map(int) ?? data.shape.slice(2);
      return outTensor([...data.shape.slice(0, 2), ...size], data.dtype, data);
    },
  });
}

defineAdaptivePool(1);
defineAdaptivePool(2);

/** pad: pad_width holds before and after of each axis in turn: [before_0, after_0, before_1, after_1, ...]. */
defineOp({
  name: 'pad',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({
    pad_width: A.ints(),
    pad_mode: A.choice(['constant', 'reflect', 'replicate', 'circular'], 'constant'),
    pad_value: A.num(0),
  }),
  infer: ({ data }, attrs, ctx) => {
    const w = attrs.pad_width;
    if (w.length % 2 !== 0) ctx.shapeError(`pad_width has ${w.length} values; it needs a before and an after value per axis`);
    if (data.ndim >= 0 && w.length !== 2 * data.ndim) {
      ctx.shapeError(
        `pad_width has ${w.length} values but ${argText('data', data)} needs ${2 * data.ndim} (before and after per axis)`,
      );
    }
    if (!data.shape) return outTensor(w.length / 2, data.dtype, data);
    const out = data.shape.map((d, i) => {
      const o = add(d, w[2 * i]! + w[2 * i + 1]!);
      if (ctx.analyzer.proveLess(o, int(0))) {
        ctx.shapeError(`pad_width ${w[2 * i]}, ${w[2 * i + 1]} crops axis ${i} of ${argText('data', data)} below size 0`);
      }
      return o;
    });
    return outTensor(out, data.dtype, data);
  },
});
