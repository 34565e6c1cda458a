/**
 * Files a stage emits (an artifact, a report): written atomically where the
 * stage says, and stored in the cache so a cached stage can put them back.
 * All files are written to temporary names first and renamed in order only
 * then, so an interrupted build leaves the old set or the new one (a stage
 * emits its index file, such as an artifact's manifest, last).
 */
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { CacheStore } from '../cache/index.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { sha256Hex } from '../support/hash.ts';
import { writeAllSync, writeFileInChunksSync } from '../support/io-chunks.ts';
import { type FilePart, isStreamed, type StreamedBytes } from '../support/streamed-bytes.ts';

/** A file a stage wrote, as its cache entry records it. */
export interface WrittenFile {
  readonly path: string;
  /** The SHA-256 of its bytes (a blob in the store); for a file of parts, the digest of its recipe. */
  readonly hash: string;
  /** The file is these blobs at these offsets, zeros between: the store keeps no copy of it. */
  readonly parts?: readonly FilePart[];
  readonly byteLength?: number;
}

export async function materialize(
  dir: string,
  files: readonly { readonly path: string; readonly bytes: Uint8Array | StreamedBytes }[],
  store: CacheStore | undefined,
): Promise<WrittenFile[]> {
  const out: WrittenFile[] = [];
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
      if (!isStreamed(f.bytes)) writeFileInChunksSync(tmp, f.bytes);
      else if (f.bytes.parts) writeStreamed(tmp, f.bytes, false);
      else streamedHashes.set(i, writeStreamed(tmp, f.bytes, true)!);
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
    if (isStreamed(f.bytes) && f.bytes.parts) {
      // Its parts are blobs the store has (or will have with the stage's module): the recipe is enough.
      out.push({
        path: f.path,
        hash: partsDigest(f.bytes.byteLength, f.bytes.parts),
        parts: f.bytes.parts,
        byteLength: f.bytes.byteLength,
      });
      continue;
    } else if (streamed !== undefined) {
      hash = streamed;
      await store?.writeBlobFromFile(staged[i]!.dest, hash);
    } else {
      hash = store ? await store.writeBlob(f.bytes as Uint8Array) : sha256Hex(f.bytes as Uint8Array);
    }
    out.push({ path: f.path, hash });
  }
  return out;
}

/** Writes the pieces one after the other, hashing them on the way when asked; returns the sha256. */
function writeStreamed(path: string, content: StreamedBytes, hash: boolean): string | undefined {
  const h = hash ? createHash('sha256') : undefined;
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    for (const chunk of content.chunks()) {
      writeAllSync(fd, chunk);
      h?.update(chunk);
      total += chunk.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  if (total !== content.byteLength) throw new Error(`${path}: wrote ${total} bytes, expected ${content.byteLength}`);
  return h?.digest('hex');
}

/** How a file of parts is named in a cache entry and in the file digests: its recipe's hash. */
export const PARTS_DIGEST_KIND = 'parts/1';

export function partsDigest(byteLength: number, parts: readonly FilePart[]): string {
  return `${PARTS_DIGEST_KIND}:${sha256Hex(JSON.stringify({ byteLength, parts: parts.map((p) => [p.offset, p.byteLength, p.hash]) }))}`;
}

/**
 * The recipe digest of the file at `path` when its bytes are the parts (each part's SHA-256
 * checked, zeros between), else the SHA-256 of its bytes: read in pieces, never held whole.
 */
export function partsDigestOfFile(path: string, byteLength: number, parts: readonly FilePart[]): string {
  const whole = createHash('sha256');
  const fd = openSync(path, 'r');
  let matches = true;
  try {
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    const sorted = [...parts].sort((a, b) => a.offset - b.offset);
    let next = 0;
    let partHash: ReturnType<typeof createHash> | undefined;
    let at = 0;
    for (let n; (n = readSync(fd, buffer, 0, buffer.byteLength, null)) > 0;) {
      const chunk = buffer.subarray(0, n);
      whole.update(chunk);
      // Walk the chunk: inside a part its bytes feed the part's hash, outside they must be zero.
      for (let i = 0; matches && i < n;) {
        const pos = at + i;
        const part = sorted[next];
        if (part && pos >= part.offset) {
          const end = Math.min(n, part.offset + part.byteLength - at);
          partHash ??= createHash('sha256');
          partHash.update(chunk.subarray(i, end));
          i = end;
          if (at + i === part.offset + part.byteLength) {
            if (partHash.digest('hex') !== part.hash) matches = false;
            partHash = undefined;
            next++;
          }
        } else {
          const end = Math.min(n, (part ? part.offset : Infinity) - at);
          for (; i < end; i++) if (chunk[i] !== 0) matches = false;
        }
      }
      at += n;
    }
    if (at !== byteLength || next !== sorted.length) matches = false;
  } finally {
    closeSync(fd);
  }
  return matches ? partsDigest(byteLength, parts) : whole.digest('hex');
}

/** The content of a file of parts, from the blobs in the store; throws MissingPart when one is gone. */
export function partsContent(
  byteLength: number,
  parts: readonly FilePart[],
  read: (hash: string) => Uint8Array | undefined,
): StreamedBytes {
  return {
    byteLength,
    *chunks() {
      let at = 0;
      for (const p of [...parts].sort((a, b) => a.offset - b.offset)) {
        if (p.offset > at) yield new Uint8Array(p.offset - at);
        const bytes = read(p.hash);
        if (!bytes || bytes.byteLength !== p.byteLength) throw new MissingPart(p.hash);
        yield bytes;
        at = p.offset + p.byteLength;
      }
      if (byteLength > at) yield new Uint8Array(byteLength - at);
    },
  };
}

export class MissingPart extends Error {
  constructor(readonly hash: string) {
    super(`blob ${hash} of a file's parts is not in the store`);
  }
}
