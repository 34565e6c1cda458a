/**
 * Files a stage emits (an artifact, a report): written atomically where the
 * stage says, and stored in the cache so a cached stage can put them back.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CacheStore } from '../cache/index.ts';
import { sha256Hex } from '../support/hash.ts';

export async function materialize(
  dir: string,
  files: readonly { readonly path: string; readonly bytes: Uint8Array }[],
  store: CacheStore | undefined,
): Promise<{ path: string; hash: string }[]> {
  const out: { path: string; hash: string }[] = [];
  for (const f of files) {
    const dest = resolve(dir, f.path);
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    writeFileSync(tmp, f.bytes);
    renameSync(tmp, dest);
    const hash = store ? await store.writeBlob(f.bytes) : sha256Hex(f.bytes);
    out.push({ path: f.path, hash });
  }
  return out;
}
