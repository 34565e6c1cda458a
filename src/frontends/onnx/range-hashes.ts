/**
 * SHA-256 of byte ranges of model files (a weight's content address), on all cores: hashing
 * is what bounds importing a large model (SHA-256 runs at ~1.5 GB/s on a core, reading from
 * the page cache at several times that). Worker threads and this one claim the ranges, largest
 * first, as each gets free, each reading through its own descriptor; the caller blocks until all
 * are done (a build's key is computed synchronously), which Atomics.wait allows on Node's
 * main thread. Each hash is remembered for the version of the file it was made of, so a
 * build's key and its import hash a weight once between them.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { borrowChunk, READ_CHUNK_BYTES, releaseChunk } from '../../support/io-chunks.ts';

export interface HashedRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

/** Below this many bytes to hash, starting threads costs more than it saves. */
const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
const MAX_THREADS = 8;

/** Hashes made in this process: per file, those of its latest version, by range. */
const known = new Map<string, { readonly version: string; readonly byRange: Map<string, string> }>();

function hashesOf(path: string): Map<string, string> {
  const st = statSync(path);
  const version = `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  let k = known.get(path);
  if (k?.version !== version) known.set(path, (k = { version, byRange: new Map() }));
  return k.byRange;
}

/**
 * Feeds `length` bytes of the open file `fd` from `offset` to `hash`, read in pieces into `chunk`;
 * returns how many bytes the file lacked (0 when whole). Self-contained: the hashing workers run
 * its source too, with their own readSync and hash.
 */
function hashInto(
  hash: { update(b: Uint8Array): unknown },
  readFd: (fd: number, b: Uint8Array, off: number, len: number, pos: number) => number,
  fd: number,
  offset: number,
  length: number,
  chunk: Uint8Array,
): number {
  for (let at = 0; at < length;) {
    const n = readFd(fd, chunk, 0, Math.min(chunk.byteLength, length - at), offset + at);
    if (n === 0) return length - at;
    hash.update(chunk.subarray(0, n));
    at += n;
  }
  return 0;
}

/** SHA-256 (hex) of `length` bytes of the open file `fd` from `offset`, read through `chunk`. */
function hashFileRange(
  fd: number,
  offset: number,
  length: number,
  chunk: Uint8Array,
  onShortFile: (missing: number) => never,
): string {
  const h = createHash('sha256');
  const missing = hashInto(h, readSync, fd, offset, length, chunk);
  if (missing > 0) onShortFile(missing);
  return h.digest('hex');
}

/**
 * The SHA-256 (hex) of each range, in order. `onShortFile` reports a range past its file's end
 * (it must throw).
 */
export function hashRanges(ranges: readonly HashedRange[], onShortFile: (missing: number) => never): string[] {
  const tables = new Map<string, Map<string, string>>();
  const tableOf = (path: string): Map<string, string> => {
    let t = tables.get(path);
    if (t === undefined) tables.set(path, (t = hashesOf(path)));
    return t;
  };
  const keyOf = (r: HashedRange): string => `${r.offset}:${r.length}`;
  const todo = [
    ...new Map(ranges.filter((r) => !tableOf(r.path).has(keyOf(r))).map((r) => [`${r.path}\u0000${keyOf(r)}`, r])).values(),
  ];
  const bytes = todo.reduce((a, r) => a + r.length, 0);
  const threads = Math.min(MAX_THREADS, availableParallelism(), todo.length);
  const hashes =
    bytes >= PARALLEL_MIN_BYTES && threads > 1 ? hashInParallel(todo, threads, onShortFile) : hashHere(todo, onShortFile);
  todo.forEach((r, i) => tableOf(r.path).set(keyOf(r), hashes[i]!));
  return ranges.map((r) => tableOf(r.path).get(keyOf(r))!);
}

function hashHere(ranges: readonly HashedRange[], onShortFile: (missing: number) => never): string[] {
  return withRangeHasher(onShortFile, (hash) => ranges.map(hash));
}

/**
 * Runs `use` with a function that hashes a range on this thread: through one borrowed chunk and
 * one descriptor per file, both released when `use` returns or throws.
 */
function withRangeHasher<T>(onShortFile: (missing: number) => never, use: (hash: (r: HashedRange) => string) => T): T {
  const fds = new Map<string, number>();
  const chunk = borrowChunk();
  try {
    return use((r) => {
      let fd = fds.get(r.path);
      if (fd === undefined) fds.set(r.path, (fd = openSync(r.path, 'r')));
      return hashFileRange(fd, r.offset, r.length, chunk, onShortFile);
    });
  } finally {
    releaseChunk(chunk);
    for (const fd of fds.values()) closeSync(fd);
  }
}

/** Control words shared with the workers: the next job to claim, jobs hashed, whether one failed. */
const NEXT = 0;
const HASHED = 1;
const FAILED = 2;

function hashInParallel(ranges: readonly HashedRange[], threads: number, onShortFile: (missing: number) => never): string[] {
  // Largest first; this thread and the workers each claim the next job when free, so a worker
  // that starts late (starting one takes tens of milliseconds) does less instead of being waited for.
  const jobs = ranges
    .map((r, i) => ({ i, path: r.path, offset: r.offset, length: r.length }))
    .sort((a, b) => b.length - a.length);
  const control = new Int32Array(new SharedArrayBuffer(12));
  const digests = new Uint8Array(new SharedArrayBuffer(32 * ranges.length));
  const workers: Worker[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      workers.push(new Worker(WORKER_SOURCE, { eval: true, workerData: { control, digests, chunk: READ_CHUNK_BYTES, jobs } }));
    }
  } catch {
    // No threads here (a sandbox without worker_threads): one thread does it all.
    for (const w of workers) void w.terminate();
    return hashHere(ranges, onShortFile);
  }
  try {
    withRangeHasher(onShortFile, (hash) => {
      for (let k = Atomics.add(control, NEXT, 1); k < jobs.length; k = Atomics.add(control, NEXT, 1)) {
        digests.set(Buffer.from(hash(jobs[k]!), 'hex'), 32 * jobs[k]!.i);
        Atomics.add(control, HASHED, 1);
      }
    });
    for (let done = Atomics.load(control, HASHED); done < jobs.length; done = Atomics.load(control, HASHED)) {
      if (Atomics.load(control, FAILED) !== 0) break;
      Atomics.wait(control, HASHED, done, 1000);
    }
  } finally {
    for (const w of workers) void w.terminate();
  }
  // A worker that could not read its range (the file shrank since it was scanned): hashed here, which reports it.
  if (Atomics.load(control, FAILED) !== 0) return hashHere(ranges, onShortFile);
  return ranges.map((_, i) => Buffer.from(digests.subarray(32 * i, 32 * i + 32)).toString('hex'));
}

/** A worker: claims jobs until none is left, hashing each (with hashInto) into the shared digests. */
const WORKER_SOURCE = `
var __name = (f) => f; // what esbuild's keepNames (tsx) wraps functions in
const { workerData } = require('node:worker_threads');
const { control, digests, chunk: size, jobs } = workerData;
const fds = new Map();
let closeSync = () => undefined;
try {
  const { createHash } = require('node:crypto');
  const fs = require('node:fs');
  closeSync = fs.closeSync;
  const hashInto = ${hashInto.toString()};
  const chunk = Buffer.allocUnsafe(size);
  for (let k = Atomics.add(control, ${NEXT}, 1); k < jobs.length; k = Atomics.add(control, ${NEXT}, 1)) {
    const j = jobs[k];
    let fd = fds.get(j.path);
    if (fd === undefined) fds.set(j.path, (fd = fs.openSync(j.path, 'r')));
    const h = createHash('sha256');
    if (hashInto(h, fs.readSync, fd, j.offset, j.length, chunk) > 0) throw new Error('short file');
    digests.set(h.digest(), 32 * j.i);
    Atomics.add(control, ${HASHED}, 1);
    Atomics.notify(control, ${HASHED});
  }
} catch {
  Atomics.store(control, ${FAILED}, 1);
  Atomics.notify(control, ${HASHED});
} finally {
  for (const fd of fds.values()) closeSync(fd);
}
`;
