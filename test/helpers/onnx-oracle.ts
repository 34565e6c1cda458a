/**
 * The ONNX oracle: runs a model through Kiln (import, build for the CPU —
 * or, given a webgpu device, schedule and build for WebGPU — and run) and
 * through onnxruntime-node on the same random inputs, and reports the largest
 * absolute and relative difference of every output.
 */
import * as ort from 'onnxruntime-node';
import type { IRModule } from '../../src/ir/module.ts';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { importOnnx } from '../../src/frontends/onnx/importer.ts';
import type { ModelSpec } from '../../src/stages/registry.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import type { Device, NDArray } from '../../src/runtime/ndarray.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { WEBGPU_TARGET } from './gpu-ops.ts';
import { WASM_TARGET } from './wasm-ops.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import type { Value } from '../../src/runtime/values.ts';
import { JS_TARGET } from './build-run.ts';
import { randomArray } from './tir-interpreter.ts';

export interface OracleInput {
  readonly name: string;
  readonly shape: readonly number[];
  /** float32 in [lo, hi) (default [-1, 1)). */
  readonly lo?: number;
  readonly hi?: number;
}

export interface OutputError {
  readonly name: string;
  readonly shape: readonly number[];
  readonly maxAbs: number;
  readonly maxRel: number;
}

export async function compareWithOrt(
  bytes: Uint8Array,
  inputs: readonly OracleInput[],
  options: {
    seed?: number;
    dynamic?: ModelSpec['dynamic'];
    device?: Device;
    /** Build for the wasm target (default CPU schedules) and run on that many threads. */
    wasmThreads?: number;
    /** Applied to the imported module before it is built (optimising stages under test). */
    transform?: (m: IRModule) => IRModule | Promise<IRModule>;
  } = {},
): Promise<OutputError[]> {
  const imported = importOnnx(bytes, { file: 'model.onnx', ...(options.dynamic ? { dynamic: options.dynamic } : {}) });
  const module = options.transform ? await options.transform(imported) : imported;
  // A device: WebGPU; wasmThreads: the wasm target on that many threads; else js.
  const scheduledFor = options.device ? WEBGPU_TARGET : options.wasmThreads ? WASM_TARGET : undefined;
  const artifact = await (scheduledFor
    ? buildArtifact(scheduleModule(legalizeModule(module), scheduledFor), { name: 'oracle', target: scheduledFor })
    : buildArtifact(module, { name: 'oracle', target: JS_TARGET }));
  const kiln = await loadArtifact(
    memorySource(artifact),
    options.device ? { device: options.device } : options.wasmThreads ? { threads: options.wasmThreads } : {},
  );
  const session = await ort.InferenceSession.create(bytes);
  const data = inputs.map((x, i) =>
    randomArray(
      x.shape.reduce((a, b) => a * b, 1),
      (options.seed ?? 1) * 100 + i,
      x.lo ?? -1,
      x.hi ?? 1,
    ),
  );
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((x, i) => (feeds[x.name] = new ort.Tensor('float32', Float32Array.from(data[i]!), [...x.shape])));
  const expected = await session.run(feeds);
  const result = await kiln.call('main', ...inputs.map((x, i) => tensor(data[i]!, x.shape)));
  const outputs = (Array.isArray(result) ? result : [result]) as Value[];
  const cpuOutputs = await Promise.all(outputs.map((o) => (o as NDArray).toCpu()));
  return session.outputNames.map((name, i) => {
    const got = cpuOutputs[i]!;
    const want = expected[name]!;
    if (got.shape.join() !== want.dims.join())
      throw new Error(`${name}: shape [${got.shape.join(', ')}], onnxruntime [${want.dims.join(', ')}]`);
    const a = got.toNumbers();
    const b = Array.from(want.data as ArrayLike<number | bigint>, Number);
    let maxAbs = 0;
    let maxRel = 0;
    b.forEach((y, k) => {
      const d = Math.abs(a[k]! - y);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(y), 1e-6));
    });
    return { name, shape: got.shape, maxAbs, maxRel };
  });
}
