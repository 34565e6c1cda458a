/**
 * Unary elementwise operators: the result has the shape of the input. They
 * differ only in which dtypes they accept and what dtype they produce, so
 * each is one row of a table; the few with attributes are declared below.
 */
import { z } from 'zod';
import { type DataType, isBool, isFloat, isInt } from '../ir/dtype.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, fmtExpr, int, normAxis, provablyDifferent, requireDtype, requireRank, sameShape } from './shape.ts';

/** What a unary operator accepts, and so what its result dtype is. */
type UnaryClass =
  /** float in, same float out (exp, sigmoid, gelu, ...) */
  | 'float'
  /** any number (not bool) in, same out (abs, negative, relu, ...) */
  | 'number'
  /** integers (or bool) in, same out */
  | 'integer'
  /** anything in, bool out (isnan, logical_not) */
  | 'predicate';

const UNARY: Readonly<Record<string, UnaryClass>> = {
  // As in Relax, transcendental functions and the smooth activations need floats.
  acos: 'float',
  acosh: 'float',
  asin: 'float',
  asinh: 'float',
  atan: 'float',
  atanh: 'float',
  cos: 'float',
  cosh: 'float',
  erf: 'float',
  exp: 'float',
  exp2: 'float',
  expm1: 'float',
  gelu: 'float',
  gelu_tanh: 'float',
  log: 'float',
  log10: 'float',
  log1p: 'float',
  log2: 'float',
  reciprocal: 'float',
  rsqrt: 'float',
  sigmoid: 'float',
  silu: 'float',
  sin: 'float',
  sinh: 'float',
  sqrt: 'float',
  tan: 'float',
  tanh: 'float',
  abs: 'number',
  ceil: 'number',
  floor: 'number',
  negative: 'number',
  relu: 'number',
  round: 'number',
  sign: 'number',
  square: 'number',
  trunc: 'number',
  bitwise_not: 'integer',
  isfinite: 'predicate',
  isinf: 'predicate',
  isnan: 'predicate',
  logical_not: 'predicate',
};

/** The result dtype of a unary operator of class `cls` on `t`; fails on a dtype it does not accept. */
function unaryDtype(ctx: InferContext, cls: UnaryClass, name: string, t: TensorStructInfo): DataType {
  switch (cls) {
    case 'float':
      requireDtype(ctx, name, t, isFloat, 'a float type');
      return t.dtype;
    case 'number':
      requireDtype(ctx, name, t, (d) => !isBool(d), 'a number type (not bool)');
      return t.dtype;
    case 'integer':
      requireDtype(ctx, name, t, (d) => isInt(d) || isBool(d), 'an integer or bool type');
      return t.dtype;
    case 'predicate':
      return 'bool';
  }
}

for (const [name, cls] of Object.entries(UNARY)) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: A.NO_ATTRS_SCHEMA,
    infer: ({ data }, _attrs, ctx) => sameShape(data, unaryDtype(ctx, cls, 'data', data)),
  });
}

// --- elementwise operators with attributes -------------------------------------------

defineOp({
  name: 'astype',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ dtype: A.dtype() }),
  infer: ({ data }, attrs) => sameShape(data, attrs.dtype),
});

defineOp({
  name: 'clip',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ min: z.number(), max: z.number() }).refine((a) => a.min <= a.max, {
    error: 'min must not exceed max',
  }),
  infer: ({ data }, _attrs, ctx) => sameShape(data, unaryDtype(ctx, 'number', 'data', data)),
});

defineOp({
  name: 'leaky_relu',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ alpha: A.num(0.01) }),
  infer: ({ data }, _attrs, ctx) => sameShape(data, unaryDtype(ctx, 'float', 'data', data)),
});

defineOp({
  name: 'elu',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ alpha: A.num(1) }),
  infer: ({ data }, _attrs, ctx) => sameShape(data, unaryDtype(ctx, 'float', 'data', data)),
});

defineOp({
  name: 'softplus',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ beta: A.num(1), threshold: A.num(20) }),
  infer: ({ data }, _attrs, ctx) => sameShape(data, unaryDtype(ctx, 'float', 'data', data)),
});

/** prelu: a learned slope per channel; `alpha` is 1-D with one value per channel of `axis`. */
defineOp({
  name: 'prelu',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'alpha', kind: 'tensor' },
  ],
  attrs: z.object({ axis: A.axis(1) }),
  infer: ({ data, alpha }, attrs, ctx) => {
    const dtype = unaryDtype(ctx, 'float', 'data', data);
    if (alpha.dtype !== dtype) ctx.dtypeError(`argument 'data' has dtype ${dtype} but argument 'alpha' has dtype ${alpha.dtype}`);
    requireRank(ctx, 'alpha', alpha, 1);
    if (data.ndim >= 0) {
      const c = data.shape?.[normAxis(ctx, attrs.axis, data.ndim, 'data')];
      const a = alpha.shape?.[0];
      if (c && a && provablyDifferent(ctx.analyzer, c, a) && provablyDifferent(ctx.analyzer, a, int(1))) {
        ctx.shapeError(`${argText('alpha', alpha)} does not match the ${fmtExpr(c)} channels of ${argText('data', data)}`);
      }
    }
    return sameShape(data, dtype);
  },
});
