/**
 * How Kiln's data types live in WebAssembly. Values compute in i32, i64, f32
 * or f64: bool and integers of 32 bits and fewer in i32 (8- and 16-bit ones
 * wrapped after each operation, as the JavaScript kernels do), float16 and
 * bfloat16 in f32 (rounded where they are stored or cast). int64 and uint64
 * are i64 where they carry data (loaded from a tensor, converted from a
 * float, too large for 32 bits) and i32 where they index (loop variables,
 * shapes and what is computed from them): every address of a 32-bit memory
 * fits i32, and index arithmetic in i32 is what makes loops fast.
 */
import { type DataType, isFloat, isUnsigned } from '../../ir/dtype.ts';
import type { PrimExpr, PrimVar } from '../../ir/prim/expr.ts';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64';

const I32_MIN = -(2 ** 31);
const U32_MAX = 2 ** 32 - 1;

export const is64BitInt = (t: DataType): boolean => t === 'int64' || t === 'uint64';

/** Decides which int64 expressions compute in i64; variables it is told about keep their class. */
export class WidthClasses {
  private readonly memo = new WeakMap<PrimExpr, boolean>();
  private readonly wideVars = new Set<PrimVar>();

  /** A `let` of a wide value makes a wide variable. */
  defineVar(v: PrimVar, value: PrimExpr): void {
    if (is64BitInt(v.dtype) && this.wide(value)) this.wideVars.add(v);
  }

  wide(e: PrimExpr): boolean {
    if (!is64BitInt(e.dtype)) return false;
    const hit = this.memo.get(e);
    if (hit !== undefined) return hit;
    const w = this.compute(e);
    this.memo.set(e, w);
    return w;
  }

  private compute(e: PrimExpr): boolean {
    switch (e.kind) {
      case 'int':
        return e.value < I32_MIN || e.value > (e.dtype === 'uint64' ? U32_MAX : 2 ** 31 - 1);
      case 'var':
        return this.wideVars.has(e);
      case 'load':
        return true;
      case 'cast':
        return isFloat(e.value.dtype) || this.wide(e.value);
      case 'binary':
        return this.wide(e.a) || this.wide(e.b);
      case 'select':
        return this.wide(e.t) || this.wide(e.f);
      case 'call':
        return e.args.some((a) => this.wide(a));
      case 'float':
      case 'bool':
      case 'not':
        return false;
    }
  }

  valType(e: PrimExpr): ValType {
    return valTypeOf(e.dtype, this.wide(e));
  }
}

export function valTypeOf(t: DataType, wide: boolean): ValType {
  if (t === 'float64') return 'f64';
  if (isFloat(t)) return 'f32';
  if (is64BitInt(t)) return wide ? 'i64' : 'i32';
  return 'i32';
}

/** Whether integer operations of `t` are unsigned (division, comparison, shifts, conversion). */
export function unsignedInt(t: DataType): boolean {
  return isUnsigned(t);
}

/** Bytes of one element of a tensor of `t` in memory. */
export function storageBytes(t: DataType): number {
  switch (t) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 8;
  }
}
