/**
 * The part of the WebAssembly JavaScript API the runtime uses, typed here:
 * TypeScript declares it only with the DOM library, and the runtime is built
 * for Node and browsers alike without it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

export type WasmCompiledModule = object;

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmCompiledModule>;
  instantiate(module: WasmCompiledModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
  RuntimeError: abstract new (...args: never[]) => Error;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Whether memories can be shared between threads here (a browser page needs cross-origin isolation). */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}
