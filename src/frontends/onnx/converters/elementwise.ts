/**
 * Elementwise operators: unary math and activations, binary arithmetic and
 * comparisons with numpy broadcasting, the variadic Min/Max/Sum/Mean,
 * Where and Cast. Binary operators, Cast and Where on values known at import
 * time (shape arithmetic such as `n * 8`) are computed symbolically.
 */
import { type DataType, isFloat, isInt } from '../../../ir/dtype.ts';
import {
  add,
  and,
  binary,
  eq,
  ge,
  gt,
  le,
  lt,
  max,
  min,
  mul,
  ne,
  or,
  type PrimExpr,
  sub,
  truncdiv,
  truncmod,
  floormod,
} from '../../../ir/prim/expr.ts';
import type { NodeContext } from '../context.ts';
import { literal, literalNumber } from '../context.ts';
import { dtypeOfElemType, elemTypeName } from '../tensor.ts';
import type { KnownValue, Value } from '../values.ts';
import { knownSize } from '../values.ts';
import { defineConverter } from './registry.ts';

// --- unary ---------------------------------------------------------------------------

/** ONNX op type → Kiln operator of the same meaning. */
const UNARY: Record<string, string> = {
  Abs: 'abs',
  Acos: 'acos',
  Acosh: 'acosh',
  Asin: 'asin',
  Asinh: 'asinh',
  Atan: 'atan',
  Atanh: 'atanh',
  Ceil: 'ceil',
  Cos: 'cos',
  Cosh: 'cosh',
  Erf: 'erf',
  Exp: 'exp',
  Floor: 'floor',
  IsNaN: 'isnan',
  Log: 'log',
  Neg: 'negative',
  Not: 'logical_not',
  Reciprocal: 'reciprocal',
  Relu: 'relu',
  Round: 'round',
  Sigmoid: 'sigmoid',
  Sign: 'sign',
  Sin: 'sin',
  Sinh: 'sinh',
  Sqrt: 'sqrt',
  Tan: 'tan',
  Tanh: 'tanh',
  BitwiseNot: 'bitwise_not',
};

for (const [onnx, kiln] of Object.entries(UNARY)) {
  defineConverter(onnx, (ctx) => {
    const k = ctx.known(0);
    if (k && onnx === 'Neg') return mapKnown(ctx, k, (x) => mul(x, literal(-1, x.dtype)));
    if (k && onnx === 'Abs' && isInt(k.dtype)) return mapKnown(ctx, k, (x) => max(x, mul(x, literal(-1, x.dtype))));
    return ctx.op(kiln, [ctx.input(0)]);
  });
}

function mapKnown(ctx: NodeContext, k: KnownValue, f: (x: PrimExpr) => PrimExpr): KnownValue {
  return ctx.knownValue(k.dtype, k.shape, k.values.map(f));
}

/** A scalar of the input's dtype. */
function scalar(ctx: NodeContext, v: number, dtype: DataType = ctx.dtype(0)): Value {
  return ctx.knownValue(dtype, [], [literal(v, dtype)]);
}

defineConverter('IsInf', (ctx) => {
  const pos = ctx.attr.int('detect_positive', 1) === 1;
  const neg = ctx.attr.int('detect_negative', 1) === 1;
  const inf = ctx.op('isinf', [ctx.input(0)]);
  if (pos && neg) return inf;
  if (!pos && !neg) return ctx.op('logical_and', [inf, ctx.op('logical_not', [inf])]);
  const side = ctx.op(pos ? 'greater' : 'less', [ctx.input(0), scalar(ctx, 0)]);
  return ctx.op('logical_and', [inf, side]);
});

defineConverter('LeakyRelu', (ctx) => ctx.op('leaky_relu', [ctx.input(0)], { alpha: ctx.attr.float('alpha', 0.01) }));

defineConverter('Elu', (ctx) => ctx.op('elu', [ctx.input(0)], { alpha: ctx.attr.float('alpha', 1) }));

defineConverter('Selu', (ctx) => {
  const alpha = ctx.attr.float('alpha', 1.67326319217681884765625);
  const gamma = ctx.attr.float('gamma', 1.05070102214813232421875);
  return ctx.op('multiply', [ctx.op('elu', [ctx.input(0)], { alpha }), scalar(ctx, gamma)]);
});

