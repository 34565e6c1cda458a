/**
 * The embedded default store: a directory (`.kiln/cache` unless configured)
 * holding `cas/` (blobs by sha256), `ac/` (action entries by stage key) and
 * `tmp/` (writes in flight). Every read verifies what it returns; a damaged
 * entry is deleted, reported and treated as a miss, so the build recomputes it
 * instead of using a wrong result.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256Hex } from '../support/hash.ts';
import { decodeActionEntry, encodeActionEntry } from './action-entry.ts';
import { type ChunkHook, writeFileAtomic } from './atomic-write.ts';
import { describeError, errnoCode, removeFile, removeFileSync, touch, touchSync } from './fs-util.ts';
import { collectGarbage, removeStaleTempFiles } from './gc.ts';
import { ENTRY_DIRS, entryLabel, entryPath } from './layout.ts';
import { computeStats } from './stats.ts';
import type { CacheStats, CacheStore, EntryKind, GcResult } from './store.ts';

export interface LocalStoreOptions {
  /** Receives a message for each damaged entry that was evicted. Defaults to `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
  /**
   * Called (and awaited) after each chunk of a blob reaches its temporary file:
   * progress for multi-GB weights, and a point at which tests can stop a writer.
   */
  readonly onWriteProgress?: (hash: string, written: number, total: number) => void | Promise<void>;
}

export function openLocalStore(root: string, options: LocalStoreOptions = {}): CacheStore {
  return new LocalStore(resolve(root), options);
}

class LocalStore implements CacheStore {
  private readonly warn: (message: string) => void;

  constructor(
    readonly root: string,
    private readonly options: LocalStoreOptions,
  ) {
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, 'KilnCacheWarning'));
  }

  async getAction(key: string): Promise<unknown> {
    const path = entryPath(this.root, 'action', key);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      return this.evict('action', key, path, `unreadable (${describeError(error)})`, await removeFile(path));
    }
    const decoded = decodeActionEntry(text);
    if (!decoded.ok) return this.evict('action', key, path, decoded.reason, await removeFile(path));
    await touch(path);
    return decoded.payload;
  }

  async putAction(key: string, payload: unknown): Promise<void> {
    const path = entryPath(this.root, 'action', key);
    await writeFileAtomic(this.root, path, Buffer.from(encodeActionEntry(payload), 'utf8'));
  }

  async hasBlob(hash: string): Promise<boolean> {
    const path = entryPath(this.root, 'blob', hash);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) return false;
    // Callers check presence to rely on a blob without reading it yet; that is a use, for LRU.
    await touch(path);
    return true;
  }

  async readBlob(hash: string): Promise<Uint8Array | undefined> {
    const path = entryPath(this.root, 'blob', hash);
    let bytes: Uint8Array;
    try {
      bytes = plainBytes(await readFile(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      return this.evict('blob', hash, path, `unreadable (${describeError(error)})`, await removeFile(path));
    }
    const problem = blobProblem(hash, bytes);
    if (problem !== undefined) return this.evict('blob', hash, path, problem, await removeFile(path));
    await touch(path);
    return bytes;
  }

  readBlobSync(hash: string): Uint8Array | undefined {
    const path = entryPath(this.root, 'blob', hash);
    let bytes: Uint8Array;
    try {
      bytes = plainBytes(readFileSync(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      return this.evict('blob', hash, path, `unreadable (${describeError(error)})`, removeFileSync(path));
    }
    const problem = blobProblem(hash, bytes);
    if (problem !== undefined) return this.evict('blob', hash, path, problem, removeFileSync(path));
    touchSync(path);
    return bytes;
  }

  async writeBlob(bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    const path = entryPath(this.root, 'blob', hash);
    // Trusting a present file of the right size keeps re-writing multi-GB weights cheap;
    // the size check still replaces a truncated one, and reads verify the rest.
    const present = await stat(path).catch(() => undefined);
    if (present?.isFile() && present.size === bytes.byteLength) {
      await touch(path);
      return hash;
    }
    const progress = this.options.onWriteProgress;
    const afterChunk: ChunkHook | undefined = progress && ((written, total) => progress(hash, written, total));
    await writeFileAtomic(this.root, path, bytes, afterChunk);
    return hash;
  }

  stats(): Promise<CacheStats> {
    return computeStats(this.root);
  }

  gc(maxBytes: number): Promise<GcResult> {
    return collectGarbage(this.root, maxBytes);
  }

  async clear(): Promise<void> {
    // Writers in flight recreate the shard directory they rename into; their temporary files are left alone.
    await Promise.all(Object.values(ENTRY_DIRS).map((dir) => rm(join(this.root, dir), { recursive: true, force: true })));
    await removeStaleTempFiles(this.root);
  }

  private evict(kind: EntryKind, name: string, path: string, reason: string, removalFailure: string | undefined): undefined {
    const what = kind === 'action' ? 'action entry' : 'blob';
    const outcome =
      removalFailure === undefined ? 'evicted it' : `could not evict it (${removalFailure}); delete ${path} by hand`;
    this.warn(`cache: ${what} ${entryLabel(kind, name)} is corrupt: ${reason}; ${outcome} and treated it as a miss`);
    return undefined;
  }
}

function blobProblem(hash: string, bytes: Uint8Array): string | undefined {
  const actual = sha256Hex(bytes);
  return actual === hash ? undefined : `its ${bytes.byteLength} bytes hash to ${actual}`;
}

/** Callers get what the interface promises, not a Buffer whose equality and methods differ (a view, no copy). */
function plainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
