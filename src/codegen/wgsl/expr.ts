/**
 * Prim expressions as WGSL. An expression of dtype t is WGSL code of type
 * valueType(t): bool, i32 (every signed integer), u32 (every unsigned one)
 * or f32 (every float). Casts mirror the JavaScript kernels: integers wrap to
 * their width, floats truncate toward zero (NaN to 0), half floats round to
 * nearest even.
 */
import { type DataType, isBool, isFloat, isInt } from '../../ir/dtype.ts';
import type { BufferLoad, PrimExpr, PrimVar } from '../../ir/prim/expr.ts';
import type { Intrinsic } from '../../ir/prim/intrinsics.ts';
import type { HelperName } from './helpers.ts';
import { finiteFloatLiteral, intLiteral, NO_FLOAT64, specialFloatBits, type ValueType, valueType } from './types.ts';

/** What an expression emitter needs from the function around it. */
export interface ExprContext {
  /** A variable's value: a local's name, or a field of the uniforms. */
  varRef(v: PrimVar): string;
  /** `array[index]` for an element of a buffer, as stored (before decoding). */
  element(load: BufferLoad): string;
  /** Records that a helper is used; returns its name. */
  use(helper: HelperName): string;
  /** Whether float16 buffers hold f16 (the target has shader-f16). */
  readonly f16: boolean;
  /** Fails the build: a construct WGSL cannot express. */
  unsupported(what: string): never;
  /** The i32 index of the running workgroup or invocation (block_idx_x ... thread_idx_z). */
  threadIndex(op: Intrinsic): string;
}

export function typeOf(t: DataType, ctx: ExprContext): ValueType {
  return valueType(t) ?? ctx.unsupported(NO_FLOAT64);
}

export function emitExpr(e: PrimExpr, ctx: ExprContext): string {
  switch (e.kind) {
    case 'int': {
      const t = typeOf(e.dtype, ctx);
      return intLiteral(e.value, t === 'u32' ? 'u32' : 'i32');
    }
    case 'float':
      typeOf(e.dtype, ctx);
      return floatLiteral(e.value, ctx);
    case 'bool':
      return e.value ? 'true' : 'false';
    case 'var':
      typeOf(e.dtype, ctx);
      return ctx.varRef(e);
    case 'binary':
      return binary(e.op, e.a.dtype, emitExpr(e.a, ctx), emitExpr(e.b, ctx), e.b, ctx);
    case 'not':
      return `(!${emitExpr(e.a, ctx)})`;
    case 'select':
      return `select(${emitExpr(e.f, ctx)}, ${emitExpr(e.t, ctx)}, ${emitExpr(e.cond, ctx)})`;
    case 'cast':
      return castValue(e.value.dtype, e.dtype, emitExpr(e.value, ctx), ctx);
    case 'call':
      return intrinsic(
        e.op,
        e.args[0]?.dtype,
        e.args.map((a) => emitExpr(a, ctx)),
        ctx,
      );
    case 'load':
      return decode(e.buffer.dtype, ctx.element(e), ctx);
  }
}

export function floatLiteral(v: number, ctx: ExprContext): string {
  return finiteFloatLiteral(v) ?? `${ctx.use('kiln_f32_bits')}(0x${specialFloatBits(v).toString(16)}u)`;
}

/** A stored element as a value: bool from 0/1, f16 widened to f32. */
export function decode(dtype: DataType, raw: string, ctx: ExprContext): string {
  if (isBool(dtype)) return `(${raw} != 0i)`;
  if (dtype === 'float16' && ctx.f16) return `f32(${raw})`;
  return raw;
}

/** A value as its buffer stores it: bool as 0/1, small integers wrapped, half floats rounded. */
export function encode(dtype: DataType, value: string, ctx: ExprContext): string {
  switch (dtype) {
    case 'bool':
      return `select(0i, 1i, ${value})`;
    case 'float16':
      return ctx.f16 ? `${ctx.use('kiln_to_f16')}(${value})` : `${ctx.use('kiln_round_f16')}(${value})`;
    case 'bfloat16':
      return `${ctx.use('kiln_round_bf16')}(${value})`;
    default:
      return wrapNarrow(dtype, value);
  }
}

