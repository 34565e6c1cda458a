/// <reference types="@webgpu/types" />
/**
 * The webgpu device: tensors live in GPU storage buffers (their elements
 * converted per kernel-spec.ts's GpuStorage rule) and kernels are WGSL
 * compute pipelines. Works wherever a `GPU` object exists: navigator.gpu in
 * a browser, the `webgpu` package's create() in Node.
 */
import type { DType } from '../dtype.ts';
import { cpu, type Device, NDArray, sizeOf } from '../ndarray.ts';
import type { Kernel } from '../vm.ts';
import { BufferUsage, MAP_MODE_READ, WEBGPU_LIMITS, type WebGpuLimit, type WebGpuLimits } from './constants.ts';
import { DeviceHealth } from './health.ts';
import { type CompiledKernel, compileKernel, type KernelHost } from './kernel.ts';
import type { WgslKernelFile } from './kernel-spec.ts';
import { PipelineCache } from './pipelines.ts';
import { StagingPool } from './staging.ts';
import { checkKernelFile } from './validate.ts';
import { bufferBytes, fromGpuBytes, gpuStorageOf, toGpuElements, type WebGpuArena, type WebGpuStorage } from './storage.ts';

export interface WebGpuDeviceOptions {
  readonly powerPreference?: GPUPowerPreference;
  /**
   * The adapter's feature level: 'core' (full WebGPU) or 'compatibility' (a device on
   * OpenGL ES / older drivers, with lower limits; Chromium offers Mesa's lavapipe only so).
   * Left out: a core adapter, else a compatibility one when the browser has no core adapter.
   */
  readonly featureLevel?: 'core' | 'compatibility';
  /**
   * A device the application already has: Kiln uses it (and its limits) instead of
   * requesting an adapter; the other options but `requiredFeatures` / `requiredLimits` are ignored.
   */
  readonly device?: GPUDevice;
  /** Use shader-f16 when the adapter has it (default true); false keeps float16 tensors in f32. */
  readonly f16?: boolean;
  /** Features the device must have (creation fails naming the first the adapter lacks). */
  readonly requiredFeatures?: readonly string[];
  /** Minimums the device must offer, e.g. a target's limits (creation fails naming the first the adapter lacks). */
  readonly requiredLimits?: Readonly<Partial<Record<WebGpuLimit, number>>>;
}

/** Requests an adapter and a device with the adapter's limits (and shader-f16 when it has it). */
export async function createWebGpuDevice(gpu: GPU, options: WebGpuDeviceOptions = {}): Promise<WebGpuDevice> {
  if (options.device) return fromApplicationDevice(gpu, options.device, options);
  const request = (featureLevel?: string): Promise<GPUAdapter | null> =>
    gpu.requestAdapter({
      ...(options.powerPreference ? { powerPreference: options.powerPreference } : {}),
      ...(featureLevel ? { featureLevel } : {}),
    });
  const chosen =
    options.featureLevel !== undefined
      ? { adapter: await request(options.featureLevel), compat: options.featureLevel === 'compatibility' }
      : await chooseAdapter(request);
  const adapter = chosen.adapter;
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter: the system offers no GPU that WebGPU can use (check the drivers, or run on the cpu device)',
    );
  }
  const report = adapterReport(adapter, chosen.compat);
  const adapterName = describeAdapter(report);
  const features = [...(options.requiredFeatures ?? [])];
  for (const f of features) {
    if (!adapter.features.has(f)) throw new Error(`the WebGPU adapter (${adapterName}) lacks the required feature '${f}'`);
  }
  if (options.f16 !== false && adapter.features.has('shader-f16') && !features.includes('shader-f16'))
    features.push('shader-f16');
  const requiredLimits: Record<string, number> = {};
  for (const name of WEBGPU_LIMITS) {
    const have = adapter.limits[name];
    const need = options.requiredLimits?.[name];
    if (need !== undefined && !(have >= need)) {
      throw new Error(`the WebGPU adapter (${adapterName}) has ${name} = ${have}, ${need} is required`);
    }
    if (typeof have === 'number') requiredLimits[name] = have;
  }
  const device = await adapter.requestDevice({ requiredFeatures: features as GPUFeatureName[], requiredLimits });
  return new WebGpuDevice(gpu, adapter, device, adapterName, options.requiredLimits ?? {}, report);
}

