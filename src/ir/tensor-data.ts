/**
 * Tensor element encoding: values to little-endian bytes and back, for the
 * dtypes of the IR. 64-bit integers are bigints so they stay exact.
 */
import { byteSize, type DataType } from './dtype.ts';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './float-bits.ts';

export type ElementValue = number | bigint | boolean;

export function encodeValues(values: readonly ElementValue[], dtype: DataType): Uint8Array {
  const n = values.length;
  const bytes = new Uint8Array(n * byteSize(dtype));
  const view = new DataView(bytes.buffer);
  const num = (v: ElementValue): number => (typeof v === 'boolean' ? (v ? 1 : 0) : Number(v));
  const big = (v: ElementValue): bigint => (typeof v === 'bigint' ? v : BigInt(Math.trunc(num(v))));
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    switch (dtype) {
      case 'bool':
        view.setUint8(i, num(v) !== 0 ? 1 : 0);
        break;
      case 'int8':
        view.setInt8(i, num(v));
        break;
      case 'uint8':
        view.setUint8(i, num(v));
        break;
      case 'int16':
        view.setInt16(i * 2, num(v), true);
        break;
      case 'uint16':
        view.setUint16(i * 2, num(v), true);
        break;
      case 'int32':
        view.setInt32(i * 4, num(v), true);
        break;
      case 'uint32':
        view.setUint32(i * 4, num(v), true);
        break;
      case 'int64':
        view.setBigInt64(i * 8, big(v), true);
        break;
      case 'uint64':
        view.setBigUint64(i * 8, big(v), true);
        break;
      case 'float16':
        view.setUint16(i * 2, toFloat16Bits(num(v)), true);
        break;
      case 'bfloat16':
        view.setUint16(i * 2, toBFloat16Bits(num(v)), true);
        break;
      case 'float32':
        view.setFloat32(i * 4, num(v), true);
        break;
      case 'float64':
        view.setFloat64(i * 8, num(v), true);
        break;
    }
  }
  return bytes;
}

export function decodeValues(bytes: Uint8Array, dtype: DataType): ElementValue[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / byteSize(dtype);
  const out: ElementValue[] = new Array<ElementValue>(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'bool':
        out[i] = view.getUint8(i) !== 0;
        break;
      case 'int8':
        out[i] = view.getInt8(i);
        break;
      case 'uint8':
        out[i] = view.getUint8(i);
        break;
      case 'int16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'uint16':
        out[i] = view.getUint16(i * 2, true);
        break;
      case 'int32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'uint32':
        out[i] = view.getUint32(i * 4, true);
        break;
      case 'int64':
        out[i] = view.getBigInt64(i * 8, true);
        break;
      case 'uint64':
        out[i] = view.getBigUint64(i * 8, true);
        break;
      case 'float16':
        out[i] = fromFloat16Bits(view.getUint16(i * 2, true));
        break;
      case 'bfloat16':
        out[i] = fromBFloat16Bits(view.getUint16(i * 2, true));
        break;
      case 'float32':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'float64':
        out[i] = view.getFloat64(i * 8, true);
        break;
    }
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
