/**
 * Weights that stay in the model's files: a blob whose bytes are a byte
 * range of a file, read when a pass or codegen asks for them and not kept
 * (a small one is kept after its first read), so an import holds none of a
 * model's weights. The hash was computed as the range streamed past once;
 * a read checks the file is still the version that was hashed.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type Blob, lazyBlob } from '../../ir/blob.ts';
import { fail, M } from '../../support/messages.ts';
import { borrowChunk, releaseChunk } from '../../support/io-chunks.ts';
import { hashRanges } from './range-hashes.ts';
import { type FileStamp, sameStamp } from './scan.ts';

export { stampOf } from './scan.ts';

export interface FileRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  /** The version of the file the range was found in. */
  readonly stamp: FileStamp;
}

/** `file`: how the model is named in messages. */
export function fileRangeBlob(range: FileRange, hash: string, file: string): Blob {
  const blob = lazyBlob(hash, range.length, () => readRange(range, file));
  return { hash, byteLength: range.length, bytes: () => blob.bytes(), chunks: () => rangeChunks(range, file) };
}

/** The range in pieces read into one reused buffer: no memory the size of the weight. */
function* rangeChunks(range: FileRange, file: string): Generator<Uint8Array> {
  const fd = openChecked(range, file);
  const buffer = borrowChunk();
  try {
    for (let at = 0; at < range.length;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.byteLength, range.length - at), range.offset + at);
      if (n === 0) fail(M.onnxModel, { file, problem: `'${range.path}' ended before the weights it promises` });
      yield buffer.subarray(0, n);
      at += n;
    }
  } finally {
    releaseChunk(buffer);
    closeSync(fd);
  }
}

/** The bytes of a range, from the version of the file it was found in. */
export function readRange(range: FileRange, file: string): Uint8Array {
  return withFile(range, file, (fd) => {
    const out = new Uint8Array(range.length);
    for (let at = 0; at < range.length;) {
      const n = readSync(fd, out, at, range.length - at, range.offset + at);
      if (n === 0) fail(M.onnxModel, { file, problem: `'${range.path}' ended before the weights it promises` });
      at += n;
    }
    return out;
  });
}

/** SHA-256 of a range, streamed (never held whole). */
export function hashRange(range: FileRange, file: string): string {
  return hashFileRanges([range], file)[0]!;
}

/**
 * SHA-256 of several ranges, on every core (an import of external data hashes them all at
 * once); each file checked to be the version its ranges were found in.
 */
export function hashFileRanges(ranges: readonly FileRange[], file: string): string[] {
  for (const r of new Map(ranges.map((x) => [x.path, x])).values()) withFile(r, file, () => undefined);
  return hashRanges(ranges, (missing) =>
    fail(M.onnxModel, { file, problem: `a weights file ends ${missing} bytes before the data it promises` }),
  );
}

function withFile<T>(range: FileRange, file: string, use: (fd: number) => T): T {
  const fd = openChecked(range, file);
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** Opens the range's file, checking it is still the version the range was found in. */
function openChecked(range: FileRange, file: string): number {
  let fd: number;
  try {
    fd = openSync(range.path, 'r');
  } catch (e) {
    return fail(M.onnxModel, { file, problem: `weights file '${range.path}' cannot be read any more (${(e as Error).message})` });
  }
  const st = fstatSync(fd);
  if (!sameStamp(range.stamp, st)) {
    closeSync(fd);
    fail(M.onnxModel, { file, problem: `'${range.path}' changed while the build read it; build again` });
  }
  return fd;
}