/** Kiln on a device the application made (and shares with its own rendering or compute). */
function fromApplicationDevice(gpu: GPU, device: GPUDevice, options: WebGpuDeviceOptions): WebGpuDevice {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const report: AdapterReport = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    fallback: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
    featureLevel: device.features.has('core-features-and-limits') || !info ? 'core' : 'compatibility',
  };
  for (const f of options.requiredFeatures ?? []) {
    if (!device.features.has(f)) throw new Error(`the application's WebGPU device lacks the required feature '${f}'`);
  }
  return new WebGpuDevice(
    gpu,
    undefined,
    device,
    `${describeAdapter(report)}, the application's device`,
    options.requiredLimits ?? {},
    report,
  );
}

export class WebGpuDevice implements Device, KernelHost {
  readonly kind = 'webgpu';
  readonly name: string;
  readonly features: ReadonlySet<string>;
  /** Whether float16 tensors are stored as f16 (the device has shader-f16). */
  readonly hasF16: boolean;
  readonly limits: WebGpuLimits;
  /** @internal Lost-device and deferred-error tracking, shared with the kernels. */
  readonly health: DeviceHealth;
  /** @internal The shader modules and pipelines made so far. */
  readonly pipelines: PipelineCache;
  private readonly staging: StagingPool;

  constructor(
    /**
     * The GPU the adapter came from. Kept referenced on purpose: in Node, the instance
     * the `webgpu` package's create() returns is destroyed when collected, even under a live device.
     */
    readonly gpu: GPU,
    /** Undefined for a device the application made. */
    readonly adapter: GPUAdapter | undefined,
    readonly gpuDevice: GPUDevice,
    adapterName: string,
    required: Readonly<Partial<Record<WebGpuLimit, number>>>,
    /** The adapter that was chosen, for load-time reports. */
    readonly adapterReport?: AdapterReport,
  ) {
    this.name = `webgpu (${adapterName})`;
    this.features = new Set(gpuDevice.features);
    this.hasF16 = this.features.has('shader-f16');
    const limits = {} as Record<WebGpuLimit, number>;
    for (const n of WEBGPU_LIMITS) {
      limits[n] = gpuDevice.limits[n];
      const need = required[n];
      if (need !== undefined && !(limits[n] >= need)) {
        throw new Error(`${this.name}: the device was given ${n} = ${limits[n]}, ${need} is required`);
      }
    }
    this.limits = Object.freeze(limits);
    this.health = new DeviceHealth(gpuDevice);
    this.pipelines = new PipelineCache(gpuDevice);
    this.staging = new StagingPool(gpuDevice);
  }

  /** A zero-filled tensor. */
  empty(shape: readonly number[], dtype: DType): NDArray {
    const storage = gpuStorageOf(dtype, this.hasF16);
    const buffer = this.createBuffer(bufferBytes(sizeOf(shape), storage), false, `a ${dtype}[${shape.join(', ')}] tensor`);
    return new NDArray(shape, dtype, this, { buffer, storage } satisfies WebGpuStorage);
  }

  /** A memory plan's arena: its storage tokens' buffers are made by `view` (see WebGpuArena). */
  arena(bytes: number): NDArray {
    return new NDArray([bytes], 'uint8', this, { bytes, tokens: new Map() } satisfies WebGpuArena);
  }

