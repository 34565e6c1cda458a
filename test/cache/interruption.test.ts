/** A writer killed midway leaves at most a temporary file, never an entry, and gc/clear remove it once stale. */
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { CacheStore } from '../../src/cache/index.ts';
import { exited, lines, spawnFixture, tempStore } from './helpers.ts';
import { blobFile } from './paths.ts';

const SIZE = 12 * 1024 * 1024;

async function killMidWrite(store: CacheStore): Promise<{ hash: string; written: number }> {
  const child = spawnFixture('slow-writer', [store.root, String(SIZE)]);
  const progress = new Promise<{ hash: string; written: number; total: number }>((resolve) => {
    lines(child, (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as { hash: string; written: number; total: number });
    });
  });
  const exit = exited(child);
  const first = await Promise.race([
    progress,
    exit.then((e) => Promise.reject(new Error(`writer exited early: ${JSON.stringify(e)}`))),
  ]);
  expect(first.written).toBeLessThan(first.total);
  child.kill('SIGKILL');
  expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });
  return first;
}

function tempFiles(store: CacheStore): string[] {
  return readdirSync(join(store.root, 'tmp')).map((name) => join(store.root, 'tmp', name));
}

function age(path: string, hours: number): void {
  const then = new Date(Date.now() - hours * 3600_000);
  utimesSync(path, then, then);
}

test('the killed write leaves no entry, only its partial temporary file', async () => {
  const { store, warnings } = tempStore();
  const { hash, written } = await killMidWrite(store);

  expect(existsSync(blobFile(store.root, hash))).toBe(false);
  expect(await store.hasBlob(hash)).toBe(false);
  expect(await store.readBlob(hash)).toBeUndefined();
  const temps = tempFiles(store);
  expect(temps).toHaveLength(1);
  expect(statSync(temps[0]!).size).toBe(written);
  expect((await store.stats()).tempFiles).toEqual({ count: 1, bytes: written });
  expect(warnings).toEqual([]);
}, 30_000);

test('gc removes temporary files only once they are stale', async () => {
  const { store } = tempStore();
  await killMidWrite(store);
  const [temp] = tempFiles(store);

  expect((await store.gc(Number.MAX_SAFE_INTEGER)).staleTempFilesRemoved).toBe(0);
  expect(existsSync(temp!)).toBe(true);
  age(temp!, 2);
  expect((await store.gc(Number.MAX_SAFE_INTEGER)).staleTempFilesRemoved).toBe(1);
  expect(tempFiles(store)).toEqual([]);
}, 30_000);

test('clear removes stale temporary files too', async () => {
  const { store } = tempStore();
  await killMidWrite(store);
  age(tempFiles(store)[0]!, 2);
  await store.clear();
  expect(tempFiles(store)).toEqual([]);
  expect((await store.stats()).tempFiles.count).toBe(0);
}, 30_000);
