/**
 * The vision pipeline (pipelines/vision-onnxruntime.yaml: vision.yaml with a
 * partition stage to the built-in onnxruntime backend) against the
 * unpartitioned vision build, on random inputs at two batch sizes: every
 * operator handed to onnxruntime-node, and only the convolution chains (the
 * rest Kiln's, a composite with several results where a chain's value feeds
 * a residual add).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Build } from '../../src/pipeline/engine.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import { type KilnModule, load, type NDArray, tensor } from '../../src/runtime/node.ts';
import { onnxruntimeRuntimeWith } from '../../src/runtime/onnxruntime.ts';
import { REPO, type Workspace, workspace } from '../helpers/workspace.ts';

let ws: Workspace;
beforeAll(() => {
  ws = workspace();
});
afterAll(() => ws.remove());

/** Builds a pipeline of pipelines/ for the js target into the workspace and loads it. */
async function built(file: string, out: string, set: readonly string[] = []): Promise<KilnModule> {
  const r = await resolvePipeline(join(REPO, 'pipelines', file), {
    target: 'js',
    set: [`stages.codegen.out=${ws.path(out)}`, `stages.plan-memory.picture=${ws.path(`${out}.html`)}`, ...set],
  });
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  await new Build(r.pipeline!).run();
  return load(ws.path(out));
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

async function maxError(a: KilnModule, b: KilnModule, batch: number): Promise<number> {
  const x = tensor(seeded(batch * 3 * 32 * 32, batch), [batch, 3, 32, 32]);
  const [ya, yb] = [(await a.call('main', x)) as NDArray, (await b.call('main', x)) as NDArray];
  expect(ya.shape).toEqual([batch, 10]);
  expect(yb.shape).toEqual([batch, 10]);
  return Math.max(...Array.from(ya.data as Float32Array, (v, i) => Math.abs(v - (yb.data as Float32Array)[i]!)));
}

test("the README's partition example is pipelines/vision-onnxruntime.yaml", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Library dispatch'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  expect(parseYaml(block)).toEqual(parseYaml(readFileSync(join(REPO, 'pipelines/vision-onnxruntime.yaml'), 'utf8')));
});

describe('the vision model partitioned to onnxruntime', () => {
  let reference: KilnModule;
  beforeAll(async () => {
    reference = await built('vision.yaml', 'plain');
  }, 120_000);

  test('every operator in one onnxruntime composite: outputs within 1e-4 of the unpartitioned build', async () => {
    const partitioned = await built('vision-onnxruntime.yaml', 'ort');
    const manifest = JSON.parse(readFileSync(ws.path('ort/manifest.json'), 'utf8')) as {
      kernels: { names: string[] };
      backends: Record<string, { functions: object }>;
    };
    expect(Object.keys(manifest.backends.onnxruntime!.functions)).toHaveLength(1);
    expect(manifest.kernels.names).toEqual([]);
    for (const batch of [1, 3]) expect(await maxError(partitioned, reference, batch)).toBeLessThan(1e-4);
    // Where onnxruntime-node is not installed, the load fails saying so.
    const missing = onnxruntimeRuntimeWith(() => Promise.reject(new Error("Cannot find package 'onnxruntime-node'")));
    await expect(load(ws.path('ort'), { backends: [missing] })).rejects.toThrow(
      "the artifact calls backend 'onnxruntime', which needs the package onnxruntime-node",
    );
  }, 120_000);

  test('only the convolution chains: the rest stays Kiln’s and the two meet through call_dps_packed', async () => {
    const partitioned = await built('vision-onnxruntime.yaml', 'ort-conv', [
      "stages.partition.rules=[{ pattern: 'conv2d(*, const) -> add(*, const)? -> relu?', backend: onnxruntime }]",
      'stages.partition.merge=false',
    ]);
    const manifest = JSON.parse(readFileSync(ws.path('ort-conv/manifest.json'), 'utf8')) as {
      kernels: { names: string[] };
      backends: Record<string, { functions: object }>;
    };
    expect(Object.keys(manifest.backends.onnxruntime!.functions).length).toBeGreaterThan(3);
    expect(manifest.kernels.names.length).toBeGreaterThan(0);
    for (const batch of [1, 3]) expect(await maxError(partitioned, reference, batch)).toBeLessThan(1e-4);
  }, 120_000);
});
