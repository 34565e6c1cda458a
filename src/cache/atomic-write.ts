/**
 * Atomic writes: the bytes go to a uniquely named file in the store's `tmp/`
 * (the same file system as the entries) and are renamed into place, so a
 * reader sees the whole entry or none, and a writer killed midway leaves only
 * a temporary file, which `gc`/`clear` remove once it is stale.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errnoCode, removeFile } from './fs-util.ts';
import { TEMP_DIR } from './layout.ts';
import { writeAllSync } from '../support/io-chunks.ts';
import { isStreamed, type StreamedBytes } from '../support/streamed-bytes.ts';

/** Bytes between two progress reports of a blob's write: a multi-GB weight reports a few hundred times. */
const PROGRESS_STEP_BYTES = 4 * 1024 * 1024;

export type ChunkHook = (written: number, total: number) => void | Promise<void>;

export async function writeFileAtomic(
  root: string,
  dest: string,
  data: Uint8Array | StreamedBytes,
  afterChunk?: ChunkHook,
): Promise<void> {
  const temp = join(root, TEMP_DIR, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  try {
    await writeTemp(temp, data, afterChunk);
    await renameIntoPlace(temp, dest);
  } catch (error) {
    await removeFile(temp);
    throw error;
  }
}

/** As `writeFileAtomic`, with the content of the file `source` (copied by the kernel, cloned where possible). */
export async function copyFileAtomic(root: string, source: string, dest: string): Promise<void> {
  const temp = join(root, TEMP_DIR, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  try {
    await (await openExclusive(temp)).close();
    await copyFile(source, temp, constants.COPYFILE_FICLONE);
    await renameIntoPlace(temp, dest);
  } catch (error) {
    await removeFile(temp);
    throw error;
  }
}

async function writeTemp(temp: string, data: Uint8Array | StreamedBytes, afterChunk: ChunkHook | undefined): Promise<void> {
  const file = await openExclusive(temp);
  try {
    let written = 0;
    for (const piece of isStreamed(data) ? data.chunks() : [data]) {
      // Each piece is written before the next is asked for (a piece may reuse the last one's memory).
      // Written synchronously, in small calls (see WRITE_CHUNK_BYTES): a thread-pool round trip per
      // call cost more than the copy; progress is reported per PROGRESS_STEP_BYTES.
      for (let at = 0; at < piece.byteLength;) {
        const n = Math.min(PROGRESS_STEP_BYTES, piece.byteLength - at);
        writeAllSync(file.fd, piece.subarray(at, at + n));
        at += n;
        written += n;
        await afterChunk?.(written, data.byteLength);
      }
    }
    if (written !== data.byteLength) throw new Error(`${temp}: wrote ${written} bytes, expected ${data.byteLength}`);
  } finally {
    await file.close();
  }
}

async function openExclusive(temp: string) {
  try {
    return await open(temp, 'wx');
  } catch (error) {
    // The store may be new, or removed by hand while this process kept it open.
    if (errnoCode(error) !== 'ENOENT') throw error;
    await mkdir(dirname(temp), { recursive: true });
    return await open(temp, 'wx');
  }
}

/**
 * Renames over an existing entry are fine: an entry's content is determined by
 * its name (or, for actions, any complete record is acceptable). A missing
 * shard directory, including one that a concurrent `clear` just removed, is
 * created and the rename retried.
 */
async function renameIntoPlace(temp: string, dest: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await rename(temp, dest);
      return;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' && attempt <= 3) {
        await mkdir(dirname(dest), { recursive: true });
        continue;
      }
      // Windows refuses to replace a file another process has open; the entry is there, which is all we need.
      if ((code === 'EEXIST' || code === 'EPERM' || code === 'EACCES') && (await exists(dest))) {
        await removeFile(temp);
        return;
      }
      throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
