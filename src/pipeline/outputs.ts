/**
 * Files a stage emits (an artifact, a report): written atomically where the
 * stage says, and stored in the cache so a cached stage can put them back.
 * All files are written to temporary names first and renamed in order only
 * then, so an interrupted build leaves the old set or the new one (a stage
 * emits its index file, such as an artifact's manifest, last).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CacheStore } from '../cache/index.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { sha256Hex } from '../support/hash.ts';

export async function materialize(
  dir: string,
  files: readonly { readonly path: string; readonly bytes: Uint8Array }[],
  store: CacheStore | undefined,
): Promise<{ path: string; hash: string }[]> {
  const out: { path: string; hash: string }[] = [];
  const staged: { tmp: string; dest: string }[] = [];
  try {
    for (const f of files) {
      const dest = resolve(dir, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = join(dirname(dest), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
      // Staged before writing: a write that fails midway (a full disk) leaves its file behind too.
      staged.push({ tmp, dest });
      writeFileSync(tmp, f.bytes);
    }
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    // A failed write names no path (it writes to a descriptor): say which file it was.
    const dest = staged.length > 0 ? staged[staged.length - 1]!.dest : undefined;
    if (isErrnoError(e) && e.syscall === 'write' && dest) throw new KilnError(fsDiagnostic(e, { verb: 'write', path: dest }));
    throw e;
  }
  for (const s of staged) renameSync(s.tmp, s.dest);
  for (const f of files) {
    const hash = store ? await store.writeBlob(f.bytes) : sha256Hex(f.bytes);
    out.push({ path: f.path, hash });
  }
  return out;
}
