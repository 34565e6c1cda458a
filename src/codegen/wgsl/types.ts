/**
 * How Kiln's data types live in WGSL: the storage type of a buffer element
 * and the type an expression computes in. WGSL has 32-bit scalars (and f16
 * with shader-f16) only, so every signed integer computes in i32, every
 * unsigned one in u32, and every float in f32: float16 and bfloat16 values
 * are rounded to their type where they are stored or cast, as the JavaScript
 * kernels round them.
 */
import { type DataType, isFloat, isSigned, isUnsigned } from '../../ir/dtype.ts';
import type { GpuStorage } from '../../runtime/webgpu/kernel-spec.ts';

export type ValueType = 'bool' | 'i32' | 'u32' | 'f32';

export const NO_FLOAT64 = 'WebGPU has no 64-bit floats';

/** The element type of a buffer of `dtype`; undefined for float64, which has none. */
export function gpuStorage(dtype: DataType, f16: boolean): GpuStorage | undefined {
  if (dtype === 'float64') return undefined;
  if (dtype === 'float16') return f16 ? 'f16' : 'f32';
  if (isFloat(dtype)) return 'f32';
  return isUnsigned(dtype) ? 'u32' : 'i32';
}

/** The type a value of `dtype` computes in; undefined for float64. */
export function valueType(dtype: DataType): ValueType | undefined {
  if (dtype === 'float64') return undefined;
  if (dtype === 'bool') return 'bool';
  if (isFloat(dtype)) return 'f32';
  return isSigned(dtype) ? 'i32' : 'u32';
}

export function storageBytes(s: GpuStorage): number {
  return s === 'f16' ? 2 : 4;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;

/** An integer literal of type `t`; 64-bit values saturate to the 32 bits they compute in. */
export function intLiteral(value: number, t: 'i32' | 'u32'): string {
  if (t === 'u32') return `${Math.min(Math.max(value, 0), U32_MAX)}u`;
  const v = Math.min(Math.max(value, I32_MIN), I32_MAX);
  // 2147483648i does not exist, so its negation cannot be written as a literal.
  if (v === I32_MIN) return 'i32(-2147483648)';
  return v < 0 ? `(${v}i)` : `${v}i`;
}

/**
 * A finite float literal; undefined for infinities, NaN and -0, which WGSL
 * cannot write as literals (and rejects as constant expressions).
 */
export function finiteFloatLiteral(value: number): string | undefined {
  if (!Number.isFinite(value) || Object.is(value, -0)) return undefined;
  return value < 0 ? `(${String(value)}f)` : `${String(value)}f`;
}

/** The bits of a float32 infinity, NaN or -0. */
export function specialFloatBits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc00000;
  if (value === Infinity) return 0x7f800000;
  if (value === -Infinity) return 0xff800000;
  return 0x80000000;
}