/**
 * Wraps a 32-bit integer to an 8- or 16-bit type, as C stores and casts do.
 * extractBits sign-extends, and unlike a shift pair it cannot overflow when a
 * constant is folded (which WGSL rejects).
 */
function wrapNarrow(t: DataType, s: string): string {
  switch (t) {
    case 'int8':
      return `extractBits(${s}, 0u, 8u)`;
    case 'int16':
      return `extractBits(${s}, 0u, 16u)`;
    case 'uint8':
      return `(${s} & 255u)`;
    case 'uint16':
      return `(${s} & 65535u)`;
    default:
      return s;
  }
}

/** log2(b) when b is a positive power-of-two integer literal (floor division by it is a shift). */
function powerOfTwo(b: PrimExpr): number | undefined {
  if (b.kind !== 'int' || b.value <= 0 || b.value > 2 ** 30) return undefined;
  const k = Math.log2(b.value);
  return Number.isInteger(k) ? k : undefined;
}

/** Truncating integer division; by zero it is 0 as in the JavaScript kernels (WGSL gives the dividend). */
function intDiv(vt: ValueType, a: string, b: string, bExpr: PrimExpr, ctx: ExprContext): string {
  if (bExpr.kind === 'int' && bExpr.value !== 0) return `(${a} / ${b})`;
  return `${ctx.use(vt === 'u32' ? 'kiln_udiv' : 'kiln_div')}(${a}, ${b})`;
}

function binary(op: string, t: DataType, a: string, b: string, bExpr: PrimExpr, ctx: ExprContext): string {
  const vt = typeOf(t, ctx);
  // WGSL does not order bools; as numbers false < true.
  if (vt === 'bool' && (op === 'lt' || op === 'le' || op === 'gt' || op === 'ge')) {
    return binary(op, 'int32', `select(0i, 1i, ${a})`, `select(0i, 1i, ${b})`, bExpr, ctx);
  }
  switch (op) {
    case 'add':
      return `(${a} + ${b})`;
    case 'sub':
      return `(${a} - ${b})`;
    case 'mul':
      return `(${a} * ${b})`;
    case 'div':
      return `(${a} / ${b})`;
    case 'floordiv': {
      if (vt === 'f32') return `floor(${a} / ${b})`;
      if (vt === 'u32') return intDiv(vt, a, b, bExpr, ctx);
      // Arithmetic shift right is floor division by a power of two, negative dividends included.
      const k = powerOfTwo(bExpr);
      return k !== undefined ? `(${a} >> ${k}u)` : `${ctx.use('kiln_floordiv')}(${a}, ${b})`;
    }
    case 'floormod': {
      if (vt === 'f32') return `${ctx.use('kiln_floormod_f')}(${a}, ${b})`;
      if (vt === 'u32') return `(${a} % ${b})`;
      const k = powerOfTwo(bExpr);
      return k !== undefined ? `(${a} & ${2 ** k - 1}i)` : `${ctx.use('kiln_floormod')}(${a}, ${b})`;
    }
    case 'truncdiv':
      return vt === 'f32' ? `trunc(${a} / ${b})` : intDiv(vt, a, b, bExpr, ctx);
    case 'truncmod':
      return `(${a} % ${b})`;
    case 'min':
      return `min(${a}, ${b})`;
    case 'max':
      return `max(${a}, ${b})`;
    case 'eq':
      return `(${a} == ${b})`;
    case 'ne':
      return `(${a} != ${b})`;
    case 'lt':
      return `(${a} < ${b})`;
    case 'le':
      return `(${a} <= ${b})`;
    case 'gt':
      return `(${a} > ${b})`;
    case 'ge':
      return `(${a} >= ${b})`;
    case 'and':
      return `(${a} && ${b})`;
    case 'or':
      return `(${a} || ${b})`;
    case 'bitand':
      return `(${a} & ${b})`;
    case 'bitor':
      return `(${a} | ${b})`;
    case 'bitxor':
      return `(${a} ^ ${b})`;
    case 'shl':
      return `(${a} << ${vt === 'u32' ? b : `u32(${b})`})`;
    case 'shr':
      return `(${a} >> ${vt === 'u32' ? b : `u32(${b})`})`;
    default:
      return ctx.unsupported(`operator ${op}`);
  }
}

