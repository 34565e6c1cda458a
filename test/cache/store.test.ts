/** The local store's basic contract: what goes in comes out, identical blobs are stored once, names are checked. */
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openLocalStore } from '../../src/cache/index.ts';
import { sha256Hex } from '../../src/support/hash.ts';
import { bytesOf, tempDir, tempStore } from './helpers.ts';
import { actionFile, blobFile } from './paths.ts';

const KEY = sha256Hex('stage key');

describe('actions', () => {
  test('round trip a JSON payload', async () => {
    const { store } = tempStore();
    const payload = { module: sha256Hex('m'), blobs: [sha256Hex('w')], timings: { ms: 1.5 }, ok: true, none: null };
    expect(await store.getAction(KEY)).toBeUndefined();
    await store.putAction(KEY, payload);
    expect(await store.getAction(KEY)).toEqual(payload);
  });

  test('the entry file records the hash of the canonical payload', async () => {
    const { store } = tempStore();
    await store.putAction(KEY, { b: 1, a: [true, 'x'] });
    const text = readFileSync(actionFile(store.root, KEY), 'utf8');
    const canonical = '{"a":[true,"x"],"b":1}';
    expect(JSON.parse(text)).toEqual({ sha256: sha256Hex(canonical), payload: { a: [true, 'x'], b: 1 } });
  });

  test('a later put replaces the payload', async () => {
    const { store } = tempStore();
    await store.putAction(KEY, { v: 1 });
    await store.putAction(KEY, { v: 2 });
    expect(await store.getAction(KEY)).toEqual({ v: 2 });
  });

  test('payloads that JSON cannot reproduce are refused', async () => {
    const { store } = tempStore();
    await expect(store.putAction(KEY, { x: NaN })).rejects.toThrow(/\$\.x is NaN/);
    await expect(store.putAction(KEY, new Map())).rejects.toThrow(/Map/);
    expect(existsSync(actionFile(store.root, KEY))).toBe(false);
  });
});

