/**
 * Hashing weight ranges on every core (src/frontends/onnx/range-hashes.ts): past the size
 * where worker threads pay, the hashes equal SHA-256 of the same bytes read in one piece,
 * a range past the file's end is reported (from any thread), and a file changed since is
 * hashed anew rather than answered from memory.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hashRanges } from '../../../src/frontends/onnx/range-hashes.ts';

const MB = 1024 * 1024;
let dir: string;
let file: string;
let other: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-range-hashes-'));
  file = join(dir, 'weights.bin');
  other = join(dir, 'more.bin');
  // 80 MiB of varied bytes (more than the size past which threads are used), and a second file.
  const bytes = new Uint8Array(80 * MB);
  let s = 12345;
  for (let i = 0; i < bytes.length; i += 4096) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    bytes.fill(s & 0xff, i, i + 4096);
  }
  writeFileSync(file, bytes);
  writeFileSync(other, bytes.subarray(0, 3 * MB));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (path: string, offset: number, length: number): string =>
  createHash('sha256')
    .update(readFileSync(path).subarray(offset, offset + length))
    .digest('hex');
const noShortFile = (missing: number): never => {
  throw new Error(`short by ${missing}`);
};

test('many ranges of two files, largest first over the threads: the hashes of the bytes, in order', () => {
  const ranges = [
    { path: file, offset: 0, length: 40 * MB },
    { path: file, offset: 40 * MB, length: 25 * MB + 17 },
    { path: other, offset: 5, length: 2 * MB },
    { path: file, offset: 65 * MB + 17, length: 1000 },
    { path: file, offset: 70 * MB, length: 10 * MB },
    { path: file, offset: 0, length: 40 * MB }, // the same range twice: hashed once
    { path: file, offset: 3, length: 0 },
  ];
  const got = hashRanges(ranges, noShortFile);
  expect(got).toEqual(ranges.map((r) => sha(r.path, r.offset, r.length)));
});

test('a range past the end of its file is reported, whichever thread meets it', () => {
  const ranges = [
    { path: file, offset: 1, length: 50 * MB },
    { path: file, offset: 60 * MB, length: 30 * MB }, // 10 MiB past the end
  ];
  expect(() => hashRanges(ranges, noShortFile)).toThrow(/short by/);
});

test('a file rewritten since is hashed again, not answered from memory', () => {
  const small = join(dir, 'small.bin');
  writeFileSync(small, 'abcdefgh');
  const [first] = hashRanges([{ path: small, offset: 2, length: 4 }], noShortFile);
  writeFileSync(small, 'abXYZWgh!');
  const [second] = hashRanges([{ path: small, offset: 2, length: 4 }], noShortFile);
  expect(first).toBe(createHash('sha256').update('cdef').digest('hex'));
  expect(second).toBe(createHash('sha256').update('XYZW').digest('hex'));
});
