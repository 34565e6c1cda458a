/**
 * Legalizations of the unary and binary elementwise operators and `where`:
 * one compute over the result shape, broadcasting operands by index.
 */
import { compute, type Tensor } from '../../ir/builder/te.ts';
import { type DataType, isBool, isFloat, isInt, isUnsigned, intRange } from '../../ir/dtype.ts';
import {
  add,
  and,
  binary,
  call,
  div,
  eq,
  floatImm,
  floordiv,
  floormod,
  ge,
  gt,
  imm,
  le,
  lt,
  max,
  min,
  mul,
  ne,
  not,
  or,
  type PrimExpr,
  select,
  sub,
  truncdiv,
  truncmod,
} from '../../ir/prim/expr.ts';
import type { Intrinsic } from '../../ir/prim/intrinsics.ts';
import { broadcastAt, convert, lit } from './common.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

function unary(c: LegalizeCall, name: string, f: (x: PrimExpr) => PrimExpr): Tensor {
  const x = c.tensor('data');
  return compute(c.outShape(), (i) => f(x.at(...i)), name);
}

const half = (x: PrimExpr): PrimExpr => floatImm(0.5, x.dtype);
const intrinsic = (op: Intrinsic) => (x: PrimExpr) => call(op, [x]);

/** Unary operators that are one expression of the element. */
const UNARY: Readonly<Record<string, (x: PrimExpr) => PrimExpr>> = {
  abs: (x) => (isUnsigned(x.dtype) ? x : call('abs', [x])),
  acos: intrinsic('acos'),
  acosh: intrinsic('acosh'),
  asin: intrinsic('asin'),
  asinh: intrinsic('asinh'),
  atan: intrinsic('atan'),
  atanh: intrinsic('atanh'),
  ceil: (x) => (isFloat(x.dtype) ? call('ceil', [x]) : x),
  cos: intrinsic('cos'),
  cosh: intrinsic('cosh'),
  erf: intrinsic('erf'),
  exp: intrinsic('exp'),
  exp2: intrinsic('exp2'),
  expm1: intrinsic('expm1'),
  floor: (x) => (isFloat(x.dtype) ? call('floor', [x]) : x),
  gelu: (x) => mul(mul(half(x), x), add(lit(1, x.dtype), call('erf', [mul(x, floatImm(Math.SQRT1_2, x.dtype))]))),
  gelu_tanh: (x) => {
    const inner = mul(floatImm(Math.sqrt(2 / Math.PI), x.dtype), add(x, mul(floatImm(0.044715, x.dtype), mul(x, mul(x, x)))));
    return mul(mul(half(x), x), add(lit(1, x.dtype), call('tanh', [inner])));
  },
  log: intrinsic('log'),
  log10: intrinsic('log10'),
  log1p: intrinsic('log1p'),
  log2: intrinsic('log2'),
  // -1 * x, not 0 - x: the negation of 0.0 is -0.0.
  negative: (x) => (isFloat(x.dtype) ? mul(x, lit(-1, x.dtype)) : sub(lit(0, x.dtype), x)),
  reciprocal: (x) => div(lit(1, x.dtype), x),
  relu: (x) => max(x, lit(0, x.dtype)),
  round: (x) => (isFloat(x.dtype) ? call('round', [x]) : x),
  rsqrt: intrinsic('rsqrt'),
  sigmoid: intrinsic('sigmoid'),
  sign: (x) => (isUnsigned(x.dtype) ? select(gt(x, lit(0, x.dtype)), lit(1, x.dtype), lit(0, x.dtype)) : call('sign', [x])),
  silu: (x) => mul(x, call('sigmoid', [x])),
  sin: intrinsic('sin'),
  sinh: intrinsic('sinh'),
  sqrt: intrinsic('sqrt'),
  square: (x) => mul(x, x),
  tan: intrinsic('tan'),
  tanh: intrinsic('tanh'),
  trunc: (x) => (isFloat(x.dtype) ? call('trunc', [x]) : x),
  bitwise_not: (x) => (isBool(x.dtype) ? not(x) : binary('bitxor', x, lit(allOnes(x.dtype), x.dtype))),
  isfinite: (x) => (isFloat(x.dtype) ? call('isfinite', [x]) : lit(1, 'bool')),
  isinf: (x) => (isFloat(x.dtype) ? call('isinf', [x]) : lit(0, 'bool')),
  isnan: (x) => (isFloat(x.dtype) ? call('isnan', [x]) : lit(0, 'bool')),
  logical_not: (x) => not(convert(x, 'bool')),
};

/** The value with every bit set: -1 for signed integers, the maximum for unsigned ones. */
function allOnes(t: DataType): number {
  return isUnsigned(t) ? Math.min(intRange(t).max, Number.MAX_SAFE_INTEGER) : -1;
}

for (const [op, f] of Object.entries(UNARY)) defineLegalization(op, (c) => unary(c, `T_${op}`, f));

defineLegalization('astype', (c) => unary(c, 'T_astype', (x) => convert(x, c.outDtype())));

defineLegalization('clip', (c) =>
  unary(c, 'T_clip', (x) => {
    // Integer bounds round inward, so an integer never leaves the real interval.
    const lo = isInt(x.dtype) ? Math.ceil(c.attr<number>('min')) : c.attr<number>('min');
    const hi = isInt(x.dtype) ? Math.floor(c.attr<number>('max')) : c.attr<number>('max');
    const r = intRange(x.dtype);
    const clamp = (v: number): number => (isInt(x.dtype) ? Math.min(Math.max(v, r.min), r.max) : v);
    return min(max(x, lit(clamp(lo), x.dtype)), lit(clamp(hi), x.dtype));
  }),
);

