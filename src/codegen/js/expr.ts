/**
 * Prim expressions as JavaScript. Values are JS numbers (every integer type;
 * int64 exact up to 2^53) or booleans (bool). Integer types of 32 bits and
 * fewer wrap as in C; float32 arithmetic runs in double precision and is
 * rounded where a value is stored or cast, as on a CPU with wider registers.
 */
import { type DataType, isBool, isFloat, isInt } from '../../ir/dtype.ts';
import type { PrimExpr } from '../../ir/prim/expr.ts';
import type { Intrinsic } from '../../ir/prim/intrinsics.ts';

/** What an expression emitter needs from the kernel around it. */
export interface ExprContext {
  /** The JS name of a variable in scope. */
  varName(v: PrimExpr & { kind: 'var' }): string;
  /** `array[index]` for an element of a buffer, as raw storage (before decoding). */
  element(load: PrimExpr & { kind: 'load' }): string;
  /** Records that a helper function is used. */
  use(helper: string): string;
  /** Fails the build: a construct the JS target cannot run. */
  unsupported(what: string): never;
}

export function emitExpr(e: PrimExpr, ctx: ExprContext): string {
  switch (e.kind) {
    case 'int':
      return numberLiteral(e.value);
    case 'float':
      return numberLiteral(e.value);
    case 'bool':
      return e.value ? 'true' : 'false';
    case 'var':
      return ctx.varName(e);
    case 'binary':
      return binary(e.op, e.a.dtype, emitExpr(e.a, ctx), emitExpr(e.b, ctx), ctx);
    case 'not':
      return `!${emitExpr(e.a, ctx)}`;
    case 'select':
      return `(${emitExpr(e.cond, ctx)} ? ${emitExpr(e.t, ctx)} : ${emitExpr(e.f, ctx)})`;
    case 'cast':
      return castValue(e.value.dtype, e.dtype, emitExpr(e.value, ctx), ctx);
    case 'call':
      return intrinsic(
        e.op,
        e.args.map((a) => (ROUNDING.has(e.op) && a.dtype === 'float32' ? `Math.fround(${emitExpr(a, ctx)})` : emitExpr(a, ctx))),
        ctx,
      );
    case 'load':
      return decode(e.buffer.dtype, ctx.element(e), ctx);
  }
}

/**
 * Rounding to an integer sees the float32 value, not the double the arithmetic before it
 * ran in: round(0.5 / 0.019607844) is round(25.5) in float32 but 25.4999991 in double
 * (the quotient of QuantizeLinear and DynamicQuantizeLinear).
 */
const ROUNDING: ReadonlySet<Intrinsic> = new Set(['round', 'floor', 'ceil', 'trunc']);

