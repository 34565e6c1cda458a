/**
 * Read-back buffers, kept for the next download of a similar size. A fresh
 * MAP_READ buffer's first map touches new host memory, which on a VM costs
 * more than the copy itself: reading a 1.8 MB tensor back took 8.4 ms to map
 * a new buffer against 0.05 ms to map a reused one (lavapipe, this machine).
 * Sizes go up in powers of two so neighbouring sizes share a buffer; one free
 * buffer is kept per size.
 */
/// <reference types="@webgpu/types" />
import { BufferUsage } from './constants.ts';

/** The smallest read-back buffer made (a 4-byte scalar rounds up to it). */
const MIN_BYTES = 256;

export class StagingPool {
  private readonly free = new Map<number, GPUBuffer>();

  constructor(private readonly gpu: GPUDevice) {}

  /** A MAP_READ | COPY_DST buffer of at least `bytes`, unmapped. */
  take(bytes: number): GPUBuffer {
    const size = Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
    const kept = this.free.get(size);
    if (kept) {
      this.free.delete(size);
      return kept;
    }
    // Past maxBufferSize the rounded size would fail where the exact one fits.
    const exact = size > this.gpu.limits.maxBufferSize ? Math.ceil(bytes / 4) * 4 : size;
    return this.gpu.createBuffer({ size: exact, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  }

  /** Returns an unmapped buffer from take(); a second one of its size is destroyed. */
  give(buffer: GPUBuffer): void {
    if (this.free.has(buffer.size)) buffer.destroy();
    else this.free.set(buffer.size, buffer);
  }
}