  /**
   * A tensor of a memory plan at `byteOffset` of `arena`: the buffer of the token there, made (or
   * made larger) for it. Tensors of one token are never live at once, so they share its buffer.
   */
  view(arena: NDArray, byteOffset: number, shape: readonly number[], dtype: DType): NDArray {
    const a = arena.storage as Partial<WebGpuArena>;
    if (arena.device !== this || !a.tokens)
      throw new Error(`${this.name}: a tensor can only be placed in an arena this device made`);
    const storage = gpuStorageOf(dtype, this.hasF16);
    const bytes = bufferBytes(sizeOf(shape), storage);
    let buffer = a.tokens.get(byteOffset);
    if (!buffer || buffer.size < bytes) {
      buffer = this.createBuffer(bytes, false, `a ${dtype}[${shape.join(', ')}] tensor`);
      a.tokens.set(byteOffset, buffer);
    }
    return new NDArray(shape, dtype, this, { buffer, storage } satisfies WebGpuStorage);
  }

  upload(t: NDArray): NDArray | Promise<NDArray> {
    if (t.device === this) return t;
    if (t.device.kind !== 'cpu') return t.toCpu().then((c) => this.upload(c));
    const storage = gpuStorageOf(t.dtype, this.hasF16);
    const elements = toGpuElements(t.dtype, t.data, storage, t.shape);
    const buffer = this.createBuffer(bufferBytes(t.size, storage), true, `a ${t.dtype}[${t.shape.join(', ')}] tensor`);
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(elements.buffer, elements.byteOffset, elements.byteLength));
    buffer.unmap();
    return new NDArray(t.shape, t.dtype, this, { buffer, storage } satisfies WebGpuStorage);
  }

  async download(t: NDArray): Promise<NDArray> {
    if (t.device.kind === 'cpu') return t;
    if (t.device !== this) throw new Error(`${this.name} cannot read a tensor of ${t.device.name}`);
    this.health.check();
    const { buffer, storage } = t.storage as WebGpuStorage;
    const gpu = this.gpuDevice;
    // Only the tensor's bytes: a tensor of a memory plan may lie in a larger buffer (its token's).
    const size = bufferBytes(t.size, storage);
    const staging = this.staging.take(size);
    let reusable = false;
    try {
      const encoder = gpu.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
      gpu.queue.submit([encoder.finish()]);
      try {
        await staging.mapAsync(MAP_MODE_READ, 0, size);
      } catch (e) {
        this.health.check();
        throw e;
      }
      // Kernels submitted before this copy have finished, so their verdicts are in.
      await this.health.settle();
      // One copy, straight from the mapped range into the tensor's array.
      const data = fromGpuBytes(staging.getMappedRange(0, size), t.dtype, storage, t.size);
      staging.unmap();
      reusable = true;
      return new NDArray(t.shape, t.dtype, cpu, data);
    } finally {
      if (reusable) this.staging.give(staging);
      else staging.destroy();
    }
  }

  /** How this device stores `dtype`. */
  storageOf(dtype: DType): WebGpuStorage['storage'] {
    return gpuStorageOf(dtype, this.hasF16);
  }

  /**
   * The kernels of a kernels file, by name. Pipelines are made now (each once per device);
   * a kernel's first call waits for the compiler's verdict, so a WGSL error rejects it.
   * `where` (the artifact's location) prefixes the messages.
   */
  compileKernels(file: WgslKernelFile, where: string): Map<string, Kernel> {
    return new Map([...this.compile(file, where)].map(([name, k]) => [name, k.run]));
  }

  /**
   * compileKernels, then waits until every kernel compiled (in parallel), so a WGSL error
   * surfaces here; `onProgress` hears of each kernel that is ready.
   */
  async prepareKernels(
    file: WgslKernelFile,
    where: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<Map<string, Kernel>> {
    const compiled = this.compile(file, where);
    let done = 0;
    const total = compiled.size;
    const errors = await Promise.all(
      [...compiled.values()].map((k) =>
        k.ready.then((e) => {
          onProgress?.(++done, total);
          return e;
        }),
      ),
    );
    const error = errors.find((e) => e !== undefined);
    if (error) throw error;
    return new Map([...compiled].map(([name, k]) => [name, k.run]));
  }

  /** Waits until the submitted work is done, and reports a lost device or a failed command. */
  async sync(): Promise<void> {
    this.health.check();
    await this.gpuDevice.queue.onSubmittedWorkDone();
    await this.health.settle();
  }

  /** The number of shader modules and compute pipelines made so far (each is made once). */
  get stats(): { readonly shaderModules: number; readonly pipelines: number } {
    return { shaderModules: this.pipelines.moduleCount, pipelines: this.pipelines.pipelineCount };
  }

  /** Why the device was lost, or undefined while it works. */
  get lost(): string | undefined {
    return this.health.lost;
  }

  /** Releases the GPU device; later calls fail saying it was lost. */
  destroy(): void {
    this.gpuDevice.destroy();
  }

  toString(): string {
    return this.name;
  }

  private compile(file: WgslKernelFile, where: string): Map<string, CompiledKernel> {
    this.health.check();
    checkKernelFile(file, where);
    const out = new Map<string, CompiledKernel>();
    for (const k of file.kernels) {
      if (out.has(k.name)) throw new Error(`${where}: kernel ${k.name} is defined twice`);
      out.set(k.name, compileKernel(this, k, where));
    }
    return out;
  }

  private createBuffer(size: number, mapped: boolean, what: string): GPUBuffer {
    this.health.check();
    if (size > this.limits.maxBufferSize) {
      throw new RangeError(`${this.name}: ${what} takes ${size} bytes, more than maxBufferSize (${this.limits.maxBufferSize})`);
    }
    // createBuffer zero-fills (the WebGPU spec guarantees it), as empty() promises.
    return this.gpuDevice.createBuffer({
      size,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      mappedAtCreation: mapped,
    });
  }
}

