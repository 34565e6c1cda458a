/**
 * The loader of WebAssembly kernels (format `wasm`, kernels.wasm.json and
 * kernels.wasm): compiles the module once, makes the memory tensors will live
 * in (shared when threads are available), the heap and the device over it,
 * instantiates the module on this thread and on the pool's workers, and wraps
 * every kernel. Without shared memory (a browser page that is not
 * cross-origin isolated) it runs on one thread and says so.
 */
import { parseJson, readArtifactText } from '../artifact-source.ts';
import { LOAD_CODES, LoadError } from '../errors.ts';
import type { KernelLoader } from '../kernel-loaders.ts';
import type { Kernel } from '../vm.ts';
import { sharedMemoryAvailable, wasm, type WasmCompiledModule, type WasmInstance, type WasmMemory } from './api.ts';
import { WasmDevice } from './device.ts';
import { Heap } from './heap.ts';
import { mathImports } from './imports.ts';
import { wasmKernel, type LaunchRunner } from './kernel.ts';
import { WASM_FORMAT, WASM_FORMAT_VERSION, type WasmKernelFile } from './kernel-spec.ts';
import { unshareMemoryImport } from './unshare.ts';
import { createPool, type WorkerFactory } from './pool.ts';

const PAGE = 65536;
const MAX_PAGES = 65536;

/** How the adapters (kiln/runtime/node, kiln/runtime/browser) start worker threads; set by them. */
let workerFactory: WorkerFactory | undefined;

export function setWasmWorkerFactory(factory: WorkerFactory | undefined): void {
  workerFactory = factory;
}

export const wasmKernelLoader: KernelLoader = {
  async load({ source, manifest, device: requested, threads }) {
    const where = source.location;
    const k = manifest.kernels;
    if (requested.kind !== 'cpu') {
      throw new LoadError(
        `${where}: this artifact was built for target '${manifest.target.name}' (WebAssembly kernels, device cpu); it cannot run on ${requested.name}`,
      );
    }
    const what = `${where}/${k.file}`;
    const file = parseJson<WasmKernelFile>(await readArtifactText(source, k.file), what);
    if (file.format !== WASM_FORMAT || file.version !== WASM_FORMAT_VERSION || typeof file.kernels !== 'object') {
      throw new LoadError(
        `${what} is not a Kiln WebAssembly kernel file of version ${WASM_FORMAT_VERSION}`,
        LOAD_CODES.malformed,
      );
    }
    const have = new Set(file.kernels.map((x) => x.name));
    const missing = k.names.filter((n) => !have.has(n));
    if (missing.length > 0) {
      throw new LoadError(
        `${where}: ${k.file} lacks kernel${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
        LOAD_CODES.malformed,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await source.readBytes(file.module);
    } catch (e) {
      if (e instanceof LoadError) throw e;
      throw new LoadError(`${where}: cannot read ${file.module}: ${(e as Error).message}`, LOAD_CODES.missingFile);
    }

    const wanted = Math.max(1, Math.floor(threads ?? file.threads ?? workerFactory?.defaultThreads ?? browserThreads()));
    const shared = sharedMemoryAvailable();
    const useThreads = shared && wanted > 1 && workerFactory !== undefined ? wanted : 1;
    if (wanted > 1 && useThreads === 1) {
      console.warn(
        `kiln: running WebAssembly kernels on one thread: ${shared ? 'no way to start worker threads here' : 'shared memory is unavailable (serve the page cross-origin isolated for threads)'}`,
      );
    }
    // Room for the parameters from the start, so loading them does not grow the memory piecemeal.
    const paramBytes = manifest.params.shards.reduce((a, s) => a + s.byteLength, 0);
    const initial = Math.min(MAX_PAGES, Math.ceil((paramBytes * 1.1 + (useThreads + 1) * file.stackBytes + (16 << 20)) / PAGE));
    let memory: WasmMemory;
    let module: WasmCompiledModule;
    try {
      memory = new wasm.Memory(shared ? { initial, maximum: MAX_PAGES, shared: true } : { initial, maximum: MAX_PAGES });
      module = await wasm.compile(shared ? bytes : unshareMemoryImport(bytes));
    } catch (e) {
      throw new LoadError(`${where}: cannot compile ${file.module}: ${(e as Error).message}`, LOAD_CODES.malformed);
    }
    const heap = new Heap(memory);
    const device = new WasmDevice(memory, heap, useThreads);
    const main = await instantiate(module, memory, heap, file.stackBytes);
    const runner: LaunchRunner =
      useThreads > 1
        ? await createPool({
            factory: workerFactory!,
            threads: useThreads,
            module,
            memory,
            heap,
            stackBytes: file.stackBytes,
            main,
            work: workPerIteration(file),
          })
        : serialRunner(main);
    const kernels = new Map<string, Kernel>();
    for (const spec of file.kernels) kernels.set(spec.name, wasmKernel(spec, device, runner));
    return { kernels, device };
  },
};

/** Instantiates the module on this thread with a stack of its own. */
export async function instantiate(
  module: WasmCompiledModule,
  memory: WasmMemory,
  heap: Heap,
  stackBytes: number,
): Promise<WasmInstance> {
  const instance = await wasm.instantiate(module, { env: { memory }, math: mathImports() });
  const stack = heap.alloc(stackBytes);
  (instance.exports.kiln_set_stack as (limit: number, top: number) => void)(stack, stack + stackBytes);
  return instance;
}

function serialRunner(instance: WasmInstance): LaunchRunner {
  return {
    run(name, args, extent) {
      const fn = instance.exports[name] as (...a: number[]) => void;
      if (extent === undefined) fn(...args);
      else fn(...args, 0, extent);
    },
  };
}

function browserThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n > 0 ? Math.min(n, 16) : 1;
}

function workPerIteration(file: WasmKernelFile): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of file.kernels) for (const l of k.launches) if (l.parallel) out.set(l.export, l.parallel.work);
  return out;
}
