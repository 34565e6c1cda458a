/** Scalar data types of tensors and of prim expressions. */

export const DATA_TYPES = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'bfloat16',
  'float32',
  'float64',
] as const;

export type DataType = (typeof DATA_TYPES)[number];

/** The short spelling used by the text format (`f32[n, 4]`, `3i32`). */
const SHORT: Record<DataType, string> = {
  bool: 'bool',
  int8: 'i8',
  int16: 'i16',
  int32: 'i32',
  int64: 'i64',
  uint8: 'u8',
  uint16: 'u16',
  uint32: 'u32',
  uint64: 'u64',
  float16: 'f16',
  bfloat16: 'bf16',
  float32: 'f32',
  float64: 'f64',
};

const FROM_NAME = new Map<string, DataType>();
for (const t of DATA_TYPES) {
  FROM_NAME.set(t, t);
  FROM_NAME.set(SHORT[t], t);
}

export function shortName(t: DataType): string {
  return SHORT[t];
}

/** Accepts the long (`float32`) and the short (`f32`) spelling. */
export function parseDataType(name: string): DataType | undefined {
  return FROM_NAME.get(name);
}

export function isDataType(name: string): name is DataType {
  return (DATA_TYPES as readonly string[]).includes(name);
}

export function isFloat(t: DataType): boolean {
  return t === 'float16' || t === 'bfloat16' || t === 'float32' || t === 'float64';
}

export function isInt(t: DataType): boolean {
  return isSigned(t) || isUnsigned(t);
}

export function isSigned(t: DataType): boolean {
  return t === 'int8' || t === 'int16' || t === 'int32' || t === 'int64';
}

export function isUnsigned(t: DataType): boolean {
  return t === 'uint8' || t === 'uint16' || t === 'uint32' || t === 'uint64';
}

export function isBool(t: DataType): boolean {
  return t === 'bool';
}

export function bits(t: DataType): number {
  switch (t) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 8;
    case 'int16':
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return 16;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 32;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 64;
  }
}

export function byteSize(t: DataType): number {
  return bits(t) / 8;
}

/** The integer range of an integer type, as numbers (64-bit ends are approximate). */
export function intRange(t: DataType): { min: number; max: number } {
  if (t === 'bool') return { min: 0, max: 1 };
  const b = bits(t);
  if (isUnsigned(t)) return { min: 0, max: 2 ** b - 1 };
  return { min: -(2 ** (b - 1)), max: 2 ** (b - 1) - 1 };
}

/** The dtype of shape values, loop variables and indices unless told otherwise. */
export const INDEX_DTYPE: DataType = 'int64';
