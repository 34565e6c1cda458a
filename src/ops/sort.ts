/** Sorting along an axis: sort, argsort and topk. */
import { z } from 'zod';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import { argText, fmtExpr, int, normAxis, outTensor, sameShape } from './shape.ts';
import { tupleSI } from '../ir/graph/struct-info.ts';

defineOp({
  name: 'sort',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: A.axis(-1), descending: A.flag(false) }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
    return sameShape(data);
  },
});

defineOp({
  name: 'argsort',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: A.axis(-1), descending: A.flag(false), dtype: A.dtype('int32') }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
    return sameShape(data, attrs.dtype);
  },
});

/**
 * topk: the k largest (or smallest) along `axis`; k < 1 keeps them all, as in
 * Relax. ret_type 'both' gives the tuple (values, indices).
 */
defineOp({
  name: 'topk',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({
    k: z.int().default(1),
    axis: A.axis(-1),
    ret_type: A.choice(['both', 'values', 'indices'], 'both'),
    largest: A.flag(true),
    dtype: A.dtype('int32'),
  }),
  infer: ({ data }, attrs, ctx) => {
    let shape = data.shape;
    if (data.ndim >= 0) {
      const axis = normAxis(ctx, attrs.axis, data.ndim, 'data');
      const size = shape?.[axis];
      if (size && attrs.k >= 1 && ctx.analyzer.proveLess(size, int(attrs.k))) {
        ctx.shapeError(`k ${attrs.k} exceeds the size ${fmtExpr(size)} of axis ${axis} of ${argText('data', data)}`);
      }
      if (shape && attrs.k >= 1) shape = shape.map((d, i) => (i === axis ? int(attrs.k) : d));
    }
    const values = outTensor(shape ?? data.ndim, data.dtype, data);
    const indices = outTensor(shape ?? data.ndim, attrs.dtype, data);
    if (attrs.ret_type === 'values') return values;
    if (attrs.ret_type === 'indices') return indices;
    return tupleSI([values, indices]);
  },
});
