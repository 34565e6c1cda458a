/** The built-in partition backends, registered by name. */
import { onnxruntimeBackend } from './onnxruntime.ts';
import { getBackend, registerBackend } from './registry.ts';
import { wasmGemmBackend } from './wasm-gemm.ts';

for (const b of [onnxruntimeBackend, wasmGemmBackend]) if (!getBackend(b.name)) registerBackend(b);

export * from './registry.ts';
