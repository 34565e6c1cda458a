/**
 * Blobs: the bytes of a constant (a weight), referenced by content hash.
 * A serialized module holds only the hash; the bytes live in a store and are
 * read when a pass or codegen needs them, so caching a multi-GB model's stage
 * writes kilobytes.
 */
import { sha256Hex } from '../support/hash.ts';
import { fail, M } from '../support/messages.ts';

export interface Blob {
  /** SHA-256 of the bytes, hex. */
  readonly hash: string;
  readonly byteLength: number;
  /** The bytes, little-endian, row-major. Throws when they are not available. */
  bytes(): Uint8Array;
  /**
   * The bytes in pieces, for a writer that need not hold them whole (a weight read from a
   * file). A piece may be reused for the next: use it before asking for the next.
   */
  chunks?(): Iterable<Uint8Array>;
}

/** A blob's bytes in pieces: its own when it has them, else the whole in one. */
export function blobChunks(blob: Blob): Iterable<Uint8Array> {
  return blob.chunks ? blob.chunks() : [blob.bytes()];
}

export function blobFromBytes(bytes: Uint8Array): Blob {
  const hash = sha256Hex(bytes);
  return { hash, byteLength: bytes.byteLength, bytes: () => bytes };
}

/** Blobs up to this size keep their bytes once read; larger ones are read again at each use. */
export const KEEP_BLOB_BYTES = 1024 * 1024;

/**
 * A blob whose bytes are read when used (from a cache directory, a file, ...). A large one is
 * not kept: a build holds one weight at a time, never all of a model's.
 */
export function lazyBlob(hash: string, byteLength: number, read: () => Uint8Array): Blob {
  let kept: Uint8Array | undefined;
  return {
    hash,
    byteLength,
    bytes: () => {
      if (kept) return kept;
      const bytes = read();
      if (byteLength <= KEEP_BLOB_BYTES) kept = bytes;
      return bytes;
    },
  };
}

/** A reference to bytes that are not here: hashing and printing work, reading fails clearly. */
export function unresolvedBlob(hash: string, byteLength: number): Blob {
  return { hash, byteLength, bytes: () => fail(M.blobUnavailable, { hash }) };
}

export function isHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