defineConverter('Celu', (ctx) => {
  // celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha) with elu's alpha 1
  const alpha = ctx.attr.float('alpha', 1);
  const scaled = ctx.op('divide', [ctx.input(0), scalar(ctx, alpha)]);
  return ctx.op('multiply', [ctx.op('elu', [scaled], { alpha: 1 }), scalar(ctx, alpha)]);
});

defineConverter('ThresholdedRelu', (ctx) => {
  const x = ctx.input(0);
  const keep = ctx.op('greater', [x, scalar(ctx, ctx.attr.float('alpha', 1))]);
  return ctx.op('where', [keep, x, scalar(ctx, 0)]);
});

defineConverter('HardSigmoid', (ctx) => {
  const alpha = ctx.attr.float('alpha', 0.2);
  const beta = ctx.attr.float('beta', 0.5);
  const lin = ctx.op('add', [ctx.op('multiply', [ctx.input(0), scalar(ctx, alpha)]), scalar(ctx, beta)]);
  return ctx.op('clip', [lin], { min: 0, max: 1 });
});

defineConverter('HardSwish', (ctx) => {
  const x = ctx.input(0);
  const lin = ctx.op('add', [ctx.op('multiply', [x, scalar(ctx, 1 / 6)]), scalar(ctx, 0.5)]);
  return ctx.op('multiply', [x, ctx.op('clip', [lin], { min: 0, max: 1 })]);
});

defineConverter('Softplus', (ctx) => ctx.op('softplus', [ctx.input(0)], { beta: 1, threshold: 20 }));

defineConverter('Softsign', (ctx) => {
  const x = ctx.input(0);
  return ctx.op('divide', [x, ctx.op('add', [ctx.op('abs', [x]), scalar(ctx, 1)])]);
});

defineConverter('Mish', (ctx) => {
  const x = ctx.input(0);
  return ctx.op('multiply', [x, ctx.op('tanh', [ctx.op('softplus', [x], { beta: 1, threshold: 20 })])]);
});

