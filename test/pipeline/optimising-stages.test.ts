/**
 * fold-constants, fuse and plan-memory as pipeline stages: cached like the
 * others (a fuse option change re-runs from fuse on), verified between
 * stages, and a misspelled option or pattern is an error at its place in the YAML.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openLocalStore } from '../../src/cache/index.ts';
import { Build } from '../../src/pipeline/engine.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import type { Overrides } from '../../src/pipeline/load.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

const PIPELINE = `name: opt
target: js
model:
  path: model.kir
stages:
  - import: {}
  - fold-constants: {}
  - legalize: {}
  - fuse: { max-depth: 8 }
  - plan-memory: { picture: plan.html }
  - codegen: { out: out }
`;

let ws: Workspace;
beforeEach(() => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU });
});
afterEach(() => ws.remove());

async function build(overrides: Overrides = {}): Promise<Record<string, 'ran' | 'cached'>> {
  const r = await resolvePipeline(ws.path('pipeline.yaml'), overrides);
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  const result = await new Build(r.pipeline!, { store: openLocalStore(ws.path('cache')), verify: true }).run();
  return Object.fromEntries(result.stages.map((s) => [s.name, s.cached ? 'cached' : 'ran']));
}

test('each stage is cached; changing a fuse option re-runs fuse and what follows only', async () => {
  const first = await build();
  expect(Object.values(first)).toEqual(['ran', 'ran', 'ran', 'ran', 'ran', 'ran']);
  expect(ws.read('plan.html')).toMatch(/<title>kiln memory plan<\/title>/);
  expect(Object.values(await build())).toEqual(['cached', 'cached', 'cached', 'cached', 'cached', 'cached']);
  ws.write('pipeline.yaml', PIPELINE.replace('max-depth: 8', 'max-depth: 4'));
  expect(await build()).toEqual({
    import: 'cached',
    'fold-constants': 'cached',
    legalize: 'cached',
    fuse: 'ran',
    'plan-memory': 'ran',
    codegen: 'ran',
  });
});

test('an unknown fuse pattern or option is reported at its line and column', async () => {
  ws.write('pipeline.yaml', PIPELINE.replace('fuse: { max-depth: 8 }', 'fuse: { patterns: { injectiv: false } }'));
  const r = await resolvePipeline(ws.path('pipeline.yaml'));
  const text = r.diagnostics.map((d) => `${d.location?.line}:${d.location?.column} ${d.message}`).join('\n');
  expect(text).toMatch(/^9:\d+ .*injectiv/);
  ws.write('pipeline.yaml', PIPELINE.replace('plan-memory: { picture: plan.html }', 'plan-memory: { arena: 2 }'));
  const r2 = await resolvePipeline(ws.path('pipeline.yaml'));
  expect(r2.diagnostics.map((d) => `${d.location?.line} ${d.message}`).join('\n')).toMatch(/^10 .*arena/);
});
