/**
 * Files a stage emits (an artifact, a report): written atomically where the
 * stage says, and stored in the cache so a cached stage can put them back.
 * All files are written to temporary names first and renamed in order only
 * then, so an interrupted build leaves the old set or the new one (a stage
 * emits its index file, such as an artifact's manifest, last).
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { CacheStore } from '../cache/index.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { sha256Hex } from '../support/hash.ts';
import { isStreamed, type StreamedBytes } from '../support/streamed-bytes.ts';

export async function materialize(
  dir: string,
  files: readonly { readonly path: string; readonly bytes: Uint8Array | StreamedBytes }[],
  store: CacheStore | undefined,
): Promise<{ path: string; hash: string }[]> {
  const out: { path: string; hash: string }[] = [];
  const staged: { tmp: string; dest: string }[] = [];
  /** Hashes of the streamed files, computed as they were written. */
  const streamedHashes = new Map<number, string>();
  try {
    for (const [i, f] of files.entries()) {
      const dest = resolve(dir, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = join(dirname(dest), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
      // Staged before writing: a write that fails midway (a full disk) leaves its file behind too.
      staged.push({ tmp, dest });
      if (isStreamed(f.bytes)) streamedHashes.set(i, writeStreamed(tmp, f.bytes));
      else writeFileSync(tmp, f.bytes);
    }
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    // A failed write names no path (it writes to a descriptor): say which file it was.
    const dest = staged.length > 0 ? staged[staged.length - 1]!.dest : undefined;
    if (isErrnoError(e) && e.syscall === 'write' && dest) throw new KilnError(fsDiagnostic(e, { verb: 'write', path: dest }));
    throw e;
  }
  for (const s of staged) renameSync(s.tmp, s.dest);
  for (const [i, f] of files.entries()) {
    const streamed = streamedHashes.get(i);
    let hash: string;
    if (streamed !== undefined) {
      hash = streamed;
      await store?.writeBlobFromFile(staged[i]!.dest, hash);
    } else {
      hash = store ? await store.writeBlob(f.bytes as Uint8Array) : sha256Hex(f.bytes as Uint8Array);
    }
    out.push({ path: f.path, hash });
  }
  return out;
}

/** Writes the pieces one after the other, hashing them on the way; returns the sha256. */
function writeStreamed(path: string, content: StreamedBytes): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    for (const chunk of content.chunks()) {
      for (let at = 0; at < chunk.byteLength;) at += writeSync(fd, chunk, at, chunk.byteLength - at);
      h.update(chunk);
      total += chunk.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  if (total !== content.byteLength) throw new Error(`${path}: wrote ${total} bytes, expected ${content.byteLength}`);
  return h.digest('hex');
}
