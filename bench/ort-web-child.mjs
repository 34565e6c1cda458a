// Times one model on onnxruntime-web's wasm backend with a given thread count; prints the median ms.
// Usage: node ort-web-child.mjs MODEL.onnx INPUTS_JSON THREADS REPEATS
import * as ort from 'onnxruntime-web';

const [file, inputsJson, threads, repeats] = process.argv.slice(2);
ort.env.wasm.numThreads = Number(threads);
const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
const feeds = {};
JSON.parse(inputsJson).forEach((x, i) => {
  const n = x.shape.reduce((a, b) => a * b, 1);
  let s = (i + 7) >>> 0;
  const data = Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  });
  feeds[x.name] = new ort.Tensor('float32', data, x.shape);
});
await session.run(feeds);
const times = [];
for (let r = 0; r < Number(repeats); r++) {
  const t0 = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(times[Math.floor(times.length / 2)]);
process.exit(0);
