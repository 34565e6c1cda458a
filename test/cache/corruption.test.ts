/** A damaged entry is never returned: it is deleted, reported by name, treated as a miss, and can be written again. */
import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { sha256Hex } from '../../src/support/hash.ts';
import { bytesOf, tempStore } from './helpers.ts';
import { actionFile, blobFile } from './paths.ts';

const KEY = sha256Hex('a stage key');
const PAYLOAD = { module: sha256Hex('module'), blobs: [sha256Hex('w1'), sha256Hex('w2')] };

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(path, bytes);
}

describe('blobs', () => {
  test.each(['readBlob', 'readBlobSync'] as const)('a flipped byte: %s misses, evicts, warns', async (read) => {
    const { store, warnings } = tempStore();
    const bytes = bytesOf(1, 5000);
    const hash = await store.writeBlob(bytes);
    const path = blobFile(store.root, hash);
    flipByte(path, 2500);

    expect(await store[read](hash)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`blob cas/${hash.slice(0, 2)}/${hash} is corrupt`);
    expect(warnings[0]).toMatch(/5000 bytes hash to [0-9a-f]{64}.*evicted/);

    expect(await store.writeBlob(bytes)).toBe(hash);
    expect(await store.readBlob(hash)).toEqual(bytes);
    expect(warnings).toHaveLength(1);
  });

  test('a truncated blob is replaced by the next write even before anyone reads it', async () => {
    const { store, warnings } = tempStore();
    const bytes = bytesOf(2, 5000);
    const hash = await store.writeBlob(bytes);
    truncateSync(blobFile(store.root, hash), 100);
    await store.writeBlob(bytes);
    expect(await store.readBlob(hash)).toEqual(bytes);
    expect(warnings).toEqual([]);
  });

  test('an entry that cannot be read as a file is a miss', async () => {
    const { store, warnings } = tempStore();
    const hash = sha256Hex('a directory in place of a blob');
    mkdirSync(blobFile(store.root, hash), { recursive: true });
    expect(await store.readBlob(hash)).toBeUndefined();
    expect(warnings[0]).toMatch(new RegExp(`blob cas/../${hash} is corrupt: unreadable`));
  });
});

describe('actions', () => {
  const damage = {
    truncated: (path: string) => truncateSync(path, Math.floor(readFileSync(path).length / 2)),
    'garbage JSON': (path: string) => writeFileSync(path, '{"sha256": oops'),
    'a flipped payload byte': (path: string) => {
      const text = readFileSync(path, 'utf8');
      writeFileSync(path, text.replace('"blobs"', '"blobz"'));
    },
    'a payload without its hash': (path: string) => writeFileSync(path, JSON.stringify({ payload: PAYLOAD })),
    'not an object': (path: string) => writeFileSync(path, '[1,2,3]'),
    empty: (path: string) => writeFileSync(path, ''),
  };
  const reasons: Record<keyof typeof damage, RegExp> = {
    truncated: /not valid JSON/,
    'garbage JSON': /not valid JSON/,
    'a flipped payload byte': /payload hashes to [0-9a-f]{64} but the entry records/,
    'a payload without its hash': /missing its "sha256" or "payload" field/,
    'not an object': /not a JSON object/,
    empty: /not valid JSON/,
  };

  test.each(Object.keys(damage) as (keyof typeof damage)[])('%s: miss, evicted, warned, rewritable', async (kind) => {
    const { store, warnings } = tempStore();
    await store.putAction(KEY, PAYLOAD);
    const path = actionFile(store.root, KEY);
    damage[kind](path);

    expect(await store.getAction(KEY)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`action entry ac/${KEY.slice(0, 2)}/${KEY} is corrupt`);
    expect(warnings[0]).toMatch(reasons[kind]);
    expect(warnings[0]).toMatch(/evicted it and treated it as a miss/);

    await store.putAction(KEY, PAYLOAD);
    expect(await store.getAction(KEY)).toEqual(PAYLOAD);
    expect(warnings).toHaveLength(1);
  });

  test('an entry written by hand with the right hash is accepted', async () => {
    const { store, warnings } = tempStore();
    const path = actionFile(store.root, KEY);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ payload: { z: 1, a: 2 }, sha256: sha256Hex('{"a":2,"z":1}') }, null, 2));
    expect(await store.getAction(KEY)).toEqual({ a: 2, z: 1 });
    expect(warnings).toEqual([]);
  });
});
