/** Counting the store for `kiln cache stats`: one walk, no reads of entry contents. */
import { listEntries, listTempFiles } from './scan.ts';
import type { CacheStats, CountAndBytes, EntryKind } from './store.ts';

export async function computeStats(root: string): Promise<CacheStats> {
  const [entries, temps] = await Promise.all([listEntries(root), listTempFiles(root)]);
  const tally = (kind: EntryKind): CountAndBytes => {
    const of = entries.filter((e) => e.kind === kind);
    return { count: of.length, bytes: of.reduce((sum, e) => sum + e.bytes, 0) };
  };
  const actions = tally('action');
  const blobs = tally('blob');
  // A loop, not Math.min(...times): a large cache would overflow the argument list.
  let oldest = Infinity;
  let newest = -Infinity;
  for (const e of entries) {
    oldest = Math.min(oldest, e.mtimeMs);
    newest = Math.max(newest, e.mtimeMs);
  }
  return {
    actions,
    blobs,
    totalBytes: actions.bytes + blobs.bytes,
    tempFiles: { count: temps.length, bytes: temps.reduce((sum, t) => sum + t.bytes, 0) },
    oldestAccess: entries.length > 0 ? new Date(oldest) : undefined,
    newestAccess: entries.length > 0 ? new Date(newest) : undefined,
  };
}
