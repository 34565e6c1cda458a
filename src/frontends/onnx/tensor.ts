/**
 * ONNX tensors (initializers, Constant values, test-data .pb files) as bytes
 * in Kiln's layout: little-endian, row-major, one of the IR's dtypes.
 * External data (`data_location: EXTERNAL`) is read from the file next to
 * the model that the tensor names.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { byteSize, type DataType } from '../../ir/dtype.ts';
import { encodeValues } from '../../ir/tensor-data.ts';
import { type FileRange, readRange } from './file-blob.ts';
import { stampOf } from './scan.ts';
import type { TensorProto } from './proto.ts';

/** ONNX TensorProto.DataType → Kiln dtype (undefined: not supported, e.g. strings, complex, float8). */
const ELEM_TYPES: Readonly<Record<number, DataType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

const ELEM_NAMES: Readonly<Record<number, string>> = {
  0: 'undefined',
  8: 'string',
  14: 'complex64',
  15: 'complex128',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};

export function dtypeOfElemType(t: number): DataType | undefined {
  return ELEM_TYPES[t];
}

export function elemTypeName(t: number): string {
  return ELEM_TYPES[t] ?? ELEM_NAMES[t] ?? `type ${t}`;
}

export function elemTypeOf(dtype: DataType): number {
  const e = Object.entries(ELEM_TYPES).find(([, d]) => d === dtype);
  if (!e) throw new Error(`no ONNX element type for ${dtype}`);
  return Number(e[0]);
}

export interface TensorBytes {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Why a tensor cannot be read, as a message; thrown as a plain Error for the caller to place. */
export class TensorError extends Error {}

/** Where a tensor's bytes are: here, or a range of a file (external data, or a payload the scan left in the model). */
export type TensorData =
  | { readonly dtype: DataType; readonly shape: readonly number[]; readonly bytes: Uint8Array }
  | { readonly dtype: DataType; readonly shape: readonly number[]; readonly range: FileRange; readonly hash?: string };

/**
 * The bytes of a TensorProto. `dir` is the model's directory, for external data.
 */
export function tensorBytes(t: TensorProto, dir: string | undefined): TensorBytes {
  const d = tensorData(t, dir);
  return 'bytes' in d ? d : { dtype: d.dtype, shape: d.shape, bytes: readRange(d.range, t.name) };
}

/**
 * A TensorProto's data without reading what lies in files: `raw_range` (set by the
 * importer for a payload the scan left in the model file) or external data are ranges.
 */
export function tensorData(t: TensorProto, dir: string | undefined): TensorData {
  const dtype = dtypeOfElemType(t.data_type);
  if (!dtype)
    throw new TensorError(`tensor '${t.name}' has element type ${elemTypeName(t.data_type)}, which Kiln does not support`);
  const shape = t.dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = count * byteSize(dtype);
  const mismatch = (have: number) =>
    new TensorError(`tensor '${t.name}' of shape [${shape.join(', ')}] (${dtype}) needs ${size} bytes, its data has ${have}`);
  if (t.data_location === 1) {
    const range = externalRange(t, dir, size);
    if (range.length !== size) throw mismatch(range.length);
    return { dtype, shape, range };
  }
  if (t.raw_range) {
    if (t.raw_range.range.length !== size) throw mismatch(t.raw_range.range.length);
    return { dtype, shape, ...t.raw_range };
  }
  let bytes: Uint8Array;
  if (t.raw_data && t.raw_data.length > 0) bytes = t.raw_data;
  else bytes = typedFieldBytes(t, dtype, count);
  if (bytes.byteLength !== size) throw mismatch(bytes.byteLength);
  // A copy that owns its buffer: raw_data may be a view into the whole model file.
  return { dtype, shape, bytes: new Uint8Array(bytes) };
}

function typedFieldBytes(t: TensorProto, dtype: DataType, count: number): Uint8Array {
  switch (dtype) {
    case 'float32':
      return encodeValues(t.float_data, dtype);
    case 'float64':
      return encodeValues(t.double_data, dtype);
    case 'int64':
      return encodeValues(t.int64_data, dtype);
    case 'uint32':
    case 'uint64':
      return encodeValues(t.uint64_data, dtype);
    case 'float16':
    case 'bfloat16': {
      // These hold the 16-bit patterns in int32_data.
      const out = new Uint8Array(t.int32_data.length * 2);
      const view = new DataView(out.buffer);
      t.int32_data.forEach((bits, i) => view.setUint16(i * 2, bits & 0xffff, true));
      return out;
    }
    default:
      if (count > 0 && t.int32_data.length === 0) return new Uint8Array(0);
      return encodeValues(t.int32_data, dtype);
  }
}

function externalRange(t: TensorProto, dir: string | undefined, size: number): FileRange {
  const info = new Map(t.external_data.map((e) => [e.key, e.value]));
  const location = info.get('location');
  if (!location) throw new TensorError(`tensor '${t.name}' has external data without a location`);
  if (dir === undefined) throw new TensorError(`tensor '${t.name}' has external data, but the model was not read from a file`);
  // The location is relative to the model and must stay inside its directory.
  const path = normalize(join(dir, location));
  if (isAbsolute(location) || relative(dir, path).startsWith('..')) {
    throw new TensorError(`tensor '${t.name}': external data location '${location}' is outside the model's directory`);
  }
  const offset = Number(info.get('offset') ?? 0);
  const length = info.has('length') ? Number(info.get('length')) : size;
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TensorError(`tensor '${t.name}': external data file '${location}' does not exist next to the model`);
  }
  if (offset + length > st.size) {
    throw new TensorError(`tensor '${t.name}': external data '${location}' has ${st.size} bytes, needs ${offset + length}`);
  }
  return { path, offset, length, stamp: stampOf(st) };
}

/** Paths of the external data files a tensor list refers to (for cache keys and watch). */
export function externalFiles(tensors: readonly TensorProto[], dir: string): string[] {
  const out = new Set<string>();
  for (const t of tensors) {
    if (t.data_location !== 1) continue;
    const location = t.external_data.find((e) => e.key === 'location')?.value;
    if (location) out.add(normalize(join(dir, location)));
  }
  return [...out].sort();
}
