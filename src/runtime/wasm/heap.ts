/**
 * A heap over a WebAssembly memory: first-fit over a free list kept sorted by
 * address, neighbours merged on free, the memory grown when nothing fits.
 * Blocks start at multiples of 64 bytes (a cache line; SIMD loads need 16).
 * Address 0 is never handed out.
 */
import type { WasmMemory } from './api.ts';

const ALIGN = 64;
const PAGE = 65536;

interface Block {
  ptr: number;
  size: number;
}

export class Heap {
  private readonly free: Block[] = [];
  private readonly used = new Map<number, number>();
  private end: number;

  constructor(readonly memory: WasmMemory) {
    this.end = memory.buffer.byteLength;
    if (this.end > ALIGN) this.free.push({ ptr: ALIGN, size: this.end - ALIGN });
  }

  /** Bytes in use. */
  get inUse(): number {
    let n = 0;
    for (const s of this.used.values()) n += s;
    return n;
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let i = this.free.findIndex((b) => b.size >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex((b) => b.size >= size);
      if (i < 0) throw new RangeError(`cannot allocate ${bytes} bytes of WebAssembly memory`);
    }
    const b = this.free[i]!;
    const ptr = b.ptr;
    if (b.size === size) this.free.splice(i, 1);
    else {
      b.ptr += size;
      b.size -= size;
    }
    this.used.set(ptr, size);
    return ptr;
  }

  /** Frees a block `alloc` returned; freeing twice is harmless. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) return;
    this.used.delete(ptr);
    this.insert({ ptr, size });
  }

  private insert(block: Block): void {
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < block.ptr) i++;
    this.free.splice(i, 0, block);
    const next = this.free[i + 1];
    if (next && block.ptr + block.size === next.ptr) {
      block.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === block.ptr) {
      prev.size += block.size;
      this.free.splice(i, 1);
    }
  }

  /** Grows the memory by at least `size` bytes (and by half its size, so growth is rare). */
  private grow(size: number): void {
    const want = Math.max(size, Math.floor(this.end / 2));
    const pages = Math.ceil(want / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new RangeError(
        `cannot grow WebAssembly memory by ${pages * PAGE} bytes (now ${this.end} bytes; a 32-bit memory holds at most 4 GiB)`,
      );
    }
    const start = this.end;
    this.end = this.memory.buffer.byteLength;
    this.insert({ ptr: start, size: this.end - start });
  }
}
