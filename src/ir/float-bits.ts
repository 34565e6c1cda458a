/** Conversions between numbers and the 16-bit float formats, and rounding to a float type. */
import type { DataType } from './dtype.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision bits of x, round to nearest even. */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of x: the top half of the float32, round to nearest even. */
export function toBFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export function fromBFloat16Bits(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** x rounded to the nearest value of a float type. */
export function roundToFloat(x: number, dtype: DataType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(x);
    case 'float16':
      return fromFloat16Bits(toFloat16Bits(x));
    case 'bfloat16':
      return fromBFloat16Bits(toBFloat16Bits(x));
    default:
      return x;
  }
}

/** The shortest decimal spelling that reads back as the same value of the given float type. */
export function shortestFloat(x: number, dtype: DataType): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  if (dtype === 'float64') return withPoint(String(x));
  for (let p = 1; p <= 17; p++) {
    const s = x.toPrecision(p);
    if (roundToFloat(Number(s), dtype) === x) return withPoint(String(Number(s)));
  }
  return withPoint(String(x));
}

/** Makes sure a float literal reads as a float: `1` → `1.0`, `1e-7` stays. */
function withPoint(s: string): string {
  return /[.eE]|inf|nan/.test(s) ? s : `${s}.0`;
}
