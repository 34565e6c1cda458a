/**
 * Reductions over a list of axes (or all of them), with or without keeping
 * the reduced dims as 1, the arg-reductions, and the cumulative scans.
 */
import { z } from 'zod';
import { type DataType, isFloat } from '../ir/dtype.ts';
import { product } from '../ir/prim/expr.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { int, normAxes, normAxis, outTensor, requireDtype } from './shape.ts';

/** The result of reducing `data` over `axes` (null: every axis). */
function reduced(
  ctx: InferContext,
  data: TensorStructInfo,
  axes: readonly number[] | null,
  keepdims: boolean,
  dtype: DataType,
): TensorStructInfo {
  if (axes === null) {
    if (!keepdims) return outTensor([], dtype, data);
    return outTensor(data.ndim < 0 ? -1 : Array.from({ length: data.ndim }, () => int(1)), dtype, data);
  }
  if (data.ndim < 0) return outTensor(-1, dtype, data);
  const set = new Set(normAxes(ctx, axes, data.ndim, 'data'));
  const ndim = keepdims ? data.ndim : data.ndim - set.size;
  if (!data.shape) return outTensor(ndim, dtype, data);
  const out = data.shape.flatMap((d, i) => (!set.has(i) ? [d] : keepdims ? [int(1)] : []));
  return outTensor(out, dtype, data);
}

const REDUCTIONS: Readonly<Record<string, 'any' | 'float'>> = {
  sum: 'any',
  prod: 'any',
  max: 'any',
  min: 'any',
  mean: 'any',
  variance: 'float',
  std: 'float',
};

for (const [name, accepts] of Object.entries(REDUCTIONS)) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ axis: A.optionalAxes(), keepdims: A.flag(false) }),
    infer: ({ data }, attrs, ctx) => {
      if (accepts === 'float') requireDtype(ctx, 'data', data, isFloat, 'a float type');
      return reduced(ctx, data, attrs.axis, attrs.keepdims, data.dtype);
    },
  });
}

for (const name of ['argmax', 'argmin']) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ axis: A.optionalAxis(), keepdims: A.flag(false) }),
    // Indices are int64, as in Relax.
    infer: ({ data }, attrs, ctx) => reduced(ctx, data, attrs.axis === null ? null : [attrs.axis], attrs.keepdims, 'int64'),
  });
}

/** Scans keep the shape along an axis; no axis scans the flattened tensor, as numpy does. */
for (const name of ['cumsum', 'cumprod']) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ axis: A.optionalAxis(), dtype: A.optionalDtype(), exclusive: A.flag(false) }),
    infer: ({ data }, attrs, ctx) => {
      const dtype = attrs.dtype ?? data.dtype;
      if (attrs.axis === null) return outTensor(data.shape ? [product(data.shape)] : 1, dtype, data);
      if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
      return outTensor(data.shape ?? data.ndim, dtype, data);
    },
  });
}