/** Whether `d` is a webgpu device (by shape, so that two copies of the runtime agree). */
export function isWebGpuDevice(d: Device): d is WebGpuDevice {
  return d.kind === 'webgpu' && typeof (d as Partial<WebGpuDevice>).prepareKernels === 'function';
}

/**
 * The default choice: a core adapter that is a real device; else a compatibility-mode one
 * (Chromium offers Mesa's lavapipe only so, behind `--use-webgpu-adapter=opengles`, and a
 * software fallback, SwiftShader, as core: its pipelines take minutes to create); else
 * whatever there is.
 */
async function chooseAdapter(
  request: (featureLevel?: string) => Promise<GPUAdapter | null>,
): Promise<{ adapter: GPUAdapter | null; compat: boolean }> {
  const core = await request();
  if (core && !isFallback(core)) return { adapter: core, compat: false };
  const compat = await request('compatibility').catch(() => null);
  if (compat && !isFallback(compat) && isCompatibility(compat)) return { adapter: compat, compat: true };
  return core ? { adapter: core, compat: false } : { adapter: compat, compat: true };
}

function isFallback(adapter: GPUAdapter): boolean {
  const a = adapter as { info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean };
  return Boolean(a.info?.isFallbackAdapter ?? a.isFallbackAdapter);
}

/** A compatibility-mode adapter lacks 'core-features-and-limits' (where the browser knows that feature at all). */
function isCompatibility(adapter: GPUAdapter): boolean {
  const level = (adapter as { featureLevel?: string }).featureLevel;
  if (level !== undefined) return level === 'compatibility';
  return !adapter.features.has('core-features-and-limits');
}

/** What was chosen, as the load-time report shows it. */
export interface AdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly fallback: boolean;
  readonly featureLevel: 'core' | 'compatibility';
}

export function adapterReport(adapter: GPUAdapter, requestedCompat: boolean): AdapterReport {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    fallback: isFallback(adapter),
    featureLevel: requestedCompat && isCompatibility(adapter) ? 'compatibility' : 'core',
  };
}

function describeAdapter(r: AdapterReport): string {
  const name = r.description || [r.vendor, r.architecture, r.device].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name}${r.featureLevel === 'compatibility' ? ', compatibility mode' : ''}${r.fallback ? ', software fallback' : ''}`;
}
