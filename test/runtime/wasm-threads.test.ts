/**
 * The wasm target's worker pool: parallel launches split over two or three
 * threads give the one-thread result, and a worker that dies makes the pool
 * start anew: the next call runs and is right.
 */
import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { targetSchema } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import '../../src/runtime/node.ts';
import { spawnNodeWorker } from '../../src/runtime/wasm/node-workers.ts';
import { setWasmWorkerFactory } from '../../src/runtime/wasm/loader.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';

const WASM = targetSchema.parse(parseYaml(readFileSync(new URL('../../targets/wasm.yaml', import.meta.url), 'utf8')));

const MODULE = `
func main(a: Tensor[(96, 128), f32], b: Tensor[(128, 256), f32]) -> Tensor[(96, 256), f32] {
  dataflow {
    c: Tensor[(96, 256), f32] = matmul(a, b)
    output c
  }
  return c
}`;

/** Node's worker factory, keeping the workers it starts so the test can end one. */
const started: Worker[] = [];
setWasmWorkerFactory({
  defaultThreads: 2,
  spawn(source) {
    const { worker, like } = spawnNodeWorker(source);
    started.push(worker);
    return like;
  },
});

afterAll(async () => {
  await Promise.all(started.map((w) => w.terminate()));
});

describe('the wasm worker pool', () => {
  const args = [
    tensor(Float32Array.from(randomArray(96 * 128, 1)), [96, 128], 'float32'),
    tensor(Float32Array.from(randomArray(128 * 256, 2)), [128, 256], 'float32'),
  ];
  const built = buildArtifact(scheduleModule(legalizeModule(parseModule(MODULE, { ...opHooks, file: 'mm.kir' })), WASM), {
    name: 'mm',
    target: WASM,
  });
  const run = async (threads: number): Promise<Float32Array> => {
    const mod = await loadArtifact(memorySource(await built), { threads });
    return ((await (mod.call('main', ...args) as Promise<NDArray>).then((y) => y.toCpu())).data as Float32Array).slice();
  };

  it('two threads give the one-thread result, and a dead worker is replaced for the next call', async () => {
    const one = await run(1);
    const mod = await loadArtifact(memorySource(await built), { threads: 2 });
    const call = async (): Promise<Float32Array> =>
      ((await (mod.call('main', ...args) as Promise<NDArray>).then((y) => y.toCpu())).data as Float32Array).slice();
    expect(await call()).toEqual(one);
    expect(started.length).toBe(1);
    // The worker dies between calls: the pool notices, and the next call starts a new one.
    const dead = started[0]!;
    await dead.terminate();
    await new Promise((r) => setTimeout(r, 50));
    expect(await call()).toEqual(one);
    expect(started.length).toBe(2);
  });

  it('three threads (each claiming its own third of the chunks first, then the rest) give the one-thread result', async () => {
    const one = await run(1);
    const before = started.length;
    for (let i = 0; i < 3; i++) expect(await run(3)).toEqual(one);
    expect(started.length - before).toBe(6);
  });
});
