/**
 * Constant folding of what the canonical form does not cover: float
 * arithmetic, comparisons of literals, bit operations, casts and intrinsic
 * calls. Every fold computes what the target computes, in the operand type,
 * or declines (returns undefined).
 */
import { type DataType, intRange, isBool, isFloat } from '../dtype.ts';
import { roundToFloat } from '../float-bits.ts';
import { boolImm, type Call, type CompareOp, floatImm, imm, intImm, type PrimExpr } from '../prim/expr.ts';

/**
 * The value a literal has in its own type: a float literal may carry more
 * precision than its type holds (`16777217` as f32 is 16777216).
 */
export function literalValue(e: PrimExpr): number | undefined {
  switch (e.kind) {
    case 'int':
      return e.value;
    case 'float':
      return roundToFloat(e.value, e.dtype);
    case 'bool':
      return e.value ? 1 : 0;
    default:
      return undefined;
  }
}

export function compareNumbers(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

/** An integer literal when v fits the type, else undefined (the expression stays as it was). */
export function fittingInt(v: number, dtype: DataType): PrimExpr | undefined {
  const r = intRange(dtype);
  return Number.isSafeInteger(v) && v >= r.min && v <= r.max ? intImm(v, dtype) : undefined;
}

/**
 * Float arithmetic on literals, and the identities that hold for every IEEE
 * value including NaN, ±inf and -0 (so `x * 0` and `x + 0.0` stay: the
 * first is NaN for inf, the second is +0 for x = -0).
 */
export function foldFloat(op: 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max', a: PrimExpr, b: PrimExpr): PrimExpr | undefined {
  const t = a.dtype;
  const x = literalValue(a);
  const y = literalValue(b);
  if (x !== undefined && y !== undefined) {
    const v = { add: x + y, sub: x - y, mul: x * y, div: x / y, min: Math.min(x, y), max: Math.max(x, y) }[op];
    return floatImm(roundToFloat(v, t), t);
  }
  const isOne = (v: number | undefined): boolean => v === 1;
  const isNegZero = (v: number | undefined): boolean => v !== undefined && Object.is(v, -0);
  const isZero = (v: number | undefined): boolean => v === 0;
  if (op === 'mul' && isOne(y)) return a;
  if (op === 'mul' && isOne(x)) return b;
  if (op === 'div' && isOne(y)) return a;
  if (op === 'add' && isNegZero(y)) return a;
  if (op === 'add' && isNegZero(x)) return b;
  if (op === 'sub' && isZero(y) && !isNegZero(y)) return a;
  return undefined;
}

export function foldBits(
  op: 'bitand' | 'bitor' | 'bitxor' | 'shl' | 'shr',
  a: number,
  b: number,
  dtype: DataType,
): PrimExpr | undefined {
  if (b < 0 && (op === 'shl' || op === 'shr')) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  const v = { bitand: x & y, bitor: x | y, bitxor: x ^ y, shl: x << y, shr: x >> y }[op];
  return fittingInt(Number(v), dtype);
}

/** A literal converted to another type: floats truncate toward zero; out-of-range integers are not folded. */
export function castConstant(v: number, to: DataType): PrimExpr | undefined {
  if (isBool(to)) return boolImm(v !== 0);
  if (isFloat(to)) return floatImm(roundToFloat(v, to), to);
  if (!Number.isFinite(v)) return undefined;
  const n = Math.trunc(v);
  const r = intRange(to);
  if (n < r.min || n > r.max || !Number.isSafeInteger(n)) return undefined;
  return imm(n, to);
}

/** Round half to even, as WGSL `round` and C `nearbyint` do. */
function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

const FOLDABLE: Partial<Record<string, (...xs: number[]) => number | boolean>> = {
  exp: Math.exp,
  exp2: (x) => 2 ** x,
  log: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  round: roundHalfEven,
  abs: Math.abs,
  sign: Math.sign,
  pow: Math.pow,
  atan2: Math.atan2,
  fmod: (x, y) => x % y,
  isnan: Number.isNaN,
  isinf: (x) => x === Infinity || x === -Infinity,
  isfinite: Number.isFinite,
};

/** A math intrinsic on literals, computed in double and rounded to the result type. */
export function foldCall(e: Call): PrimExpr | undefined {
  const fn = FOLDABLE[e.op];
  const args = e.args.map(literalValue);
  if (!fn || args.some((a) => a === undefined)) return undefined;
  const v = fn(...(args as number[]));
  if (typeof v === 'boolean') return boolImm(v);
  if (isFloat(e.dtype)) return floatImm(roundToFloat(v, e.dtype), e.dtype);
  return fittingInt(v, e.dtype);
}
