/**
 * Builds sharing one cache directory: separate processes write the same and
 * different entries at the same moment; all succeed and everything reads back verified.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { sha256Hex } from '../../src/support/hash.ts';
import { privateKey, privatePayload, sharedKey, sharedPayload } from './fixtures/entries.ts';
import { bytesOf, exited, lines, spawnFixture, tempStore } from './helpers.ts';

const WRITERS = 4;
const ROUNDS = 25;

test('several processes write one store at once', async () => {
  const { store, warnings } = tempStore();
  const children = Array.from({ length: WRITERS }, (_, id) => spawnFixture('writer', [store.root, String(id), String(ROUNDS)]));
  const reported: string[][] = [];
  let ready = 0;
  const allReady = new Promise<void>((resolve) => {
    for (const child of children) {
      const out = lines(child, (line) => {
        if (line === 'ready' && ++ready === WRITERS) resolve();
        else if (line.startsWith('{')) reported.push((JSON.parse(line) as { blobs: string[] }).blobs);
      });
      void exited(child).then(({ code }) => {
        if (code !== 0) console.error(out.stderr());
      });
    }
  });
  await allReady;
  // Released together, so the writers contend for the shared entries.
  for (const child of children) child.stdin!.write('go\n');
  const results = await Promise.all(children.map(exited));
  expect(results).toEqual(children.map(() => ({ code: 0, signal: null })));
  expect(reported).toHaveLength(WRITERS);

  for (let round = 0; round < ROUNDS; round++) {
    expect(await store.getAction(sharedKey(round))).toEqual(sharedPayload(round));
    for (let id = 0; id < WRITERS; id++) expect(await store.getAction(privateKey(id, round))).toEqual(privatePayload(id, round));
  }
  for (const hash of new Set(reported.flat())) {
    const bytes = await store.readBlob(hash);
    expect(bytes && sha256Hex(bytes)).toBe(hash);
  }
  const stats = await store.stats();
  expect(stats.blobs.count).toBe(ROUNDS * (1 + WRITERS));
  expect(stats.actions.count).toBe(ROUNDS * (1 + WRITERS));
  expect(stats.tempFiles.count).toBe(0);
  expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  expect(warnings).toEqual([]);
}, 60_000);

test('concurrent writes and reads within one process', async () => {
  const { store, warnings } = tempStore();
  const key = sha256Hex('contended');
  const bytes = bytesOf(9, 100_000);
  const writes = Array.from({ length: 20 }, (_, i) => [store.writeBlob(bytes), store.putAction(key, { same: true, i: i % 2 })]);
  const reads = Array.from({ length: 20 }, () => store.getAction(key));
  await Promise.all(writes.flat());
  for (const payload of await Promise.all(reads)) if (payload !== undefined) expect(payload).toHaveProperty('same', true);
  expect(await store.readBlob(sha256Hex(bytes))).toEqual(bytes);
  expect((await store.stats()).tempFiles.count).toBe(0);
  expect(warnings).toEqual([]);
});

test('a clear while writers run never fails a write', async () => {
  const { store } = tempStore();
  const work = Array.from({ length: 50 }, (_, i) => store.writeBlob(bytesOf(100 + i, 2000)));
  const clearing = [store.clear(), store.clear()];
  await expect(Promise.all([...work, ...clearing])).resolves.toBeDefined();
});

test('a clear while another process keeps writing never fails for a directory that is not empty', async () => {
  const { store } = tempStore();
  // Another process (a build) writes entries all the time; each clear must succeed regardless.
  const child = spawnFixture('writer', [store.root, '0', '150']);
  lines(child, () => undefined);
  child.stdin!.write('go\n');
  const done = exited(child);
  let finished = false;
  void done.then(() => (finished = true));
  let clears = 0;
  while (!finished || clears < 5) {
    await expect(store.clear()).resolves.toBeUndefined();
    clears++;
  }
  expect(await done).toEqual({ code: 0, signal: null });
}, 60_000);
