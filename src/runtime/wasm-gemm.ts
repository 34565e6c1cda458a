/**
 * The `kiln-wasm-gemm` backend at run time, in any JavaScript engine: each
 * function instantiates the library's kernel (gemm.wasm, from the artifact)
 * and, per call, copies its operands into the kernel's memory (grown to fit),
 * runs it and copies the product out into the tensor the VM allocated.
 */
import type { BackendRuntime } from './backends.ts';
import { LoadError } from './errors.ts';
import type { NDArray } from './ndarray.ts';
import type { PackedFunc } from './registry.ts';
import { wasm, type WasmMemory } from './wasm/api.ts';

interface Gemm {
  readonly memory: WasmMemory;
  gemm(a: number, b: number, bias: number, c: number, m: number, k: number, n: number, hasBias: number): void;
}

const PAGE = 65536;

function caller(kernel: Gemm, bias: boolean): PackedFunc {
  return (...args) => {
    const [a, w] = args as NDArray[];
    const b = bias ? (args[2] as NDArray) : undefined;
    const out = args[args.length - 1] as NDArray;
    const [m, k] = a!.shape as [number, number];
    const n = w!.shape[1]!;
    const sizes = [m * k, k * n, b ? n : 0, m * n].map((x) => x * 4);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((s, x) => s + x, 0));
    const need = offsets[3]! + sizes[3]!;
    const have = kernel.memory.buffer.byteLength;
    if (need > have) kernel.memory.grow(Math.ceil((need - have) / PAGE));
    const heap = new Float32Array(kernel.memory.buffer);
    heap.set(a!.data as Float32Array, offsets[0]! / 4);
    heap.set(w!.data as Float32Array, offsets[1]! / 4);
    if (b) heap.set(b.data as Float32Array, offsets[2]! / 4);
    kernel.gemm(offsets[0]!, offsets[1]!, offsets[2]!, offsets[3]!, m, k, n, b ? 1 : 0);
    (out.data as Float32Array).set(heap.subarray(offsets[3]! / 4, offsets[3]! / 4 + m * n));
  };
}

export const wasmGemmRuntime: BackendRuntime = {
  name: 'kiln-wasm-gemm',
  load: async (functions) => {
    const out: Record<string, PackedFunc> = {};
    for (const f of functions) {
      const bytes = f.files['gemm.wasm'];
      if (!bytes) throw new LoadError(`backend 'kiln-wasm-gemm': ${f.symbol} has no gemm.wasm`);
      const instance = await wasm.instantiate(await wasm.compile(bytes), {});
      out[f.symbol] = caller(instance.exports as unknown as Gemm, (f.entry as { bias: boolean }).bias);
    }
    return out;
  },
};
