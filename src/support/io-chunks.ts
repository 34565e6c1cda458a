/**
 * The sizes weights stream in, and the buffers they stream through (hashing a model's ranges,
 * copying them into the cache or an artifact), reused across reads. A fresh multi-MiB buffer
 * per weight is fresh memory for each: the kernel maps and zeroes its pages again on first
 * touch, which cost an import of ResNet-50 (267 weights) more than reading the bytes did.
 * Node-only (node:fs): for the file readers and writers of frontends, cache and pipeline; the IR,
 * which must run in a browser, never imports it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Bytes read at a time while a weight streams. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Bytes handed to one write() of new file data. Larger writes were up to 5x slower on this
 * project's Linux VMs (kernel 6.18, ext4, whose page cache takes folios as large as the write):
 * 244 MB written in 256 KiB calls took 70-80 ms, in 1 MiB calls 265-330 ms and in 4 MiB
 * calls 290-480 ms, when the kernel had no large free blocks at hand (as after a `sync`).
 */
export const WRITE_CHUNK_BYTES = 256 * 1024;

/** Writes all of `bytes` to `fd` at its position, WRITE_CHUNK_BYTES at a time. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength;) {
    at += writeSync(fd, bytes, at, Math.min(WRITE_CHUNK_BYTES, bytes.byteLength - at));
  }
}

/** Buffers handed back, ready for the next reader (a few: readers rarely overlap). */
const free: Buffer[] = [];
const KEEP_FREE = 4;

/** A READ_CHUNK_BYTES buffer (its content is whatever the last reader left): give it back with `releaseChunk`. */
export function borrowChunk(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
}

export function releaseChunk(chunk: Buffer): void {
  if (free.length < KEEP_FREE && !free.includes(chunk)) free.push(chunk);
}

/** Runs `use` with a borrowed chunk, given back afterwards. */
export function withChunk<T>(use: (chunk: Buffer) => T): T {
  const chunk = borrowChunk();
  try {
    return use(chunk);
  } finally {
    releaseChunk(chunk);
  }
}

/** `writeFileSync`, WRITE_CHUNK_BYTES at a time. */
export function writeFileInChunksSync(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}