describe('blobs', () => {
  test('round trip, async and sync', async () => {
    const { store } = tempStore();
    const bytes = bytesOf(1, 10_000);
    const hash = await store.writeBlob(bytes);
    expect(hash).toBe(sha256Hex(bytes));
    expect(await store.hasBlob(hash)).toBe(true);
    expect(await store.readBlob(hash)).toEqual(bytes);
    expect(store.readBlobSync(hash)).toEqual(bytes);
    expect(readFileSync(blobFile(store.root, hash))).toEqual(Buffer.from(bytes));
  });

  test('misses are undefined, not errors', async () => {
    const { store } = tempStore();
    const hash = sha256Hex('absent');
    expect(await store.hasBlob(hash)).toBe(false);
    expect(await store.readBlob(hash)).toBeUndefined();
    expect(store.readBlobSync(hash)).toBeUndefined();
  });

  test('an empty blob and a blob of several write chunks', async () => {
    const { store } = tempStore();
    const empty = new Uint8Array(0);
    const big = bytesOf(2, 9 * 1024 * 1024 + 3);
    const progress: number[] = [];
    const withProgress = openLocalStore(store.root, { onWriteProgress: (_hash, written) => void progress.push(written) });
    expect(await store.readBlob(await store.writeBlob(empty))).toEqual(empty);
    // Compared by hash: a failing deep equality over megabytes takes minutes to print.
    const back = await store.readBlob(await withProgress.writeBlob(big));
    expect(back && sha256Hex(back)).toBe(sha256Hex(big));
    expect(progress).toEqual([4 * 1024 * 1024, 8 * 1024 * 1024, big.byteLength]);
  });

  test('content in pieces is written as it comes, under the hash its writer computed', async () => {
    const { store } = tempStore();
    const whole = bytesOf(4, 5 * 1024 * 1024 + 7);
    const hash = sha256Hex(whole);
    // One reused buffer, as a weight streamed from a file comes: each piece must be written before the next.
    const piece = new Uint8Array(1024 * 1024);
    const chunks = function* (): Generator<Uint8Array> {
      for (let at = 0; at < whole.byteLength; at += piece.byteLength) {
        const part = whole.subarray(at, at + piece.byteLength);
        piece.set(part);
        yield piece.subarray(0, part.byteLength);
      }
    };
    expect(await store.writeBlob({ byteLength: whole.byteLength, chunks }, hash)).toBe(hash);
    const back = store.readBlobSync(hash);
    expect(back && sha256Hex(back)).toBe(hash);
    await expect(store.writeBlob({ byteLength: 3, chunks: () => [new Uint8Array(2)] }, sha256Hex('x'))).rejects.toThrow(
      /wrote 2 bytes, expected 3/,
    );
    expect(await store.hasBlob(sha256Hex('x'))).toBe(false);
  });

  test('a file is stored by copy under the hash given, verified when read', async () => {
    const { store } = tempStore();
    const dir = tempDir();
    const bytes = bytesOf(5, 100_000);
    const file = join(dir, 'shard.bin');
    writeFileSync(file, bytes);
    await store.writeBlobFromFile(file, sha256Hex(bytes));
    expect(await store.readBlob(sha256Hex(bytes))).toEqual(bytes);
    // A wrong hash given is caught at the first read: a miss, never wrong bytes.
    const wrong = sha256Hex('not these bytes');
    await store.writeBlobFromFile(file, wrong);
    expect(await store.readBlob(wrong)).toBeUndefined();
  });

  test('identical blobs are stored once', async () => {
    const { store } = tempStore();
    const bytes = bytesOf(3, 4096);
    const hashes = await Promise.all([store.writeBlob(bytes), store.writeBlob(bytes.slice()), store.writeBlob(bytes)]);
    expect(new Set(hashes).size).toBe(1);
    expect(await store.writeBlob(bytes)).toBe(hashes[0]);
    const stats = await store.stats();
    expect(stats.blobs).toEqual({ count: 1, bytes: 4096 });
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  test('rewriting a present blob refreshes it for LRU without rewriting it', async () => {
    const { store } = tempStore();
    const bytes = bytesOf(4, 100);
    const path = blobFile(store.root, await store.writeBlob(bytes));
    const { ino } = statSync(path);
    utimesSync(path, new Date(2000, 0, 1), new Date(2000, 0, 1));
    await store.writeBlob(bytes);
    expect(statSync(path).ino).toBe(ino);
    expect(statSync(path).mtime.getFullYear()).toBeGreaterThan(2000);
  });
});

describe('hits refresh the entry for LRU', () => {
  const longAgo = new Date(2001, 0, 1);
  test.each([
    ['getAction', 'action'],
    ['readBlob', 'blob'],
    ['readBlobSync', 'blob'],
    ['hasBlob', 'blob'],
  ] as const)('%s', async (method, kind) => {
    const { store } = tempStore();
    const hash = await store.writeBlob(bytesOf(5, 10));
    await store.putAction(KEY, { hash });
    const path = kind === 'action' ? actionFile(store.root, KEY) : blobFile(store.root, hash);
    utimesSync(path, longAgo, longAgo);
    await store[method](kind === 'action' ? KEY : hash);
    expect(statSync(path).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('names are 64 lowercase hex digits, nothing else', () => {
  const bad = ['', 'abc', '../../etc/passwd', `${'a'.repeat(62)}/x`, 'A'.repeat(64), `${'a'.repeat(63)}g`, 'a'.repeat(65)];
  test.each(bad)('%j', async (name) => {
    const { store } = tempStore();
    await expect(store.getAction(name)).rejects.toThrow(/invalid cache action key .*64 lowercase hex/);
    await expect(store.putAction(name, {})).rejects.toThrow(/invalid cache action key/);
    await expect(store.hasBlob(name)).rejects.toThrow(/invalid cache blob hash/);
    await expect(store.readBlob(name)).rejects.toThrow(/invalid cache blob hash/);
    expect(() => store.readBlobSync(name)).toThrow(/invalid cache blob hash/);
    expect(existsSync(store.root)).toBe(false);
  });

  test('opening a store touches nothing on disk', () => {
    const root = join(tempDir(), 'never-used');
    openLocalStore(root);
    expect(existsSync(root)).toBe(false);
  });
});
