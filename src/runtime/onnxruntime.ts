/**
 * The `onnxruntime` backend at run time (Node): each function's ONNX graph
 * (what the partition stage's onnxruntime backend wrote) becomes an
 * onnxruntime-node inference session, made once at load; a call hands the
 * inputs' memory to it and copies its outputs into the tensors the VM
 * allocated. onnxruntime-node is an optional peer dependency: an artifact that
 * needs it fails at load when it is not installed, saying so.
 */
import type * as OrtModule from 'onnxruntime-node';
import type { BackendFunction, BackendRuntime } from './backends.ts';
import { LoadError } from './errors.ts';
import type { NDArray } from './ndarray.ts';
import type { PackedFunc } from './registry.ts';

type Ort = typeof OrtModule;

/** onnxruntime-node, imported on first use; a failed import is tried again next time. */
function importer(load: () => Promise<Ort>): () => Promise<Ort> {
  let ort: Promise<Ort> | undefined;
  return () => {
    ort ??= load().catch((e: unknown) => {
      ort = undefined;
      throw new LoadError(
        `the artifact calls backend 'onnxruntime', which needs the package onnxruntime-node (an optional peer dependency of kiln): npm install onnxruntime-node (${(e as Error).message})`,
      );
    });
    return ort;
  };
}

/** ONNX Runtime's names of the dtypes the backend writes. */
const ORT_TYPES: Record<string, string> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** The backend's runtime over a given import of onnxruntime-node (tests pass one that fails). */
export function onnxruntimeRuntimeWith(load: () => Promise<Ort>): BackendRuntime {
  const onnxruntime = importer(load);
  return {
    name: 'onnxruntime',
    load: (functions) => loadFunctions(onnxruntime, functions),
  };
}

export const onnxruntimeRuntime: BackendRuntime = onnxruntimeRuntimeWith(() => import('onnxruntime-node'));

async function loadFunctions(
  onnxruntime: () => Promise<Ort>,
  functions: readonly BackendFunction[],
): Promise<Record<string, PackedFunc>> {
  const lib = await onnxruntime();
  const out: Record<string, PackedFunc> = {};
  for (const f of functions) {
    const entry = f.entry as { inputs: string[]; outputs: string[] };
    const model = f.files['model.onnx'];
    if (!model) throw new LoadError(`backend 'onnxruntime': ${f.symbol} has no model.onnx`);
    const session = await lib.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    out[f.symbol] = async (...args) => {
      const tensors = args as NDArray[];
      const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
      entry.inputs.forEach((name, i) => {
        const t = tensors[i]!;
        // onnxruntime-node refuses shared memory (a threaded wasm device's heap): hand it a copy there.
        const data = t.data.buffer instanceof SharedArrayBuffer ? t.data.slice() : t.data;
        feeds[name] = new lib.Tensor(ORT_TYPES[t.dtype] as 'float32', data as Float32Array, [...t.shape]);
      });
      const results = await session.run(feeds);
      entry.outputs.forEach((name, i) => {
        const dst = tensors[entry.inputs.length + i]!;
        (dst.data as Float32Array).set(results[name]!.data as Float32Array);
      });
    };
  }
  return out;
}