defineLegalization('leaky_relu', (c) =>
  unary(c, 'T_leaky_relu', (x) => select(lt(x, lit(0, x.dtype)), mul(x, lit(c.attr<number>('alpha'), x.dtype)), x)),
);

defineLegalization('elu', (c) =>
  unary(c, 'T_elu', (x) => select(gt(x, lit(0, x.dtype)), x, mul(lit(c.attr<number>('alpha'), x.dtype), call('expm1', [x])))),
);

defineLegalization('softplus', (c) =>
  unary(c, 'T_softplus', (x) => {
    const beta = lit(c.attr<number>('beta'), x.dtype);
    const bx = mul(x, beta);
    // Above the threshold, softplus is x to working precision (PyTorch's rule).
    return select(gt(bx, lit(c.attr<number>('threshold'), x.dtype)), x, div(call('log1p', [call('exp', [bx])]), beta));
  }),
);

defineLegalization('prelu', (c) => {
  const x = c.tensor('data');
  const alpha = c.tensor('alpha');
  const axis = c.attr<number>('axis') < 0 ? c.attr<number>('axis') + x.shape.length : c.attr<number>('axis');
  return compute(
    c.outShape(),
    (i) => {
      const v = x.at(...i);
      const a = broadcastAt(alpha, [i[axis]!]);
      return select(lt(v, lit(0, v.dtype)), mul(v, a), v);
    },
    'T_prelu',
  );
});

// --- binary -------------------------------------------------------------------------

const BINARY: Readonly<Record<string, (a: PrimExpr, b: PrimExpr) => PrimExpr>> = {
  add: (a, b) => add(a, b),
  subtract: (a, b) => sub(a, b),
  multiply: (a, b) => mul(a, b),
  // Integer division truncates (C, ONNX Div); floor_divide floors (numpy //).
  divide: (a, b) => (isFloat(a.dtype) ? div(a, b) : truncdiv(a, b)),
  floor_divide: (a, b) => (isFloat(a.dtype) ? call('floor', [div(a, b)]) : floordiv(a, b)),
  power: (a, b) => (isFloat(a.dtype) ? call('pow', [a, b]) : intPower(a, b)),
  maximum: (a, b) => max(a, b),
  minimum: (a, b) => min(a, b),
  // mod keeps the dividend's sign (C fmod); floor_mod the divisor's (numpy %, Python).
  mod: (a, b) => (isFloat(a.dtype) ? call('fmod', [a, b]) : truncmod(a, b)),
  floor_mod: (a, b) => (isFloat(a.dtype) ? sub(a, mul(b, call('floor', [div(a, b)]))) : floormod(a, b)),
  bitwise_and: (a, b) => (isBool(a.dtype) ? and(a, b) : binary('bitand', a, b)),
  bitwise_or: (a, b) => (isBool(a.dtype) ? or(a, b) : binary('bitor', a, b)),
  bitwise_xor: (a, b) => (isBool(a.dtype) ? ne(a, b) : binary('bitxor', a, b)),
  left_shift: (a, b) => binary('shl', a, b),
  right_shift: (a, b) => binary('shr', a, b),
  equal: (a, b) => eq(a, b),
  not_equal: (a, b) => ne(a, b),
  less: (a, b) => lt(a, b),
  less_equal: (a, b) => le(a, b),
  greater: (a, b) => gt(a, b),
  greater_equal: (a, b) => ge(a, b),
  logical_and: (a, b) => and(convert(a, 'bool'), convert(b, 'bool')),
  logical_or: (a, b) => or(convert(a, 'bool'), convert(b, 'bool')),
  logical_xor: (a, b) => ne(convert(a, 'bool'), convert(b, 'bool')),
};

/**
 * Integer power by squaring, exact (with C wrap-around) for every exponent below 64, which
 * covers every result an integer type holds except for bases 0 and ±1. No floats: a 64-bit
 * float would round results past 2^53 and does not exist on WebGPU. Exponents of 64 and
 * more give 1 or ±1 for bases 1 and -1, 0 otherwise; negative exponents give 1/a rounded
 * toward zero (0 for a base of 0, which ONNX leaves undefined).
 */
function intPower(a: PrimExpr, b: PrimExpr): PrimExpr {
  const t = a.dtype;
  const c = (v: number): PrimExpr => imm(v, t);
  const bit = (k: number): PrimExpr => ne(binary('bitand', binary('shr', b, c(k)), c(1)), c(0));
  let power = a;
  let result: PrimExpr = c(1);
  for (let k = 0; k < 6; k++) {
    result = mul(result, select(bit(k), power, c(1)));
    if (k < 5) power = mul(power, power);
  }
  const minusOne = isUnsigned(t) ? c(0) : select(eq(a, c(-1)), select(bit(0), c(-1), c(1)), c(0));
  const unit = select(eq(a, c(1)), c(1), minusOne);
  return select(lt(b, c(0)), unit, select(ge(b, c(64)), unit, result));
}

for (const [op, f] of Object.entries(BINARY)) {
  defineLegalization(op, (c) => {
    const a = c.tensor('x1');
    const b = c.tensor('x2');
    return compute(c.outShape(), (i) => f(broadcastAt(a, i), broadcastAt(b, i)), `T_${op}`);
  });
}

defineLegalization('where', (c) => {
  const cond = c.tensor('condition');
  const a = c.tensor('x1');
  const b = c.tensor('x2');
  return compute(c.outShape(), (i) => select(broadcastAt(cond, i), broadcastAt(a, i), broadcastAt(b, i)), 'T_where');
});
