/**
 * The wasm target's generator: every kernel in one WebAssembly module
 * (kernels.wasm) with its description (kernels.wasm.json). binaryen, which
 * builds and optimizes it, loads only here.
 */
import type { CodeGenerator } from '../registry.ts';
import { emitWasmModule, WASM_MODULE_FILE } from './module.ts';

export const WASM_SPEC_FILE = 'kernels.wasm.json';

export const wasmGenerator: CodeGenerator = {
  async emit(kernels, target) {
    const { bytes, spec } = await emitWasmModule(kernels, target);
    return {
      files: [
        { path: WASM_MODULE_FILE, bytes },
        { path: WASM_SPEC_FILE, bytes: new TextEncoder().encode(`${JSON.stringify(spec, null, 1)}\n`) },
      ],
      kernels: { format: 'wasm', file: WASM_SPEC_FILE, names: kernels.map((k) => k.name) },
      warnings: [],
    };
  },
};