export function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${String(v)})` : String(v);
}

/** A raw storage element as a value: booleans, int64 as numbers, half floats decoded. */
export function decode(dtype: DataType, raw: string, ctx: ExprContext): string {
  switch (dtype) {
    case 'bool':
      return `(${raw} !== 0)`;
    case 'int64':
    case 'uint64':
      return `Number(${raw})`;
    case 'float16':
      return `${ctx.use('$f16')}(${raw})`;
    case 'bfloat16':
      return `${ctx.use('$bf16')}(${raw})`;
    default:
      return raw;
  }
}

/** A value as what its buffer stores: BigInts for 64-bit integers, bits for half floats. */
export function encode(dtype: DataType, value: string, ctx: ExprContext): string {
  switch (dtype) {
    case 'int64':
    case 'uint64':
      return `${ctx.use('$i64')}(${value})`;
    case 'float16':
      return `${ctx.use('$toF16')}(${value})`;
    case 'bfloat16':
      return `${ctx.use('$toBf16')}(${value})`;
    default:
      // Typed arrays round to float32 and wrap integers themselves; true and false store as 1 and 0.
      return value;
  }
}

/** Wraps an integer result to its type, as C arithmetic does. */
function wrap(t: DataType, s: string): string {
  switch (t) {
    case 'int8':
      return `((${s}) << 24 >> 24)`;
    case 'uint8':
      return `((${s}) & 255)`;
    case 'int16':
      return `((${s}) << 16 >> 16)`;
    case 'uint16':
      return `((${s}) & 65535)`;
    case 'int32':
      return `((${s}) | 0)`;
    case 'uint32':
      return `((${s}) >>> 0)`;
    default:
      return `(${s})`;
  }
}

const is64 = (t: DataType): boolean => t === 'int64' || t === 'uint64';

function binary(op: string, t: DataType, a: string, b: string, ctx: ExprContext): string {
  const int = isInt(t);
  switch (op) {
    case 'add':
      return int ? wrap(t, `${a} + ${b}`) : `(${a} + ${b})`;
    case 'sub':
      return int ? wrap(t, `${a} - ${b}`) : `(${a} - ${b})`;
    case 'mul':
      if (t === 'int32') return `Math.imul(${a}, ${b})`;
      if (t === 'uint32') return `(Math.imul(${a}, ${b}) >>> 0)`;
      return int ? wrap(t, `${a} * ${b}`) : `(${a} * ${b})`;
    case 'div':
      return `(${a} / ${b})`;
    case 'floordiv':
      return int ? wrap(t, `Math.floor(${a} / ${b})`) : `Math.floor(${a} / ${b})`;
    case 'floormod':
      return int ? wrap(t, `${ctx.use('$floormod')}(${a}, ${b})`) : `${ctx.use('$floormod')}(${a}, ${b})`;
    case 'truncdiv':
      return int ? wrap(t, `Math.trunc(${a} / ${b})`) : `Math.trunc(${a} / ${b})`;
    case 'truncmod':
      return int ? wrap(t, `${a} % ${b}`) : `(${a} % ${b})`;
    case 'min':
      return `Math.min(${a}, ${b})`;
    case 'max':
      return `Math.max(${a}, ${b})`;
    case 'eq':
      return `(${a} === ${b})`;
    case 'ne':
      return `(${a} !== ${b})`;
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
      return is64(t) ? `${ctx.use('$and64')}(${a}, ${b})` : wrap(t, `${a} & ${b}`);
    case 'bitor':
      return is64(t) ? `${ctx.use('$or64')}(${a}, ${b})` : wrap(t, `${a} | ${b}`);
    case 'bitxor':
      return is64(t) ? `${ctx.use('$xor64')}(${a}, ${b})` : wrap(t, `${a} ^ ${b}`);
    case 'shl':
      return is64(t) ? `(${a} * 2 ** ${b})` : wrap(t, `${a} << ${b}`);
    case 'shr':
      if (is64(t)) return `Math.floor(${a} / 2 ** ${b})`;
      return t === 'uint32' ? `(${a} >>> ${b})` : `(${a} >> ${b})`;
    default:
      return ctx.unsupported(`operator ${op}`);
  }
}

/** Converts a value of type `from` to type `to`. */
function castValue(from: DataType, to: DataType, v: string, ctx: ExprContext): string {
  if (from === to) return v;
  if (isBool(to)) return `(${v} !== 0)`;
  if (isBool(from)) return `(${v} ? 1 : 0)`;
  if (isFloat(to)) {
    switch (to) {
      case 'float32':
        return from === 'float16' || from === 'bfloat16' ? v : `Math.fround(${v})`;
      case 'float16':
        return `${ctx.use('$roundF16')}(${v})`;
      case 'bfloat16':
        return `${ctx.use('$roundBf16')}(${v})`;
      default:
        return v;
    }
  }
  // To an integer: floats truncate toward zero; integers wrap to the narrower type.
  if (is64(to)) return isFloat(from) ? `Math.trunc(${v})` : v;
  return wrap(to, `${v} | 0`);
}

function intrinsic(op: Intrinsic, a: readonly string[], ctx: ExprContext): string {
  const [x, y] = a;
  switch (op) {
    case 'exp':
    case 'log':
    case 'log2':
    case 'log10':
    case 'log1p':
    case 'expm1':
    case 'sqrt':
    case 'sin':
    case 'cos':
    case 'tan':
    case 'asin':
    case 'acos':
    case 'atan':
    case 'sinh':
    case 'cosh':
    case 'tanh':
    case 'asinh':
    case 'acosh':
    case 'atanh':
    case 'floor':
    case 'ceil':
    case 'trunc':
    case 'abs':
    case 'sign':
    case 'atan2':
      return `Math.${op}(${a.join(', ')})`;
    case 'pow':
      return `Math.pow(${x}, ${y})`;
    case 'exp2':
      return `(2 ** ${x})`;
    case 'rsqrt':
      return `(1 / Math.sqrt(${x}))`;
    case 'sigmoid':
      return `(1 / (1 + Math.exp(-(${x}))))`;
    case 'erf':
      return `${ctx.use('$erf')}(${x})`;
    case 'round':
      return `${ctx.use('$round')}(${x})`;
    case 'fmod':
      return `(${x} % ${y})`;
    case 'isnan':
      return `Number.isNaN(${x})`;
    case 'isinf':
      return `${ctx.use('$isinf')}(${x})`;
    case 'isfinite':
      return `Number.isFinite(${x})`;
    case 'workgroup_barrier':
    case 'storage_barrier':
      return ctx.unsupported(`${op} (a barrier between GPU threads)`);
    case 'block_idx_x':
    case 'block_idx_y':
    case 'block_idx_z':
    case 'thread_idx_x':
    case 'thread_idx_y':
    case 'thread_idx_z':
      return ctx.unsupported(`${op} (the index of a GPU thread)`);
  }
}
