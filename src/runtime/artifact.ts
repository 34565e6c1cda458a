/**
 * Loading an artifact: reads the manifest, the VM program, the kernels and
 * the parameters through an ArtifactSource (a directory in Node, URLs in a
 * browser), checks that every registry function the program needs is
 * registered, and returns a module whose entry functions take and return
 * NDArrays.
 */
import { BUILTINS } from './builtins/index.ts';
import { bytesPerElement, type DType, isDType, storageOf } from './dtype.ts';
import { LOAD_CODES, LoadError } from './errors.ts';
import type { EntryInfo, Manifest, ParamEntry } from './manifest.ts';
import { checkManifest, checkProgram } from './manifest-check.ts';
import { argsByName, outputsByName } from './named-call.ts';
import { cpu, type Device, NDArray } from './ndarray.ts';
import { defaultSha256, verifyShard } from './param-verify.ts';
import { type BackendRuntime, loadBackends, registerBackendRuntime } from './backends.ts';
import { wasmGemmRuntime } from './wasm-gemm.ts';
import { FunctionRegistry, registry as defaultRegistry } from './registry.ts';
import type { Value } from './values.ts';
import { VirtualMachine } from './vm.ts';
import { type ArtifactSource, cannotRead, parseJson, readArtifactText } from './artifact-source.ts';
import { kernelFormats, kernelLoader, registerKernelLoader } from './kernel-loaders.ts';
import { jsKernelLoader } from './js-kernels.ts';
import { wgslKernelLoader } from './webgpu/loader.ts';
import { wasmKernelLoader } from './wasm/loader.ts';

export type { ArtifactSource } from './artifact-source.ts';

registerKernelLoader('js', jsKernelLoader);
registerKernelLoader('wgsl', wgslKernelLoader);
registerKernelLoader('wasm', wasmKernelLoader);
// Backends that run in any engine; onnxruntime registers in the Node adapter.
registerBackendRuntime(wasmGemmRuntime);

export interface LoadOptions {
  /**
   * Where to run: 'cpu' (default), 'webgpu' (the Node and browser adapters create the
   * device; loadArtifact itself needs a device object for it) or a device object.
   */
  readonly device?: 'cpu' | 'webgpu' | Device;
  /** The registry that supplies call_dps_packed and extern functions; the global one by default. */
  readonly registry?: FunctionRegistry;
  /** Worker threads for kernels that have threads (WebAssembly); the artifact's default when left out. */
  readonly threads?: number;
  /**
   * Check every parameter against the hash the manifest records (default true); false skips it
   * for a trusted artifact (the load then costs the reading and the upload only).
   */
  readonly verify?: boolean;
  /** Runtimes of backends the artifact calls (partition stage), besides those registered with registerBackendRuntime. */
  readonly backends?: readonly BackendRuntime[];
  /** Hears how many kernels are ready, of how many, while they compile (WebGPU pipelines, in parallel). */
  readonly onProgress?: (done: number, total: number) => void;
}

export { LoadError };

/** One kernel's share of a profiled call. */
export interface KernelTime {
  readonly kernel: string;
  readonly launches: number;
  readonly ms: number;
}

export class KilnModule {
  constructor(
    readonly manifest: Manifest,
    readonly device: Device,
    private readonly vm: VirtualMachine,
  ) {}

  /** The names of the entry functions. */
  get entries(): string[] {
    return Object.keys(this.manifest.entries);
  }

  /** Calls entry function `entry`. Tensors on another device are copied to the module's. */
  async call(entry: string, ...args: Value[]): Promise<Value> {
    this.entry(entry);
    return this.vm.call(entry, args);
  }

  /**
   * Calls entry function `entry` once with each kernel launch timed: the result, and per
   * kernel its launches and total milliseconds, slowest first. On WebGPU each kernel is
   * waited for, so the call itself is slower than `call`.
   */
  async profile(entry: string, ...args: Value[]): Promise<{ result: Value; kernels: KernelTime[] }> {
    this.entry(entry);
    const byName = new Map<string, KernelTime>();
    const result = await this.vm.profile(entry, args, (kernel, ms) => {
      const t = byName.get(kernel) ?? { kernel, launches: 0, ms: 0 };
      byName.set(kernel, { kernel, launches: t.launches + 1, ms: t.ms + ms });
    });
    return { result, kernels: [...byName.values()].sort((a, b) => b.ms - a.ms) };
  }

  /**
   * Calls entry function `entry` with its inputs by name, the model's own names as the manifest
   * lists them (`{ 'gpu_0/data_0': x }`), and returns its results by name.
   */
  async callNamed(entry: string, inputs: Readonly<Record<string, Value>>): Promise<Record<string, Value>> {
    const info = this.entry(entry);
    return outputsByName(info, await this.vm.call(entry, argsByName(entry, info, inputs)));
  }

