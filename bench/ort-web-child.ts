// Runs one model on onnxruntime-web's wasm backend with a given thread count (its thread pool is fixed when
// it first loads, hence a process per thread count), timed on request so the parent can interleave it with
// the other runtimes (bench/interleave.ts).
// Usage: node --import tsx ort-web-child.ts MODEL.onnx INPUTS_JSON THREADS
// Protocol, a line each: it prints `ready` once warmed up; to `round RUNS FILL_MS` it answers
// `times [ms, ...]`; at `exit` or the end of its input it exits.
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-web';
import { timeRuns } from '../src/cli/timing.ts';

const [file, inputsJson, threads] = process.argv.slice(2) as [string, string, string];
ort.env.wasm.numThreads = Number(threads);
const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
const feeds: Record<string, ort.Tensor> = {};
(JSON.parse(inputsJson) as { name: string; shape: number[] }[]).forEach((x, i) => {
  const n = x.shape.reduce((a, b) => a * b, 1);
  let s = (i + 7) >>> 0;
  const data = Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  });
  feeds[x.name] = new ort.Tensor('float32', data, x.shape);
});
const run = (): Promise<unknown> => session.run(feeds);
await timeRuns(run, 0, 'auto');
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, runs, fillMs] = line.trim().split(/\s+/);
  if (command !== 'round') break;
  const { times } = await timeRuns(run, Number(runs), 0, Number(fillMs));
  console.log(`times ${JSON.stringify(times)}`);
}
process.exit(0);
