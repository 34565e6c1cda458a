/**
 * The CPU device of WebAssembly kernels: tensors live in the module's memory
 * (a kernel takes their addresses, nothing is copied), allocated from a heap
 * over it. It is a cpu device: `t.data` is a typed-array view of the
 * tensor's bytes, made anew on each access since growing a memory that is
 * not shared replaces its buffer. Tensors a call allocated are freed by the
 * VM when it returns, its results once copied to host memory (`takeOut`);
 * tensors uploaded by the caller when they are collected (or freed).
 */
import { type DType, bytesPerElement, storageOf, type TypedArray } from '../dtype.ts';
import { cpu, type Device, NDArray, sizeOf } from '../ndarray.ts';
import type { WasmMemory } from './api.ts';
import type { Heap } from './heap.ts';

export interface WasmStorage {
  /** Byte address in the memory. */
  readonly ptr: number;
  readonly bytes: number;
  /** For a tensor placed in a memory plan's arena: the arena, which owns the bytes (and is kept alive by it). */
  readonly arena?: NDArray;
}

export class WasmDevice implements Device {
  readonly kind = 'cpu';
  readonly name: string;
  private readonly live = new Set<number>();
  private readonly finalizer = new FinalizationRegistry<number>((ptr) => this.releasePtr(ptr));

  constructor(
    readonly memory: WasmMemory,
    readonly heap: Heap,
    readonly threads: number,
  ) {
    this.name = `cpu (WebAssembly, ${threads} thread${threads === 1 ? '' : 's'})`;
  }

  empty(shape: readonly number[], dtype: DType): NDArray {
    const t = this.allocate(shape, dtype);
    const s = t.storage as WasmStorage;
    zero(new Uint8Array(this.memory.buffer, s.ptr, s.bytes));
    return t;
  }

  /**
   * A memory plan's arena, not zeroed: every tensor placed in it is written by the kernel that makes it
   * before anything reads it (zeroing an arena cost as much as a small model's kernels).
   */
  arena(bytes: number): NDArray {
    return this.allocate([bytes], 'uint8');
  }

  upload(t: NDArray): NDArray | Promise<NDArray> {
    if (t.device === this) return t;
    if (t.device.kind !== 'cpu') return Promise.resolve(t.device.download(t)).then((c) => this.upload(c));
    // Not zeroed first: the copy writes every byte (a second pass over a large input costs as much as the copy).
    const out = this.allocate(t.shape, t.dtype);
    this.hostData(out).set(t.data as never);
    return out;
  }

  private allocate(shape: readonly number[], dtype: DType): NDArray {
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    const ptr = this.heap.alloc(bytes);
    this.live.add(ptr);
    const storage: WasmStorage = { ptr, bytes };
    const t = new NDArray(shape, dtype, this, storage);
    this.finalizer.register(t, ptr, storage);
    return t;
  }

  download(t: NDArray): NDArray {
    return t;
  }

  /** A tensor inside an arena of this device (a memory plan's placement): it owns no bytes, freeing it does nothing. */
  view(arena: NDArray, byteOffset: number, shape: readonly number[], dtype: DType): NDArray {
    const a = arena.storage as WasmStorage;
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    if (arena.device !== this || byteOffset < 0 || byteOffset + bytes > a.bytes) {
      throw new RangeError(
        `a ${dtype}[${shape.join(', ')}] tensor does not fit at byte ${byteOffset} of an arena of ${a.bytes} bytes`,
      );
    }
    const storage: WasmStorage = { ptr: a.ptr + byteOffset, bytes, arena };
    return new NDArray(shape, dtype, this, storage);
  }

  hostData(t: NDArray): TypedArray {
    const s = t.storage as WasmStorage;
    return new (storageOf(t.dtype))(this.memory.buffer, s.ptr, t.size);
  }

  /**
   * A copy in host memory of a tensor a call returns, its bytes here freed (what onnxruntime-web does
   * with its outputs): the memory does not grow call after call until the collector frees results.
   */
  takeOut(t: NDArray): NDArray {
    const view = this.hostData(t);
    const data = new (storageOf(t.dtype))(view.length);
    data.set(view as never);
    const copy = new NDArray(t.shape, t.dtype, cpu, data);
    this.free(t);
    return copy;
  }

  /** Frees a tensor's bytes now; using the tensor afterwards is an error of the caller's. A view frees nothing. */
  free(t: NDArray): void {
    const s = t.storage as WasmStorage;
    if (s.arena) return;
    this.finalizer.unregister(s);
    this.releasePtr(s.ptr);
  }

  private releasePtr(ptr: number): void {
    if (this.live.delete(ptr)) this.heap.release(ptr);
  }
}

export function isWasmDevice(d: Device): d is WasmDevice {
  return d instanceof WasmDevice;
}

/** Zeros, a block at a time copied in: V8's `fill` on a shared memory (threads) stores element by element. */
const ZEROS = new Uint8Array(1 << 16);

function zero(view: Uint8Array): void {
  for (let o = 0; o < view.length; o += ZEROS.length) {
    view.set(o + ZEROS.length <= view.length ? ZEROS : ZEROS.subarray(0, view.length - o), o);
  }
}
