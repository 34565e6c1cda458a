/**
 * The embedded default store: a directory (`.kiln/cache` unless configured)
 * holding `cas/` (blobs by sha256), `ac/` (action entries by stage key) and
 * `tmp/` (writes in flight). Every read verifies what it returns; a damaged
 * entry is deleted, reported and treated as a miss, so the build recomputes it
 * instead of using a wrong result. A store that cannot be written (read-only,
 * full, no permission) warns once and goes on without storing: builds still
 * run, uncached.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fsReason, isErrnoError } from '../support/fs-errors.ts';
import { sha256Hex } from '../support/hash.ts';
import { isStreamed, type StreamedBytes } from '../support/streamed-bytes.ts';
import { decodeActionEntry, encodeActionEntry } from './action-entry.ts';
import { type ChunkHook, copyFileAtomic, writeFileAtomic } from './atomic-write.ts';
import { describeError, errnoCode, removeFile, removeFileSync, touch, touchSync } from './fs-util.ts';
import { collectGarbage, removeStaleTempFiles } from './gc.ts';
import { ENTRY_DIRS, entryLabel, entryPath, TEMP_DIR, UP_TO_DATE_DIR } from './layout.ts';
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
  /** Set once a write failed for a reason of the file system's: later writes are skipped. */
  private unwritable = false;

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
      if (isAbsent(error)) return undefined;
      return this.evict('action', key, path, `unreadable (${describeError(error)})`, await removeFile(path));
    }
    const decoded = decodeActionEntry(text);
    if (!decoded.ok) return this.evict('action', key, path, decoded.reason, await removeFile(path));
    await touch(path);
    return decoded.payload;
  }

  async putAction(key: string, payload: unknown): Promise<void> {
    const path = entryPath(this.root, 'action', key);
    const text = encodeActionEntry(payload);
    await this.write(() => writeFileAtomic(this.root, path, Buffer.from(text, 'utf8')));
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
      if (isAbsent(error)) return undefined;
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
      if (isAbsent(error)) return undefined;
      return this.evict('blob', hash, path, `unreadable (${describeError(error)})`, removeFileSync(path));
    }
    const problem = blobProblem(hash, bytes);
    if (problem !== undefined) return this.evict('blob', hash, path, problem, removeFileSync(path));
    touchSync(path);
    return bytes;
  }

  async writeBlob(bytes: Uint8Array | StreamedBytes, knownHash?: string): Promise<string> {
    if (knownHash === undefined && isStreamed(bytes)) throw new Error('writeBlob: content in pieces needs its hash');
    const hash = knownHash ?? sha256Hex(bytes as Uint8Array);
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
    await this.write(() => writeFileAtomic(this.root, path, bytes, afterChunk));
    return hash;
  }

  async writeBlobFromFile(source: string, hash: string): Promise<void> {
    const path = entryPath(this.root, 'blob', hash);
    const size = (await stat(source)).size;
    const present = await stat(path).catch(() => undefined);
    if (present?.isFile() && present.size === size) {
      await touch(path);
      return;
    }
    // The kernel copies (or clones, where the file system can): the content never passes through memory.
    await this.write(() => copyFileAtomic(this.root, source, path));
  }

  /**
   * Runs a write unless the store already proved unwritable. A file-system error (read-only,
   * full, permissions, a file where a directory belongs) makes it so, with one warning: the
   * build goes on without storing. A failed write leaves no entry, only a miss.
   */
  private async write(run: () => Promise<void>): Promise<void> {
    if (this.unwritable) return;
    try {
      await run();
    } catch (error) {
      if (!isErrnoError(error)) throw error;
      this.unwritable = true;
      this.warn(`cache ${this.root} cannot be written: ${fsReason(error)}; building without storing results in it`);
    }
  }

  stats(): Promise<CacheStats> {
    return computeStats(this.root);
  }

  gc(maxBytes: number): Promise<GcResult> {
    return collectGarbage(this.root, maxBytes);
  }

  async clear(): Promise<void> {
    // Each entry directory is first renamed aside, in one step, then deleted: a build writing
    // meanwhile renames its entries into a fresh directory (recreated on demand), never into
    // the one being deleted, which would then not be empty when its turn comes.
    await Promise.all(
      Object.values(ENTRY_DIRS).map(async (dir) => {
        const entries = join(this.root, dir);
        if (!(await stat(entries).catch(() => undefined))) return;
        const aside = join(this.root, TEMP_DIR, `clear-${process.pid}-${randomBytes(6).toString('hex')}`);
        await mkdir(join(this.root, TEMP_DIR), { recursive: true });
        try {
          await rename(entries, aside);
        } catch (error) {
          if (errnoCode(error) === 'ENOENT') return; // another clear got there first
          throw error;
        }
        await rm(aside, { recursive: true, force: true, maxRetries: 3 });
      }),
    );
    // Stamps of the up-to-date check name entries that are gone now; they would only miss.
    await rm(join(this.root, UP_TO_DATE_DIR), { recursive: true, force: true, maxRetries: 3 });
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

/** Not there: a miss, not damage (ENOTDIR: a file stands where the store's directory would be). */
function isAbsent(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function blobProblem(hash: string, bytes: Uint8Array): string | undefined {
  const actual = sha256Hex(bytes);
  return actual === hash ? undefined : `its ${bytes.byteLength} bytes hash to ${actual}`;
}

/** Callers get what the interface promises, not a Buffer whose equality and methods differ (a view, no copy). */
function plainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
