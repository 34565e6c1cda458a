/**
 * Loading an artifact: reads the manifest, the VM program, the kernels and
 * the parameters through an ArtifactSource (a directory in Node, URLs in a
 * browser), checks that every registry function the program needs is
 * registered, and returns a module whose entry functions take and return
 * NDArrays.
 */
import { bytesPerElement, type DType, isDType, storageOf } from './dtype.ts';
import { LOAD_CODES, LoadError } from './errors.ts';
import type { EntryInfo, Manifest, ParamEntry } from './manifest.ts';
import { checkManifest, checkProgram } from './manifest-check.ts';
import { argsByName, outputsByName } from './named-call.ts';
import { cpu, type Device, NDArray } from './ndarray.ts';
import { defaultSha256, type Sha256, verifyShard } from './param-verify.ts';
import { type FunctionRegistry, registry as defaultRegistry } from './registry.ts';
import type { Value } from './values.ts';
import { type Kernel, VirtualMachine } from './vm.ts';
import { isWebGpuDevice } from './webgpu/device.ts';
import type { WgslKernelFile } from './webgpu/kernel-spec.ts';
import { checkKernelFile } from './webgpu/validate.ts';

/** Where an artifact's files come from. */
export interface ArtifactSource {
  /** The directory or URL, for messages. */
  readonly location: string;
  readText(file: string): Promise<string>;
  readBytes(file: string): Promise<Uint8Array>;
  /** Imports an ES module of the artifact (the JavaScript kernels). */
  importModule(file: string): Promise<Record<string, unknown>>;
  /** A SHA-256 faster than WebCrypto's where the platform has one (Node: node:crypto), for verifying parameters. */
  readonly sha256?: Sha256;
}

export interface LoadOptions {
  /**
   * Where to run: 'cpu' (default), 'webgpu' (the Node and browser adapters create the
   * device; loadArtifact itself needs a device object for it) or a device object.
   */
  readonly device?: 'cpu' | 'webgpu' | Device;
  /** The registry that supplies call_dps_packed and extern functions; the global one by default. */
  readonly registry?: FunctionRegistry;
  /**
   * Check every parameter against the hash the manifest records (default true); false skips it
   * for a trusted artifact (the load then costs the reading and the upload only).
   */
  readonly verify?: boolean;
}

export { LoadError };

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
    parseJson(await read(source, 'manifest.json'), `${where}/manifest.json`),
    `${where}/manifest.json`,
  );
  if (options.device === 'webgpu') {
    throw new LoadError(
      `${where}: { device: 'webgpu' } needs an adapter to create the device: use load() of kiln/runtime/node or loadFromUrl() of kiln/runtime/browser, or pass a device from createWebGpuDevice()`,
    );
  }
  const device = options.device === undefined || options.device === 'cpu' ? cpu : options.device;
  const reg = options.registry ?? defaultRegistry;
  const missing = manifest.externs.filter((name) => !reg.has(name));
  if (missing.length > 0) {
    throw new LoadError(
      `${where}: the program calls registry function${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}, ` +
        `which ${missing.length > 1 ? 'are' : 'is'} not registered; register ${missing.length > 1 ? 'them' : 'it'} (registry.register(name, fn)) before loading`,
    );
  }
  const programFile = `${where}/${manifest.program}`;
  const program = checkProgram(parseJson(await read(source, manifest.program), programFile), manifest, programFile);
  const kernels = await loadKernels(source, manifest, device);
  const params = await loadParams(source, manifest.params, device, options.verify ?? true);
  return new KilnModule(manifest, device, new VirtualMachine(program, { device, kernels, registry: reg, params }));
}

async function read(source: ArtifactSource, file: string): Promise<string> {
  try {
    return await source.readText(file);
  } catch (e) {
    throw cannotRead(source, file, e);
  }
}

async function readBytes(source: ArtifactSource, file: string): Promise<Uint8Array> {
  try {
    return await source.readBytes(file);
  } catch (e) {
    throw cannotRead(source, file, e);
  }
}

function cannotRead(source: ArtifactSource, file: string, e: unknown): LoadError {
  if (e instanceof LoadError) return e; // the source's own verdict (a path outside the artifact)
  return new LoadError(`${source.location}: cannot read ${file}: ${(e as Error).message}`, LOAD_CODES.missingFile);
}

function parseJson<T = unknown>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LoadError(`${what} is not valid JSON: ${(e as Error).message}`, LOAD_CODES.malformed);
  }
}

async function loadKernels(source: ArtifactSource, manifest: Manifest, device: Device): Promise<Map<string, Kernel>> {
  const k = manifest.kernels;
  if (k.format === 'wgsl') return loadWgslKernels(source, manifest, device);
  if (k.format !== 'js') {
    throw new LoadError(`${source.location}: kernels in format '${k.format}' cannot run on this runtime's ${device.name} device`);
  }
  if (device.kind !== 'cpu') {
    throw new LoadError(
      `${source.location}: this artifact was built for target '${manifest.target.name}' (JavaScript kernels, device cpu); it cannot run on ${device.name}`,
    );
  }
  const out = new Map<string, Kernel>();
  if (k.names.length === 0) return out;
  let mod: Record<string, unknown>;
  try {
    mod = await source.importModule(k.file);
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError(`${source.location}: cannot load the kernels (${k.file}): ${(e as Error).message}`);
  }
  const table = mod.kernels as Record<string, unknown> | undefined;
  for (const name of k.names) {
    const fn = table?.[name];
    if (typeof fn !== 'function')
      throw new LoadError(`${source.location}: ${k.file} lacks kernel '${name}'`, LOAD_CODES.malformed);
    out.set(name, fn as Kernel);
  }
  return out;
}

/** WGSL kernels (kernels.wgsl.json) compiled on a webgpu device; a compile error fails the load. */
async function loadWgslKernels(source: ArtifactSource, manifest: Manifest, device: Device): Promise<Map<string, Kernel>> {
  const where = source.location;
  const k = manifest.kernels;
  if (!isWebGpuDevice(device)) {
    throw new LoadError(
      `${where}: this artifact was built for target '${manifest.target.name}' (WGSL kernels); it cannot run on ${device.name}: load it with { device: 'webgpu' }`,
    );
  }
  const file = parseJson<WgslKernelFile>(await read(source, k.file), `${where}/${k.file}`);
  const what = `${where}/${k.file}`;
  try {
    checkKernelFile(file, what);
  } catch (e) {
    throw new LoadError((e as Error).message, LOAD_CODES.malformed);
  }
  const have = new Set(file.kernels.map((x) => x.name));
  const missing = k.names.filter((n) => !have.has(n));
  if (missing.length > 0)
    throw new LoadError(
      `${where}: ${k.file} lacks kernel${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`,
      LOAD_CODES.malformed,
    );
  try {
    return await device.prepareKernels(file, what);
  } catch (e) {
    throw new LoadError((e as Error).message);
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
