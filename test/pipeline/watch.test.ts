/** kiln watch: an edit gives exactly one rebuild with the right stages; a broken edit keeps watching. */
import { mkdirSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type RebuildEvent, startWatch, type WatchHandle } from '../../src/cli/watch-command.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `name: watched
target: js
model:
  path: model.kir
stages:
  - import: {}
  - name: first
    passes: { passes: [simplify] }
  - name: second
    passes: { passes: [dce] }
`;

let ws: Workspace;
let handle: WatchHandle | undefined;
let events: RebuildEvent[];
let log: string;

beforeEach(() => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU });
  events = [];
  log = '';
});
afterEach(async () => {
  await handle?.close();
  handle = undefined;
  ws.remove();
});

async function nextRebuild(count: number): Promise<void> {
  for (let i = 0; i < 200 && events.length < count; i++) await new Promise((r) => setTimeout(r, 25));
  expect(events.length, log).toBeGreaterThanOrEqual(count);
}

function start(debounce = 30, afterRebuild?: (e: RebuildEvent) => void): WatchHandle {
  handle = startWatch(
    [ws.path('pipeline.yaml')],
    {
      set: [],
      cache: true,
      cacheDir: ws.path('cache'),
      debounce,
      onRebuild: (e) => {
        events.push(e);
        afterRebuild?.(e);
      },
    },
    { stdout: (t) => (log += t), stderr: (t) => (log += t) },
  );
  return handle;
}

describe('kiln watch', () => {
  test('editing an option of the last stage gives one rebuild that runs only that stage', async () => {
    await start().ready;
    expect(events).toHaveLength(1);
    ws.write('pipeline.yaml', PIPELINE.replace('passes: [dce]', 'passes: [dce, simplify]'));
    await nextRebuild(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toHaveLength(2);
    expect(events[1]!.stages).toEqual([
      { name: 'import', cached: true },
      { name: 'first', cached: true },
      { name: 'second', cached: false },
    ]);
    expect(log).toMatch(/\[watched\] built in .*: import cached, first cached, second ran\n/);
  });

  test('a broken edit prints its problem and keeps watching; fixing it rebuilds', async () => {
    await start().ready;
    ws.write('pipeline.yaml', PIPELINE.replace('- import: {}', '- imprt: {}'));
    await nextRebuild(2);
    expect(events[1]!.ok).toBe(false);
    expect(log).toContain("error K6002: unknown stage 'imprt'");
    expect(log).toContain('still watching');
    ws.write('pipeline.yaml', PIPELINE);
    await nextRebuild(3);
    expect(events[2]).toMatchObject({ ok: true });
    expect(events[2]!.stages.every((s) => s.cached)).toBe(true);
  });

  test('a second save right after the first (format on save) is not lost', async () => {
    // The second write lands as soon as the first rebuild is done: within chokidar's 50 ms
    // window for this file, so chokidar reports nothing and the watcher's re-check must.
    await start(0, (e) => {
      if (events.length === 2 && e.ok) ws.write('pipeline.yaml', PIPELINE.replace('- import: {}', '- imprt: {}'));
    }).ready;
    ws.write('pipeline.yaml', PIPELINE.replace('passes: [dce]', 'passes: [dce, simplify]'));
    await nextRebuild(3);
    expect(events[2]!.ok).toBe(false);
    expect(log).toContain("unknown stage 'imprt'");
  });

  test('a pipeline file deleted and created again (an editor saving by replacing) is still followed', async () => {
    await start().ready;
    for (const [i, passes] of ['[dce, simplify]', '[simplify, dce]', '[dce]'].entries()) {
      rmSync(ws.path('pipeline.yaml'));
      ws.write('pipeline.yaml', PIPELINE.replace('passes: [dce]', `passes: ${passes}`));
      await nextRebuild(i + 2);
      await new Promise((r) => setTimeout(r, 150));
    }
    // Each replacement was seen, and a plain edit after them still is.
    ws.write('pipeline.yaml', PIPELINE.replace('- import: {}', '- imprt: {}'));
    await nextRebuild(5);
    expect(log).toContain("unknown stage 'imprt'");
  });

  test('a model file replaced by a directory is reported and watching goes on', async () => {
    await start().ready;
    rmSync(ws.path('model.kir'));
    mkdirSync(ws.path('model.kir'));
    await nextRebuild(2);
    expect(events[1]!.ok).toBe(false);
    expect(log).toContain(`error K6013: model file '${ws.path('model.kir')}' is a directory, not a file`);
    expect(log).not.toContain('internal error');
    rmSync(ws.path('model.kir'), { recursive: true });
    ws.write('model.kir', MM_RELU);
    await nextRebuild(3);
    expect(events[events.length - 1]!.ok, log).toBe(true);
  });

  test('the model file is watched too', async () => {
    await start().ready;
    ws.write('model.kir', MM_RELU.replace('0.0', '2.0'));
    await nextRebuild(2);
    expect(events[1]!.stages.map((s) => s.cached)).toEqual([false, false, false]);
  });
});