defineConverter('Gelu', (ctx) => {
  const approximate = ctx.attr.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') return ctx.fail(`approximate '${approximate}' is not supported`);
  return ctx.op(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', [ctx.input(0)]);
});

defineConverter('Shrink', (ctx) => {
  const x = ctx.input(0);
  const lambd = ctx.attr.float('lambd', 0.5);
  const bias = ctx.attr.float('bias', 0);
  const below = ctx.op('less', [x, scalar(ctx, -lambd)]);
  const above = ctx.op('greater', [x, scalar(ctx, lambd)]);
  const zero = scalar(ctx, 0);
  const up = ctx.op('add', [x, scalar(ctx, bias)]);
  const down = ctx.op('subtract', [x, scalar(ctx, bias)]);
  return ctx.op('where', [below, up, ctx.op('where', [above, down, zero])]);
});

defineConverter('PRelu', (ctx) => {
  // The slope broadcasts to the input: x < 0 ? x * slope : x. Before opset 7 a 1-D slope was one
  // value per channel (axis 1), which numpy broadcasting would align with the last axis instead.
  const x = ctx.input(0);
  let slope = ctx.input(1);
  const rank = ctx.rank(0);
  if (ctx.opset < 7 && ctx.rank(1) === 1 && rank > 2) {
    slope = ctx.op('reshape', [slope, ctx.shapeArg([ctx.shape(1)[0]!, ...Array<number>(rank - 2).fill(1)])]);
  }
  const negative = ctx.op('less', [x, scalar(ctx, 0)]);
  return ctx.op('where', [negative, ctx.op('multiply', [x, slope]), x]);
});

defineConverter('Clip', (ctx) => {
  const x = ctx.input(0);
  const dtype = ctx.dtype(0);
  let lo: Value | undefined;
  let hi: Value | undefined;
  if (ctx.opset < 11) {
    if (ctx.attr.has('min')) lo = scalar(ctx, ctx.attr.float('min'));
    if (ctx.attr.has('max')) hi = scalar(ctx, ctx.attr.float('max'));
  } else {
    lo = ctx.has(1) ? ctx.input(1) : undefined;
    hi = ctx.has(2) ? ctx.input(2) : undefined;
  }
  const num = (v: Value | undefined): number | undefined => (v?.kind === 'known' ? literalNumber(v.values[0]!) : undefined);
  const l = num(lo);
  const h = num(hi);
  if ((lo === undefined || l !== undefined) && (hi === undefined || h !== undefined) && (l ?? -Infinity) <= (h ?? Infinity)) {
    const bound = (v: number | undefined, inf: number): number =>
      v ?? (isFloat(dtype) ? inf : inf > 0 ? 2 ** 53 - 1 : -(2 ** 53 - 1));
    return ctx.op('clip', [x], { min: bound(l, -3.4028234663852886e38), max: bound(h, 3.4028234663852886e38) });
  }
  let out = x;
  if (lo) out = ctx.op('maximum', [out, lo]);
  if (hi) out = ctx.op('minimum', [out, hi]);
  return out;
});

defineConverter('Dropout', (ctx) => {
  // Inference: the input unchanged; the mask (a second output) is all true.
  const x = ctx.input(0);
  if (ctx.node.output.length < 2 || ctx.node.output[1] === '') return x;
  const mask = ctx.op('full_like', [x, ctx.primArg(literal(1, 'bool'))], { dtype: 'bool' });
  return [x, mask];
});

// --- binary ------------------------------------------------------------------------

/** ONNX op type → Kiln operator, and the same on known (import-time) values. */
const BINARY: Record<string, [string, ((a: PrimExpr, b: PrimExpr) => PrimExpr) | undefined]> = {
  Add: ['add', (a, b) => add(a, b)],
  Sub: ['subtract', (a, b) => sub(a, b)],
  Mul: ['multiply', (a, b) => mul(a, b)],
  Div: ['divide', (a, b) => (isInt(a.dtype) ? truncdiv(a, b) : binary('div', a, b))],
  Equal: ['equal', (a, b) => eq(a, b)],
  Less: ['less', (a, b) => lt(a, b)],
  LessOrEqual: ['less_equal', (a, b) => le(a, b)],
  Greater: ['greater', (a, b) => gt(a, b)],
  GreaterOrEqual: ['greater_equal', (a, b) => ge(a, b)],
  And: ['logical_and', (a, b) => and(a, b)],
  Or: ['logical_or', (a, b) => or(a, b)],
  Xor: ['logical_xor', (a, b) => ne(a, b)],
  BitwiseAnd: ['bitwise_and', undefined],
  BitwiseOr: ['bitwise_or', undefined],
  BitwiseXor: ['bitwise_xor', undefined],
};

/** numpy broadcasting of known values, elementwise with `f`. */
export function broadcastKnown(
  ctx: NodeContext,
  a: KnownValue,
  b: KnownValue,
  dtype: DataType,
  f: (x: PrimExpr, y: PrimExpr) => PrimExpr,
): KnownValue | undefined {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: readonly number[]): number[] => [...Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => (d === 1 ? sb[i]! : d));
  if (sa.some((d, i) => d !== sb[i] && d !== 1 && sb[i] !== 1)) return undefined;
  const n = knownSize(shape);
  const at = (v: KnownValue, s: number[], flat: number): PrimExpr => {
    let off = 0;
    let rest = flat;
    const idx: number[] = new Array<number>(rank);
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = rest % shape[k]!;
      rest = Math.floor(rest / shape[k]!);
    }
    for (let k = 0; k < rank; k++) off = off * s[k]! + (s[k] === 1 ? 0 : idx[k]!);
    return v.values[off]!;
  };
  const values = Array.from({ length: n }, (_, i) => f(at(a, sa, i), at(b, sb, i)));
  return ctx.knownValue(dtype, shape, values);
}

for (const [onnx, [kiln, fold]] of Object.entries(BINARY)) {
  defineConverter(onnx, (ctx) => {
    const a = ctx.known(0);
    const b = ctx.known(1);
    if (a && b && fold && !(onnx === 'Div' && isFloat(a.dtype) && b.values.some((v) => literalNumber(v) === undefined))) {
      const bool = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor'].includes(onnx);
      const r = broadcastKnown(ctx, a, b, bool ? 'bool' : a.dtype, fold);
      if (r) return r;
    }
    return ctx.op(kiln, [ctx.input(0), ctx.input(1)]);
  });
}

