// Times one model on onnxruntime-web's wasm backend with a given thread count; prints the median ms.
// Usage: node --import tsx ort-web-child.ts MODEL.onnx INPUTS_JSON THREADS REPEATS
import * as ort from 'onnxruntime-web';
import { timeSteady } from './util.ts';

const [file, inputsJson, threads, repeats] = process.argv.slice(2) as [string, string, string, string];
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
console.log(await timeSteady(() => session.run(feeds), Number(repeats)));
process.exit(0);