  private entry(name: string): EntryInfo {
    if (!Object.hasOwn(this.manifest.entries, name)) {
      throw new LoadError(`no entry function '${name}'; the entries are ${this.entries.join(', ')}`);
    }
    return this.manifest.entries[name]!;
  }
}

export async function loadArtifact(source: ArtifactSource, options: LoadOptions = {}): Promise<KilnModule> {
  const where = source.location;
  const manifest = checkManifest(
    parseJson(await readArtifactText(source, 'manifest.json'), `${where}/manifest.json`),
    `${where}/manifest.json`,
  );
  if (options.device === 'webgpu') {
    throw new LoadError(
      `${where}: { device: 'webgpu' } needs an adapter to create the device: use load() of kiln/runtime/node or loadFromUrl() of kiln/runtime/browser, or pass a device from createWebGpuDevice()`,
    );
  }
  const requested = options.device === undefined || options.device === 'cpu' ? cpu : options.device;
  // The functions of the backends the program calls go in a registry of this artifact's own,
  // over the one given: loading two artifacts never mixes their backends' functions up.
  const reg = new FunctionRegistry(options.registry ?? defaultRegistry);
  for (const [symbol, fn] of await loadBackends(manifest, source, requested, options.backends)) reg.register(symbol, fn);
  for (const name of manifest.externs) {
    const builtin = BUILTINS.get(name);
    if (builtin && !reg.has(name)) reg.register(name, builtin);
  }
  const missing = manifest.externs.filter((name) => !reg.has(name));
  if (missing.length > 0) {
    throw new LoadError(
      `${where}: the program calls registry function${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}, ` +
        `which ${missing.length > 1 ? 'are' : 'is'} not registered; register ${missing.length > 1 ? 'them' : 'it'} (registry.register(name, fn)) before loading`,
    );
  }
  const programFile = `${where}/${manifest.program}`;
  const program = checkProgram(parseJson(await readArtifactText(source, manifest.program), programFile), manifest, programFile);
  const loader = kernelLoader(manifest.kernels.format);
  if (!loader) {
    throw new LoadError(
      `${where}: kernels in format '${manifest.kernels.format}' cannot be loaded by this runtime (formats: ${kernelFormats().join(', ')})`,
    );
  }
  const loaded = await loader.load({
    source,
    manifest,
    device: requested,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const device = loaded.device ?? requested;
  const params = await loadParams(source, manifest.params, device, options.verify ?? true);
  return new KilnModule(
    manifest,
    device,
    new VirtualMachine(program, { device, kernels: loaded.kernels, registry: reg, params }),
  );
}

async function readBytes(source: ArtifactSource, file: string): Promise<Uint8Array> {
  try {
    return await source.readBytes(file);
  } catch (e) {
    throw cannotRead(source, file, e);
  }
}

async function loadParams(
  source: ArtifactSource,
  params: Manifest['params'],
  device: Device,
  verify: boolean,
): Promise<NDArray[]> {
  const sha256 = source.sha256 ?? defaultSha256();
  const shards = await Promise.all(
    params.shards.map(async (s, i) => {
      const bytes = await readBytes(source, s.file);
      if (bytes.byteLength !== s.byteLength) {
        throw new LoadError(
          `${source.location}: ${s.file} has ${bytes.byteLength} bytes, the manifest says ${s.byteLength}`,
          LOAD_CODES.malformed,
        );
      }
      if (verify) await verifyShard(bytes, i, s.file, params.tensors, sha256, source.location);
      return bytes;
    }),
  );
  return Promise.all(
    params.tensors.map(async (p, i) => device.upload(paramTensor(p, shards, `${source.location}: parameter ${i}`))),
  );
}

function paramTensor(p: ParamEntry, shards: readonly Uint8Array[], what: string): NDArray {
  if (!isDType(p.dtype)) throw new LoadError(`${what} has unknown dtype '${p.dtype}'`, LOAD_CODES.malformed);
  const dtype: DType = p.dtype;
  const shard = shards[p.shard];
  const count = p.shape.reduce((a, b) => a * b, 1);
  if (!shard || p.offset + p.byteLength > shard.byteLength || count * bytesPerElement(dtype) !== p.byteLength) {
    throw new LoadError(`${what} lies outside its shard or does not match its shape`, LOAD_CODES.malformed);
  }
  const Storage = storageOf(dtype);
  const start = shard.byteOffset + p.offset;
  // Typed arrays need aligned offsets; codegen aligns every parameter, a copy covers the rest.
  const data =
    start % Storage.BYTES_PER_ELEMENT === 0
      ? new Storage(shard.buffer, start, count)
      : new Storage(shard.slice(p.offset, p.offset + p.byteLength).buffer, 0, count);
  return new NDArray(p.shape, dtype, cpu, data);
}
