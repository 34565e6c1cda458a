/// <reference types="@webgpu/types" />
/**
 * How tensors are laid out in GPU buffers (kernel-spec.ts's GpuStorage rule),
 * and the element conversions between a CPU tensor's typed array and those
 * buffers. Shared by the device and the WGSL code generator, so both agree.
 */
import {
  bfloat16ToNumber,
  type DType,
  halfToNumber,
  isDType,
  numberToBfloat16,
  numberToHalf,
  storageOf,
  type TypedArray,
} from '../dtype.ts';
import type { GpuStorage } from './kernel-spec.ts';

/** What an NDArray's `storage` is on a webgpu device. */
export interface WebGpuStorage {
  readonly buffer: GPUBuffer;
  /** How its elements are stored (its dtype per gpuStorageOf). */
  readonly storage: GpuStorage;
}

/**
 * What a memory plan's arena is on a webgpu device: WebGPU binds a buffer either writable or read-only
 * in one launch, whatever the ranges, so tensors of one arena cannot share a buffer; each storage token
 * (the tensors placed at one offset, one after another) gets its own, made when first needed.
 */
export interface WebGpuArena {
  readonly bytes: number;
  readonly tokens: Map<number, GPUBuffer>;
}

/**
 * The GPU storage type of `dtype`: bool and small ints widen to i32/u32, int64/uint64
 * narrow to i32/u32 (uploads check every value fits), bfloat16 widens to f32, float16
 * is f16 only with shader-f16. WebGPU has no 64-bit floats, so float64 is an error.
 */
export function gpuStorageOf(dtype: DType | (string & {}), hasF16: boolean): GpuStorage {
  switch (dtype) {
    case 'bool':
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return 'i32';
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return 'u32';
    case 'float32':
    case 'bfloat16':
      return 'f32';
    case 'float16':
      return hasF16 ? 'f16' : 'f32';
    case 'float64':
      throw new TypeError('WebGPU has no 64-bit floats: a float64 tensor cannot live on a webgpu device; cast it to float32');
    default:
      throw new TypeError(`unknown dtype '${dtype}'`);
  }
}

export function storageBytes(storage: GpuStorage): number {
  return storage === 'f16' ? 2 : 4;
}

/**
 * A buffer's byte size for `count` elements: whole 16 bytes (never empty), so a kernel's vector
 * view of it (`array<vec4<f32>>`, see codegen/wgsl/lanes.ts) reaches its last elements.
 */
export function bufferBytes(count: number, storage: GpuStorage): number {
  return Math.max(16, Math.ceil((count * storageBytes(storage)) / 16) * 16);
}

type GpuArray = Int32Array | Uint32Array | Float32Array | Uint16Array;

/**
 * The elements of a CPU tensor's `data` as stored on the GPU. `shape` is only for
 * messages: an int64/uint64 value outside 32 bits is a RangeError naming it.
 */
export function toGpuElements(dtype: DType, data: TypedArray, storage: GpuStorage, shape: readonly number[]): GpuArray {
  const n = data.length;
  switch (storage) {
    case 'f16':
      // float16 bits are already what an array<f16> holds.
      return Uint16Array.from(data as Uint16Array);
    case 'f32': {
      if (dtype === 'float32') return Float32Array.from(data as Float32Array);
      const out = new Float32Array(n);
      const decode = dtype === 'float16' ? halfToNumber : bfloat16ToNumber;
      for (let i = 0; i < n; i++) out[i] = decode(data[i] as number);
      return out;
    }
    case 'i32':
    case 'u32': {
      const out = storage === 'i32' ? new Int32Array(n) : new Uint32Array(n);
      if (dtype === 'int64' || dtype === 'uint64') {
        const [lo, hi] = storage === 'i32' ? [-(2n ** 31n), 2n ** 31n - 1n] : [0n, 2n ** 32n - 1n];
        for (let i = 0; i < n; i++) {
          const v = data[i] as bigint;
          if (v < lo || v > hi) {
            throw new RangeError(
              `cannot put this ${dtype} tensor on webgpu: element ${i} (index [${unravel(i, shape).join(', ')}]) is ${v}, ` +
                `outside the ${storage} range WebGPU stores ${dtype} in (WebGPU has no 64-bit integers)`,
            );
          }
          out[i] = Number(v);
        }
      } else if (dtype === 'bool') {
        for (let i = 0; i < n; i++) out[i] = data[i] ? 1 : 0;
      } else {
        out.set(data as ArrayLike<number>);
      }
      return out;
    }
  }
}

/** A CPU tensor's typed array of `dtype` from the bytes of a GPU buffer holding `count` elements. */
export function fromGpuBytes(bytes: ArrayBuffer, dtype: DType, storage: GpuStorage, count: number): TypedArray {
  if (!isDType(dtype)) throw new TypeError(`unknown dtype '${String(dtype)}'`);
  // Every dtype but the 64-bit ones (handled below) takes numbers.
  const out = new (storageOf(dtype))(count) as TypedArray & { set(a: ArrayLike<number>): void };
  if (storage === 'f16') {
    out.set(new Uint16Array(bytes, 0, count));
    return out;
  }
  const src =
    storage === 'f32'
      ? new Float32Array(bytes, 0, count)
      : storage === 'i32'
        ? new Int32Array(bytes, 0, count)
        : new Uint32Array(bytes, 0, count);
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = numberToHalf(src[i]!);
      return out;
    case 'bfloat16':
      for (let i = 0; i < count; i++) out[i] = numberToBfloat16(src[i]!);
      return out;
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = src[i] ? 1 : 0;
      return out;
    case 'int64':
    case 'uint64':
      for (let i = 0; i < count; i++) out[i] = BigInt(src[i]!);
      return out;
    default:
      // Typed-array stores wrap like a C narrowing cast (an int8 kernel's i32 results fit anyway).
      out.set(src);
      return out;
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    idx[d] = n === 0 ? 0 : i % n;
    i = n === 0 ? i : Math.floor(i / n);
  }
  return idx;
}
