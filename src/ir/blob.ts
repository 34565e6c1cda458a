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
}

export function blobFromBytes(bytes: Uint8Array): Blob {
  const hash = sha256Hex(bytes);
  return { hash, byteLength: bytes.byteLength, bytes: () => bytes };
}

/** A blob whose bytes are read on first use (from a cache directory, a file, ...). */
export function lazyBlob(hash: string, byteLength: number, read: () => Uint8Array): Blob {
  let cached: Uint8Array | undefined;
  return {
    hash,
    byteLength,
    bytes: () => (cached ??= read()),
  };
}

/** A reference to bytes that are not here: hashing and printing work, reading fails clearly. */
export function unresolvedBlob(hash: string, byteLength: number): Blob {
  return { hash, byteLength, bytes: () => fail(M.blobUnavailable, { hash }) };
}

export function isHash(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
