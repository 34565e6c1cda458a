/**
 * Garbage collection by least recent use (mtime, which every hit refreshes).
 * It runs alongside builds: an entry touched after the walk is spared, and a
 * build that misses an evicted entry simply rebuilds it.
 */
import { stat } from 'node:fs/promises';
import { removeFile } from './fs-util.ts';
import { listEntries, listTempFiles } from './scan.ts';
import type { EvictedEntry, GcResult } from './store.ts';

/** A temporary file not written to for this long belongs to a writer that died. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

export async function collectGarbage(root: string, maxBytes: number): Promise<GcResult> {
  if (!(maxBytes >= 0)) throw new Error(`cache gc: the size limit must be a non-negative number of bytes, got ${maxBytes}`);
  const staleTempFilesRemoved = await removeStaleTempFiles(root);
  const entries = (await listEntries(root)).sort((a, b) => a.mtimeMs - b.mtimeMs);
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const removed: EvictedEntry[] = [];
  const failures: string[] = [];
  for (const entry of entries) {
    if (total <= maxBytes) break;
    if (await usedSince(entry.path, entry.mtimeMs)) continue;
    // A failed removal (permissions, a read-only disk) leaves the entry counted: gc reports
    // what it really freed, and why the rest stayed.
    const failure = await removeFile(entry.path);
    if (failure !== undefined) {
      failures.push(`${entry.path}: ${failure}`);
      continue;
    }
    total -= entry.bytes;
    removed.push({ kind: entry.kind, name: entry.name, bytes: entry.bytes, lastAccess: new Date(entry.mtimeMs) });
  }
  const freedBytes = removed.reduce((sum, e) => sum + e.bytes, 0);
  return { removed, freedBytes, remainingBytes: total, staleTempFilesRemoved, ...(failures.length > 0 ? { failures } : {}) };
}

async function usedSince(path: string, mtimeMs: number): Promise<boolean> {
  const now = await stat(path).catch(() => undefined);
  return now !== undefined && now.mtimeMs > mtimeMs;
}

export async function removeStaleTempFiles(root: string, now = Date.now()): Promise<number> {
  const stale = (await listTempFiles(root)).filter((f) => now - f.mtimeMs > STALE_TEMP_MS);
  const failures = await Promise.all(stale.map((f) => removeFile(f.path)));
  return failures.filter((failure) => failure === undefined).length;
}
