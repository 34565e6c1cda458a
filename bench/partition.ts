/**
 * Library dispatch through the partition stage: ResNet-50 (light_resnet50,
 * seeded random weights) built by a pipeline whose `partition` stage hands
 * every operator to the built-in `onnxruntime` backend, run by Kiln's runtime
 * in Node (the VM calling onnxruntime-node through call_dps_packed), next to
 * onnxruntime-node running the same ONNX file itself; the outputs' largest
 * difference is printed too. Goal from the partition issue: within 1.5x of
 * onnxruntime-node. `quick` times the tiny vision model instead (a check of
 * the code path).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Build } from '../src/pipeline/engine.ts';
import { resolvePipeline } from '../src/pipeline/resolve.ts';
import { load, type NDArray, tensor } from '../src/runtime/node.ts';
import { RESNET50_INPUT, resnet50Onnx } from '../scripts/models/resnet50.ts';
import { workspace } from '../test/helpers/workspace.ts';
import { type BenchRow, median } from './util.ts';

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly input: string;
  readonly shape: readonly number[];
  readonly repeats: number;
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

async function timeIt(f: () => Promise<unknown>, repeats: number): Promise<number> {
  await f(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function benchPartition(quick = false, untimed = false): Promise<BenchRow[]> {
  const model: Model = quick
    ? {
        name: 'vision (tiny-resnet), batch 1',
        bytes: new Uint8Array(readFileSync(new URL('../examples/models/tiny-resnet.onnx', import.meta.url))),
        input: 'input',
        shape: [1, 3, 32, 32],
        repeats: 20,
      }
    : {
        name: 'resnet-50, batch 1',
        bytes: resnet50Onnx({ batch: 1 }),
        input: RESNET50_INPUT,
        shape: [1, 3, 224, 224],
        repeats: 5,
      };
  const ws = workspace();
  try {
    writeFileSync(ws.path('model.onnx'), model.bytes);
    ws.write(
      'pipeline.yaml',
      `name: partitioned
target: js
model: { path: model.onnx }
stages:
  - import: {}
  - fold-constants: {}
  - partition: { rules: [{ pattern: '*', backend: onnxruntime }] }
  - codegen: { out: artifact }
`,
    );
    const r = await resolvePipeline(ws.path('pipeline.yaml'));
    if (!r.pipeline) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    await new Build(r.pipeline).run();
    const kiln = await load(ws.path('artifact'));
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
    });
    const data = seeded(
      model.shape.reduce((a, b) => a * b, 1),
      7,
    );
    const x = tensor(data, model.shape);
    const feeds = { [model.input]: new ort.Tensor('float32', data, [...model.shape]) };
    const ours = ((await kiln.call('main', x)) as NDArray).data as Float32Array;
    const theirs = Object.values(await session.run(feeds))[0]!.data as Float32Array;
    const diff = Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i]!)));
    const manifest = JSON.parse(readFileSync(ws.path('artifact/manifest.json'), 'utf8')) as {
      kernels: { names: string[] };
      backends?: Record<string, { functions: object }>;
    };
    const split = `${Object.keys(manifest.backends?.onnxruntime?.functions ?? {}).length} onnxruntime composite(s), ${manifest.kernels.names.length} Kiln kernel(s)`;
    // `untimed`: builds, runs once and compares (a check of the row without the timing).
    if (untimed) return [{ name: model.name, ms: NaN, note: `${split}; max |diff| ${diff.toExponential(1)}` }];
    // Interleaved, so the machine's load weighs on both alike.
    const kilnMs: number[] = [];
    const ortMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      kilnMs.push(await timeIt(() => kiln.call('main', x), model.repeats));
      ortMs.push(await timeIt(() => session.run(feeds), model.repeats));
    }
    const [k, o] = [median(kilnMs), median(ortMs)];
    return [
      {
        name: `${model.name}: Kiln, partitioned to onnxruntime (Node)`,
        ms: k,
        goalMs: 1.5 * o,
        note: `${(k / o).toFixed(2)}x onnxruntime-node; ${split}; max |diff| ${diff.toExponential(1)}`,
      },
      { name: `${model.name}: onnxruntime-node`, ms: o },
    ];
  } finally {
    ws.remove();
  }
}
