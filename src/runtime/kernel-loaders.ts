/**
 * Kernel loaders by format: what turns an artifact's kernel file into the
 * functions the VM calls. The manifest names the format (`js`, `wgsl`, ...);
 * adding a target is adding a code generator in the compiler and a loader
 * here. A loader may bring the device its kernels run on (WebAssembly kernels
 * need their tensors in the module's memory).
 */
import type { ArtifactSource } from './artifact-source.ts';
import type { Manifest } from './manifest.ts';
import type { Device } from './ndarray.ts';
import type { Kernel } from './vm.ts';

export interface KernelLoadRequest {
  readonly source: ArtifactSource;
  readonly manifest: Manifest;
  /** The device the caller asked for. */
  readonly device: Device;
  /** Worker threads the kernels may use, where the format has threads. */
  readonly threads?: number;
  /** Hears how many kernels are ready, of how many, where loading them takes time (GPU pipelines). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LoadedKernels {
  readonly kernels: ReadonlyMap<string, Kernel>;
  /** The device the kernels run on and tensors must live on, when it is not the requested one. */
  readonly device?: Device;
}

export interface KernelLoader {
  load(request: KernelLoadRequest): Promise<LoadedKernels>;
}

const LOADERS = new Map<string, KernelLoader>();

/** Registers the loader of a kernel format; registering a format twice needs `override`. */
export function registerKernelLoader(format: string, loader: KernelLoader, options: { override?: boolean } = {}): void {
  if (LOADERS.has(format) && !options.override) {
    throw new Error(`a kernel loader for format '${format}' is already registered (pass { override: true } to replace it)`);
  }
  LOADERS.set(format, loader);
}

export function kernelLoader(format: string): KernelLoader | undefined {
  return LOADERS.get(format);
}

export function kernelFormats(): string[] {
  return [...LOADERS.keys()].sort();
}
