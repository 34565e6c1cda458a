/**
 * The build cache's storage interface. The local directory store implements it,
 * and so does the local store backed by a remote HTTP one (Bazel's `/ac/<key>`,
 * `/cas/<sha256>`), which is why everything but lazy weight reads is async.
 */
import type { StreamedBytes } from '../support/streamed-bytes.ts';

/** Where a hit came from. */
export type ActionOrigin = 'local' | 'remote';

export interface CacheStore {
  /** Absolute path of the store's directory (or, for a remote store, its local fallback). */
  readonly root: string;
  /** The payload stored under a stage key, or undefined on a miss (including a corrupt entry). */
  getAction(key: string): Promise<unknown>;
  /**
   * Stores a JSON payload under a stage key, atomically; a concurrent writer of the same key may win.
   * `refs`: the blobs the entry needs; a shared (remote) store publishes the entry only once they
   * are all there, and not at all without them.
   */
  putAction(key: string, payload: unknown, refs?: readonly string[]): Promise<void>;
  /** Where the last `getAction` of this key found it; stores with one place need not say. */
  actionOrigin?(key: string): ActionOrigin | undefined;
  hasBlob(hash: string): Promise<boolean>;
  /** The bytes, verified against their hash, or undefined on a miss (including a corrupt blob). */
  readBlob(hash: string): Promise<Uint8Array | undefined>;
  /** As `readBlob`, for lazy weight loading, which cannot await. */
  readBlobSync(hash: string): Uint8Array | undefined;
  /**
   * Stores the bytes and returns their sha256; cheap when they are already present. `hash`: their
   * sha256 when the caller computed it as it read them, so they are not hashed twice (reads verify);
   * required for content that comes in pieces (written as it comes, never held whole).
   */
  writeBlob(bytes: Uint8Array, hash?: string): Promise<string>;
  writeBlob(bytes: StreamedBytes, hash: string): Promise<string>;
  /** Stores a file's content under its sha256, which the caller computed as it wrote the file. */
  writeBlobFromFile(path: string, hash: string): Promise<void>;
  stats(): Promise<CacheStats>;
  /** Evicts least recently used entries until actions plus blobs take at most `maxBytes`. */
  gc(maxBytes: number): Promise<GcResult>;
  /** Removes every entry (and stale temporary files). */
  clear(): Promise<void>;
}

export type EntryKind = 'action' | 'blob';

export interface CountAndBytes {
  readonly count: number;
  readonly bytes: number;
}

export interface CacheStats {
  readonly actions: CountAndBytes;
  readonly blobs: CountAndBytes;
  /** Actions plus blobs: the number `gc` bounds. */
  readonly totalBytes: number;
  /** Temporary files of writes in flight or interrupted; not counted in `totalBytes`. */
  readonly tempFiles: CountAndBytes;
  /** Last access (read or write) of the least and most recently used entry; undefined when empty. */
  readonly oldestAccess: Date | undefined;
  readonly newestAccess: Date | undefined;
}

export interface EvictedEntry {
  readonly kind: EntryKind;
  /** The action key or the blob hash. */
  readonly name: string;
  readonly bytes: number;
  readonly lastAccess: Date;
}

export interface GcResult {
  /** Oldest first. */
  readonly removed: readonly EvictedEntry[];
  readonly freedBytes: number;
  /** Actions plus blobs left after collection. */
  readonly remainingBytes: number;
  readonly staleTempFilesRemoved: number;
  /** Entries that should have gone but could not be removed, each `path: reason`. */
  readonly failures?: readonly string[];
}
