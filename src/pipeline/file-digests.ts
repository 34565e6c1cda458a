/**
 * Content hashes of input files, remembered by (size, mtime, ctime, inode)
 * so a rebuild does not re-read a multi-GB model that did not change. A
 * file rewritten with the same bytes gets a new mtime, is hashed again, and
 * keeps its hash: the stages that read it stay cached.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { InputDigest } from '../stages/registry.ts';
import { withChunk } from '../support/io-chunks.ts';

interface Entry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly hash: string;
}

export class FileDigests {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;

  /** `dir`: where to keep the table between runs (the cache directory); none keeps it in memory. */
  constructor(private readonly dir?: string) {
    if (!dir) return;
    try {
      const saved = JSON.parse(readFileSync(join(dir, 'file-digests.json'), 'utf8')) as Record<string, Entry>;
      for (const [k, v] of Object.entries(saved)) this.entries.set(k, v);
    } catch {
      // No table yet, or an unreadable one: every file is hashed once more.
    }
  }

  /**
   * The sha256 of a file's content (or the digest `how` makes of it), or undefined when it
   * cannot be read (gone, a directory, no permission) or `how` rejects it.
   */
  hash(path: string, how?: InputDigest): string | undefined {
    let st;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const entry = how ? `${how.kind}\u0000${path}` : path;
    const known = this.entries.get(entry);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ctimeMs === st.ctimeMs && known.ino === st.ino) {
      return known.hash;
    }
    let hash: string;
    try {
      hash = how ? digestOr(how, path) : hashFile(path);
    } catch {
      return undefined;
    }
    this.entries.set(entry, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hash });
    this.dirty = true;
    return hash;
  }

  /** Records the digest of a file this process just wrote (known from what it wrote), for its current version. */
  remember(path: string, kind: string, hash: string): void {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    this.entries.set(`${kind}\u0000${path}`, {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      ino: st.ino,
      hash: `${kind}:${hash}`,
    });
    this.dirty = true;
  }

  /** Writes the table back (atomically) when it changed. */
  save(): void {
    if (!this.dir || !this.dirty) return;
    const tmp = join(this.dir, `file-digests.json.${process.pid}.${Date.now()}.tmp`);
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries)));
      renameSync(tmp, join(this.dir, 'file-digests.json'));
      this.dirty = false;
    } catch {
      // Only a speed-up: a table that cannot be written costs hashing next time.
    }
  }
}

/** Read in chunks: a multi-GB model is hashed without being held. */
function hashFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    withChunk((chunk) => {
      for (let n; (n = readSync(fd, chunk, 0, chunk.byteLength, null)) > 0;) h.update(chunk.subarray(0, n));
    });
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The stage's digest of the file; where it cannot make one (a malformed model), the bytes' hash: the stage reports the problem. */
function digestOr(how: InputDigest, path: string): string {
  try {
    return `${how.kind}:${how.digest(path)}`;
  } catch {
    return `sha256:${hashFile(path)}`;
  }
}
