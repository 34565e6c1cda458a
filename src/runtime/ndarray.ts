/**
 * NDArray: a dense, row-major tensor on a device. On the CPU its elements are
 * a typed array (`data`); on other devices `storage` is the device's handle
 * and `toCpu()` reads it back.
 */
import {
  bfloat16ToNumber,
  bytesPerElement,
  type DType,
  halfToNumber,
  isBigIntDType,
  isDType,
  numberToBfloat16,
  numberToHalf,
  storageOf,
  type TypedArray,
} from './dtype.ts';

export interface Device {
  readonly kind: string;
  /** Shown in messages: "cpu", "webgpu (NVIDIA ...)". */
  readonly name: string;
  /** A new tensor on this device; on the CPU its elements are zero. */
  empty(shape: readonly number[], dtype: DType): NDArray;
  /** A copy of a tensor on this device (the tensor itself when it is already here). */
  upload(t: NDArray): NDArray | Promise<NDArray>;
  /** A CPU copy of a tensor of this device. */
  download(t: NDArray): NDArray | Promise<NDArray>;
  /** For a cpu device whose tensors are not plain typed arrays (WebAssembly memory): a view of a tensor's elements. */
  hostData?(t: NDArray): TypedArray;
  /** Frees a tensor's memory now, where the device manages memory itself (WebAssembly memory). */
  free?(t: NDArray): void;
  /** A host copy of a tensor, its device memory freed: what a call returns on a device that manages its memory. */
  takeOut?(t: NDArray): NDArray;
  /**
   * A tensor whose elements lie at `byteOffset` of `arena` (a uint8 tensor of this device), sharing
   * its memory: how the VM places the tensors of a memory plan. Devices without it allocate each.
   */
  view?(arena: NDArray, byteOffset: number, shape: readonly number[], dtype: DType): NDArray;
  /**
   * The arena of a memory plan's block, `bytes` long, for `view`; `empty([bytes], 'uint8')` where absent.
   * A device whose tensors cannot share one buffer (webgpu) keeps one buffer per offset (per storage token) in it.
   */
  arena?(bytes: number): NDArray;
}

export class NDArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  /** The elements (a typed array) on the CPU; the device's buffer elsewhere. */
  readonly storage: unknown;

  constructor(shape: readonly number[], dtype: DType, device: Device, storage: unknown) {
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid tensor shape [${shape.join(', ')}]`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    this.storage = storage;
  }

  /** The number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  get byteLength(): number {
    return this.size * bytesPerElement(this.dtype);
  }

  /** The elements, for a tensor on the CPU. */
  get data(): TypedArray {
    if (this.device.kind !== 'cpu') {
      throw new Error(`this tensor is on ${this.device.name}; call toCpu() to read its elements`);
    }
    return this.device.hostData ? this.device.hostData(this) : (this.storage as TypedArray);
  }

  /** Frees the tensor's memory now where its device manages memory itself; it must not be used afterwards. */
  dispose(): void {
    this.device.free?.(this);
  }

  /** A CPU copy (the tensor itself when it is on the CPU). */
  async toCpu(): Promise<NDArray> {
    return this.device.kind === 'cpu' ? this : this.device.download(this);
  }

  /**
   * The elements as plain numbers (int64 beyond 2^53 loses precision; float16 decoded;
   * bool as 0/1), for printing and comparing.
   */
  toNumbers(): number[] {
    return numbersOf(this.dtype, this.data);
  }

  toString(): string {
    return `NDArray(${this.dtype}[${this.shape.join(', ')}] on ${this.device.name})`;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function numbersOf(dtype: DType, data: TypedArray): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = dtype === 'float16' ? halfToNumber(Number(v)) : dtype === 'bfloat16' ? bfloat16ToNumber(Number(v)) : Number(v);
  }
  return out;
}

/** The CPU device: tensors are typed arrays. */
export const cpu: Device = {
  kind: 'cpu',
  name: 'cpu',
  empty: (shape, dtype) => new NDArray(shape, dtype, cpu, new (storageOf(dtype))(sizeOf(shape))),
  upload: (t) => (t.device.kind === 'cpu' ? t : t.device.download(t)),
  download: (t) => t,
  view: (arena, byteOffset, shape, dtype) => {
    const bytes = arena.data as Uint8Array;
    const Storage = storageOf(dtype);
    const size = sizeOf(shape);
    if (byteOffset % Storage.BYTES_PER_ELEMENT !== 0 || byteOffset + size * Storage.BYTES_PER_ELEMENT > bytes.byteLength) {
      throw new RangeError(
        `a ${dtype}[${shape.join(', ')}] tensor does not fit at byte ${byteOffset} of an arena of ${bytes.byteLength} bytes`,
      );
    }
    return new NDArray(shape, dtype, cpu, new Storage(bytes.buffer, bytes.byteOffset + byteOffset, size));
  },
};

/**
 * A CPU tensor from its elements: a typed array of the dtype's storage type is used as
 * is; numbers (or bigints) are converted (float16 and bfloat16 from their values).
 */
export function tensor(
  data: TypedArray | ArrayLike<number> | ArrayLike<bigint>,
  shape: readonly number[],
  dtype: DType = 'float32',
): NDArray {
  if (!isDType(dtype)) throw new TypeError(`unknown dtype '${String(dtype)}'`);
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw new RangeError(`a tensor of shape [${shape.join(', ')}] has ${size} elements, ${data.length} given`);
  }
  const Storage = storageOf(dtype);
  if (data instanceof Storage && dtype !== 'float16' && dtype !== 'bfloat16') return new NDArray(shape, dtype, cpu, data);
  if (data instanceof Uint16Array && (dtype === 'float16' || dtype === 'bfloat16')) return new NDArray(shape, dtype, cpu, data);
  const out = new Storage(size);
  for (let i = 0; i < size; i++) {
    const v = (data as ArrayLike<number | bigint>)[i]!;
    if (isBigIntDType(dtype)) (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    else if (dtype === 'float16') out[i] = numberToHalf(Number(v));
    else if (dtype === 'bfloat16') out[i] = numberToBfloat16(Number(v));
    else out[i] = Number(v);
  }
  return new NDArray(shape, dtype, cpu, out);
}