/** Converts a value of type `from` to type `to`. */
export function castValue(from: DataType, to: DataType, v: string, ctx: ExprContext): string {
  if (from === to) return v;
  const src = typeOf(from, ctx);
  const dst = typeOf(to, ctx);
  if (dst === 'bool') return src === 'f32' ? `(${v} != 0.0f)` : `(${v} != ${intLiteral(0, src === 'u32' ? 'u32' : 'i32')})`;
  if (src === 'bool') {
    // 0 and 1 need no wrapping or rounding in any type.
    const [zero, one] = dst === 'f32' ? ['0.0f', '1.0f'] : dst === 'u32' ? ['0u', '1u'] : ['0i', '1i'];
    return `select(${zero}, ${one}, ${v})`;
  }
  if (isFloat(to)) {
    const f = src === 'f32' ? v : `f32(${v})`;
    if (to === 'float16') return `${ctx.use('kiln_round_f16')}(${f})`;
    if (to === 'bfloat16') return `${ctx.use('kiln_round_bf16')}(${f})`;
    return f; // float32 from float16/bfloat16 is exact
  }
  if (!isInt(to)) return ctx.unsupported(`a cast to ${to}`);
  let i: string;
  if (src !== 'f32') i = src === dst ? v : `bitcast<${dst}>(${v})`;
  else if (dst === 'u32') i = `${ctx.use('kiln_f2u')}(${v})`;
  // 32- and 64-bit targets saturate; 8- and 16-bit ones keep the low bits of the value modulo 2^32, as the JS kernels do.
  else if (to === 'int8' || to === 'int16') i = `bitcast<i32>(${ctx.use('kiln_f2u')}(${v}))`;
  else i = `${ctx.use('kiln_f2i')}(${v})`;
  return wrapNarrow(to, i);
}

function intrinsic(op: Intrinsic, argType: DataType | undefined, a: readonly string[], ctx: ExprContext): string {
  const x = a[0]!;
  switch (op) {
    case 'exp':
    case 'exp2':
    case 'log':
    case 'log2':
    case 'sqrt':
    case 'sin':
    case 'cos':
    case 'tan':
    case 'atan':
    case 'sinh':
    case 'cosh':
    case 'asinh':
    case 'acosh':
    case 'atanh':
    case 'floor':
    case 'ceil':
    case 'trunc':
    case 'atan2':
      return `${op}(${a.join(', ')})`;
    case 'round':
      // WGSL's round is half to even already.
      return `round(${x})`;
    case 'rsqrt':
      return `inverseSqrt(${x})`;
    case 'log10':
      return `(log2(${x}) * 0.30102999566398120f)`;
    case 'asin':
    case 'acos':
    case 'tanh':
    case 'erf':
    case 'log1p':
    case 'expm1':
    case 'fmod':
    case 'pow':
    case 'isnan':
    case 'isinf':
    case 'isfinite':
      return `${ctx.use(`kiln_${op}`)}(${a.join(', ')})`;
    case 'sigmoid':
      return `(1.0f / (1.0f + exp(-(${x}))))`;
    case 'abs':
      return argType && typeOf(argType, ctx) === 'u32' ? x : `abs(${x})`;
    case 'sign':
      if (!argType || typeOf(argType, ctx) === 'f32') return `${ctx.use('kiln_sign')}(${x})`;
      return typeOf(argType, ctx) === 'u32' ? `min(${x}, 1u)` : `sign(${x})`;
    case 'workgroup_barrier':
    case 'storage_barrier':
      return ctx.unsupported(`${op} inside an expression (a barrier must be a statement of its own: eval ${op}())`);
    case 'block_idx_x':
    case 'block_idx_y':
    case 'block_idx_z':
    case 'thread_idx_x':
    case 'thread_idx_y':
    case 'thread_idx_z':
      return ctx.threadIndex(op);
  }
}
