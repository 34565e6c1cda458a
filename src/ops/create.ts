/**
 * Operators that create tensors: from a shape (full, zeros, ones, eye), like
 * another tensor (full_like, zeros_like, ones_like), ranges (arange), masks
 * of a tensor (tril, triu) and one_hot.
 */
import { z } from 'zod';
import { type DataType, INDEX_DTYPE, isBool, isFloat, isInt } from '../ir/dtype.ts';
import { add, castIfNeeded, floordiv, gt, lt, max, type PrimExpr, sub } from '../ir/prim/expr.ts';
import type { PrimStructInfo, ShapeStructInfo, TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, int, normAxis, outTensor, provablyEqual, requireDtype, requireRank, requireSizes, sameShape } from './shape.ts';

function fromShape(ctx: InferContext, shape: ShapeStructInfo, dtype: DataType): TensorStructInfo {
  requireSizes(ctx, 'shape', shape);
  return outTensor(shape.values ?? shape.ndim, dtype);
}

defineOp({
  name: 'full',
  args: [
    { name: 'shape', kind: 'shape' },
    { name: 'fill_value', kind: 'scalar' },
  ],
  attrs: z.object({ dtype: A.optionalDtype() }),
  infer: ({ shape, fill_value }, attrs, ctx) => fromShape(ctx, shape, attrs.dtype ?? fill_value.dtype),
});

for (const name of ['zeros', 'ones']) {
  defineOp({
    name,
    args: [{ name: 'shape', kind: 'shape' }],
    attrs: z.object({ dtype: A.dtype('float32') }),
    infer: ({ shape }, attrs, ctx) => fromShape(ctx, shape, attrs.dtype),
  });
}

defineOp({
  name: 'full_like',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'fill_value', kind: 'scalar' },
  ],
  attrs: z.object({ dtype: A.optionalDtype() }),
  infer: ({ data }, attrs) => sameShape(data, attrs.dtype ?? data.dtype),
});

for (const name of ['zeros_like', 'ones_like']) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ dtype: A.optionalDtype() }),
    infer: ({ data }, attrs) => sameShape(data, attrs.dtype ?? data.dtype),
  });
}

/** A literal number of a prim value, when it has one. */
function literal(p: PrimStructInfo): number | undefined {
  const v = p.value;
  return v?.kind === 'int' || v?.kind === 'float' ? v.value : undefined;
}

/**
 * arange(start, end, step): ceil((end - start) / step) elements, none when
 * that is negative. Integer bounds may be symbolic (the length is then an
 * expression when the sign of step is known); float bounds must be literals.
 */
defineOp({
  name: 'arange',
  args: [
    { name: 'start', kind: 'prim' },
    { name: 'end', kind: 'prim' },
    { name: 'step', kind: 'prim' },
  ],
  attrs: z.object({ dtype: A.optionalDtype() }),
  infer: ({ start, end, step }, attrs, ctx) => {
    const named = [
      ['start', start],
      ['end', end],
      ['step', step],
    ] as const;
    for (const [name, p] of named) requireDtype(ctx, name, p, (d) => !isBool(d), 'a number');
    const float = named.find(([, p]) => isFloat(p.dtype))?.[1].dtype;
    const dtype = attrs.dtype ?? float ?? INDEX_DTYPE;
    if (literal(step) === 0) ctx.shapeError('step is 0');
    if (float !== undefined) {
      const [s, e, st] = named.map(([, p]) => literal(p));
      if (s === undefined || e === undefined || st === undefined) return outTensor(1, dtype);
      return outTensor([int(Math.max(Math.ceil((e - s) / st), 0))], dtype);
    }
    const [s, e, st] = named.map(([, p]) => (p.value && isInt(p.value.dtype) ? castIfNeeded(INDEX_DTYPE, p.value) : undefined));
    if (!s || !e || !st) return outTensor(1, dtype);
    return outTensor(intRangeLength(ctx, s, e, st) ?? 1, dtype);
  },
});

function intRangeLength(ctx: InferContext, s: PrimExpr, e: PrimExpr, st: PrimExpr): PrimExpr[] | undefined {
  const an = ctx.analyzer;
  if (provablyEqual(an, st, int(0))) ctx.shapeError('step is 0');
  // ceildiv(span, |step|) with a positive divisor, so floordiv rounds the right way.
  const count = (span: PrimExpr, by: PrimExpr): PrimExpr[] => [max(floordiv(add(span, sub(by, 1)), by), 0)];
  if (an.canProve(gt(st, 0))) return count(sub(e, s), st);
  if (an.canProve(lt(st, 0))) return count(sub(s, e), sub(0, st));
  return undefined;
}

for (const name of ['tril', 'triu']) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ k: z.int().default(0) }),
    infer: ({ data }, _attrs, ctx) => {
      requireRank(ctx, 'data', data, { min: 2 });
      return sameShape(data);
    },
  });
}

/** eye(n, m): an n x m matrix with ones on diagonal k; m defaults to n. */
defineOp({
  name: 'eye',
  args: [
    { name: 'n', kind: 'prim' },
    { name: 'm', kind: 'prim', optional: true },
  ],
  attrs: z.object({ k: z.int().default(0), dtype: A.dtype('float32') }),
  infer: ({ n, m }, attrs, ctx) => {
    requireDtype(ctx, 'n', n, isInt, 'an integer type');
    if (m) requireDtype(ctx, 'm', m, isInt, 'an integer type');
    const rows = n.value && castIfNeeded(INDEX_DTYPE, n.value);
    const cols = m ? m.value && castIfNeeded(INDEX_DTYPE, m.value) : rows;
    return outTensor(rows && cols ? [rows, cols] : 2, attrs.dtype);
  },
});

/** one_hot: a new axis of size depth at `axis`; on_value where the index matches, off_value elsewhere. */
defineOp({
  name: 'one_hot',
  args: [
    { name: 'indices', kind: 'tensor' },
    { name: 'on_value', kind: 'prim' },
    { name: 'off_value', kind: 'prim' },
  ],
  attrs: z.object({ depth: z.int().min(1), axis: A.axis(-1) }),
  infer: ({ indices, on_value, off_value }, attrs, ctx) => {
    requireDtype(ctx, 'indices', indices, isInt, 'an integer type');
    if (on_value.dtype !== off_value.dtype) {
      ctx.dtypeError(`argument 'on_value' has dtype ${on_value.dtype} but argument 'off_value' has dtype ${off_value.dtype}`);
    }
    if (indices.ndim < 0) return outTensor(-1, on_value.dtype, indices);
    const axis = normAxis(ctx, attrs.axis, indices.ndim + 1, 'result', ` of one-hot encoding ${argText('indices', indices)}`);
    if (!indices.shape) return outTensor(indices.ndim + 1, on_value.dtype, indices);
    const out = [...indices.shape];
    out.splice(axis, 0, int(attrs.depth));
    return outTensor(out, on_value.dtype, indices);
  },
});
