/**
 * Which stages re-run after which edit: the key behaviour table of the
 * pipelines issue, on a pipeline with a built-in target-independent stage, a
 * user stage from a .ts file (target-dependent) and a stage after it.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openLocalStore } from '../../src/cache/index.ts';
import { Build } from '../../src/pipeline/engine.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import type { Overrides } from '../../src/pipeline/load.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `# a pipeline for the key table
name: keys
target: js
model:
  path: model.kir
stages:
  - import: {}
  - name: cleanup
    passes: { passes: [simplify] }
  - use: ./stages/annotate.ts
    options: { label: a }
  - name: tail
    passes: { passes: [dce] }
`;

function annotateStage(ws: Workspace): string {
  return `import { z } from 'zod';
import { defineStage } from '${ws.importOf('src/stages/registry.ts', 'stages/annotate.ts')}';
import { irModule } from '${ws.importOf('src/ir/module.ts', 'stages/annotate.ts')}';
import { note } from './helper.ts';

export default defineStage({
  id: 'annotate',
  version: 1,
  description: 'records the label, the target and a note as module attributes',
  options: z.object({ label: z.string().default('x') }).strict(),
  run: (m, ctx) => irModule(m!.functions, { ...m!.attrs, label: ctx.options.label, target: ctx.target.name, note }),
});
`;
}

let ws: Workspace;

beforeEach(() => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU, 'stages/helper.ts': "export const note = 'v1';\n" });
  ws.write('stages/annotate.ts', annotateStage(ws));
});
afterEach(() => ws.remove());

async function build(overrides: Overrides = {}): Promise<Record<string, 'ran' | 'cached'>> {
  const r = await resolvePipeline(ws.path('pipeline.yaml'), overrides);
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  const result = await new Build(r.pipeline!, { store: openLocalStore(ws.path('cache')), verify: true }).run();
  return Object.fromEntries(result.stages.map((s) => [s.name, s.cached ? 'cached' : 'ran']));
}

const ALL_CACHED = { import: 'cached', cleanup: 'cached', annotate: 'cached', tail: 'cached' };

describe('stage keys', () => {
  test('a first build runs every stage, a second one none', async () => {
    expect(await build()).toEqual({ import: 'ran', cleanup: 'ran', annotate: 'ran', tail: 'ran' });
    expect(await build()).toEqual(ALL_CACHED);
  });

  test('a comment-only edit of the YAML leaves every stage cached', async () => {
    await build();
    ws.write('pipeline.yaml', `# another comment\n${PIPELINE.replace('# a pipeline', '#   reworded')}\n\n# trailing\n`);
    expect(await build()).toEqual(ALL_CACHED);
  });

  test('an option change in stage k re-runs k and what follows; stages before it stay cached', async () => {
    await build();
    ws.write('pipeline.yaml', PIPELINE.replace('label: a', 'label: b'));
    expect(await build()).toEqual({ import: 'cached', cleanup: 'cached', annotate: 'ran', tail: 'ran' });
  });

  test('the same option change through --set does the same', async () => {
    await build();
    expect(await build({ set: ['stages.annotate.label=b'] })).toEqual({
      import: 'cached',
      cleanup: 'cached',
      annotate: 'ran',
      tail: 'ran',
    });
  });

  test('a model file re-written with the same bytes leaves everything cached; other bytes re-run it all', async () => {
    await build();
    ws.write('model.kir', MM_RELU);
    expect(await build()).toEqual(ALL_CACHED);
    ws.write('model.kir', MM_RELU.replace('0.0', '1.0'));
    expect(await build()).toEqual({ import: 'ran', cleanup: 'ran', annotate: 'ran', tail: 'ran' });
  });

  test('a target change re-runs from the first stage that uses the target', async () => {
    await build();
    expect(await build({ target: 'webgpu' })).toEqual({ import: 'cached', cleanup: 'cached', annotate: 'ran', tail: 'ran' });
    expect(await build({ target: 'webgpu' })).toEqual(ALL_CACHED);
  });

  test("editing the user stage's file, or a file it imports, re-runs it and what follows", async () => {
    await build();
    ws.write('stages/annotate.ts', annotateStage(ws).replace("default('x')", "default('y')"));
    expect(await build()).toEqual({ import: 'cached', cleanup: 'cached', annotate: 'ran', tail: 'ran' });
    ws.write('stages/helper.ts', "export const note = 'v2';\n");
    expect(await build()).toEqual({ import: 'cached', cleanup: 'cached', annotate: 'ran', tail: 'ran' });
  });

  test('a user stage that reads the target really gets the new one', async () => {
    const r = await resolvePipeline(ws.path('pipeline.yaml'), { target: 'webgpu' });
    const b = new Build(r.pipeline!, { store: openLocalStore(ws.path('cache')) });
    await b.run();
    expect((await b.moduleAfter(3)).attrs).toMatchObject({ label: 'a', target: 'webgpu', note: 'v1' });
  });
});