defineConverter('Pow', (ctx) => {
  // The exponent may have another type than the base: it is cast to the base's.
  const base = ctx.input(0);
  let exp = ctx.input(1);
  const dtype = ctx.dtype(0);
  if (ctx.dtype(1) !== dtype)
    exp = exp.kind === 'known' ? ctx.knownValue(dtype, exp.shape, exp.values) : ctx.op('astype', [exp], { dtype });
  const e = exp.kind === 'known' && exp.values.length === 1 ? literalNumber(exp.values[0]!) : undefined;
  if (e === 2) return ctx.op('multiply', [base, base]);
  if (e === 1) return base;
  if (e === 0.5 && isFloat(dtype)) return ctx.op('sqrt', [base]);
  return ctx.op('power', [base, exp]);
});

defineConverter('Mod', (ctx) => {
  // fmod=1: the sign of the dividend (C fmod); fmod=0 (integers only): the sign of the divisor.
  const fmod = ctx.attr.int('fmod', 0) === 1;
  const a = ctx.known(0);
  const b = ctx.known(1);
  if (a && b && isInt(a.dtype)) {
    const r = broadcastKnown(ctx, a, b, a.dtype, fmod ? (x, y) => truncmod(x, y) : (x, y) => floormod(x, y));
    if (r) return r;
  }
  return ctx.op(fmod ? 'mod' : 'floor_mod', [ctx.input(0), ctx.input(1)]);
});

defineConverter('BitShift', (ctx) => {
  const direction = ctx.attr.string('direction');
  return ctx.op(direction === 'LEFT' ? 'left_shift' : 'right_shift', [ctx.input(0), ctx.input(1)]);
});

// --- variadic ------------------------------------------------------------------------

const VARIADIC: Record<string, [string, (a: PrimExpr, b: PrimExpr) => PrimExpr]> = {
  Max: ['maximum', (a, b) => max(a, b)],
  Min: ['minimum', (a, b) => min(a, b)],
  Sum: ['add', (a, b) => add(a, b)],
};

for (const [onnx, [kiln, fold]] of Object.entries(VARIADIC)) {
  defineConverter(onnx, (ctx) => {
    let acc = ctx.input(0);
    for (let i = 1; i < ctx.inputCount; i++) {
      const v = ctx.input(i);
      const r = acc.kind === 'known' && v.kind === 'known' ? broadcastKnown(ctx, acc, v, acc.dtype, fold) : undefined;
      acc = r ?? ctx.op(kiln, [acc, v]);
    }
    return acc;
  });
}

defineConverter('Mean', (ctx) => {
  let acc = ctx.input(0);
  for (let i = 1; i < ctx.inputCount; i++) acc = ctx.op('add', [acc, ctx.input(i)]);
  return ctx.inputCount === 1 ? acc : ctx.op('divide', [acc, scalar(ctx, ctx.inputCount)]);
});

// --- where, cast ---------------------------------------------------------------------

defineConverter('Where', (ctx) => {
  const [c, x, y] = [ctx.known(0), ctx.known(1), ctx.known(2)];
  if (c && x && y && c.values.every((v) => literalNumber(v) !== undefined)) {
    // Broadcast the three together, then pick per element.
    const xy = broadcastKnown(ctx, x, y, x.dtype, (a) => a);
    const cs = xy && broadcastKnown(ctx, c, xy, 'bool', (cond) => cond);
    if (cs) {
      const xs = broadcastKnown(ctx, cs, x, x.dtype, (_, a) => a)!;
      const ys = broadcastKnown(ctx, cs, y, y.dtype, (_, b) => b)!;
      return ctx.knownValue(
        x.dtype,
        cs.shape,
        cs.values.map((cond, i) => (literalNumber(cond) ? xs.values[i]! : ys.values[i]!)),
      );
    }
  }
  return ctx.op('where', [ctx.input(0), ctx.input(1), ctx.input(2)]);
});

function castTo(ctx: NodeContext, dtype: DataType): Value {
  const v = ctx.input(0);
  if (v.kind === 'known') return ctx.knownValue(dtype, v.shape, v.values);
  if (v.sinfo.dtype === dtype) return v;
  return ctx.op('astype', [v], { dtype });
}

defineConverter('Cast', (ctx) => {
  const to = ctx.attr.int('to');
  const dtype = dtypeOfElemType(to);
  if (!dtype) return ctx.fail(`casting to ${elemTypeName(to)} is not supported`);
  return castTo(ctx, dtype);
});

defineConverter('CastLike', (ctx) => castTo(ctx, ctx.dtype(1)));
