/** Stats, least-recently-used collection and clear. Access times are set with utimes, never waited for. */
import { existsSync, statSync, utimesSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { CacheStore } from '../../src/cache/index.ts';
import { sha256Hex } from '../../src/support/hash.ts';
import { bytesOf, tempStore } from './helpers.ts';
import { actionFile, blobFile } from './paths.ts';

const DAY = 24 * 3600_000;
const BASE = Date.UTC(2024, 0, 1);

function setAccess(path: string, daysAfterBase: number): void {
  const t = new Date(BASE + daysAfterBase * DAY);
  utimesSync(path, t, t);
}

/** Five blobs of 1000 bytes used on days 0..4, and one action used on day 5. */
async function populated(store: CacheStore) {
  const blobs: string[] = [];
  for (let day = 0; day < 5; day++) {
    const hash = await store.writeBlob(bytesOf(day, 1000));
    setAccess(blobFile(store.root, hash), day);
    blobs.push(hash);
  }
  const key = sha256Hex('action');
  await store.putAction(key, { blobs });
  setAccess(actionFile(store.root, key), 5);
  return { blobs, key };
}

describe('stats', () => {
  test('an empty or absent store', async () => {
    const { store } = tempStore();
    expect(await store.stats()).toEqual({
      actions: { count: 0, bytes: 0 },
      blobs: { count: 0, bytes: 0 },
      totalBytes: 0,
      tempFiles: { count: 0, bytes: 0 },
      oldestAccess: undefined,
      newestAccess: undefined,
    });
  });

  test('counts, bytes and access range', async () => {
    const { store } = tempStore();
    const { key } = await populated(store);
    const stats = await store.stats();
    const actionBytes = statSync(actionFile(store.root, key)).size;
    expect(stats.blobs).toEqual({ count: 5, bytes: 5000 });
    expect(stats.actions).toEqual({ count: 1, bytes: actionBytes });
    expect(stats.totalBytes).toBe(5000 + actionBytes);
    expect(stats.oldestAccess).toEqual(new Date(BASE));
    expect(stats.newestAccess).toEqual(new Date(BASE + 5 * DAY));
  });
});

describe('gc', () => {
  test('under the limit, nothing is removed', async () => {
    const { store } = tempStore();
    await populated(store);
    const total = (await store.stats()).totalBytes;
    expect(await store.gc(total)).toEqual({ removed: [], freedBytes: 0, remainingBytes: total, staleTempFilesRemoved: 0 });
  });

  test('evicts least recently used first until the total fits', async () => {
    const { store } = tempStore();
    const { blobs, key } = await populated(store);
    const total = (await store.stats()).totalBytes;
    const result = await store.gc(total - 1500);
    expect(result.removed).toEqual([
      { kind: 'blob', name: blobs[0], bytes: 1000, lastAccess: new Date(BASE) },
      { kind: 'blob', name: blobs[1], bytes: 1000, lastAccess: new Date(BASE + DAY) },
    ]);
    expect(result.freedBytes).toBe(2000);
    expect(result.remainingBytes).toBe(total - 2000);
    expect(result.remainingBytes).toBeLessThanOrEqual(total - 1500);
    expect(await store.hasBlob(blobs[0]!)).toBe(false);
    expect(await store.hasBlob(blobs[2]!)).toBe(true);
    expect(await store.getAction(key)).toEqual({ blobs });
    expect((await store.stats()).totalBytes).toBe(result.remainingBytes);
  });

  test('a read makes an old entry recent, so it survives', async () => {
    const { store } = tempStore();
    const { blobs } = await populated(store);
    await store.readBlob(blobs[0]!);
    const result = await store.gc((await store.stats()).totalBytes - 1000);
    expect(result.removed.map((r) => r.name)).toEqual([blobs[1]]);
    expect(await store.hasBlob(blobs[0]!)).toBe(true);
  });

  test('actions are counted and evicted like blobs', async () => {
    const { store } = tempStore();
    const { key } = await populated(store);
    setAccess(actionFile(store.root, key), -1);
    const result = await store.gc(4000);
    expect(result.removed[0]).toMatchObject({ kind: 'action', name: key });
    expect(result.removed.map((r) => r.kind)).toEqual(['action', 'blob']);
    expect(result.remainingBytes).toBe(4000);
    expect(await store.getAction(key)).toBeUndefined();
  });

  test('a limit of zero empties the store', async () => {
    const { store } = tempStore();
    await populated(store);
    const result = await store.gc(0);
    expect(result.removed).toHaveLength(6);
    expect(result.remainingBytes).toBe(0);
    expect((await store.stats()).totalBytes).toBe(0);
  });

  test('a negative or NaN limit is refused', async () => {
    const { store } = tempStore();
    await expect(store.gc(-1)).rejects.toThrow(/non-negative/);
    await expect(store.gc(NaN)).rejects.toThrow(/non-negative/);
  });
});

test('clear empties the store, which stays usable', async () => {
  const { store } = tempStore();
  const { blobs, key } = await populated(store);
  await store.clear();
  const stats = await store.stats();
  expect(stats.totalBytes).toBe(0);
  expect(stats.actions.count + stats.blobs.count).toBe(0);
  expect(existsSync(blobFile(store.root, blobs[0]!))).toBe(false);
  expect(await store.getAction(key)).toBeUndefined();
  const hash = await store.writeBlob(bytesOf(0, 1000));
  expect(hash).toBe(blobs[0]);
  expect(await store.readBlob(hash)).toEqual(bytesOf(0, 1000));
});
