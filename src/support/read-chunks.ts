/**
 * The buffers that weights stream through (hashing a model's ranges, copying them into the
 * cache or an artifact), reused across reads. A fresh multi-MiB buffer per weight is fresh
 * memory for each: the kernel maps and zeroes its pages again on first touch, which cost an
 * import of ResNet-50 (320 weights) more than reading the bytes did.
 */

/** Bytes read at a time while a weight streams. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

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
