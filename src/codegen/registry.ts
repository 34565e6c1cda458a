/**
 * Code generators by target kind: what turns an artifact's kernels into its
 * kernel files. Adding a target is adding a target file, a generator here and
 * a kernel loader in the runtime (src/runtime/kernel-loaders.ts) — nothing
 * else switches on the kind. Generators load on use, so commands that do not
 * generate code (a cached build) do not pay for them.
 */
import type { IRModule } from '../ir/module.ts';
import type { TargetDescription, TargetKind } from '../ir/target.ts';
import type { PrimFunc } from '../ir/tir/stmt.ts';
import type { Manifest } from '../runtime/manifest.ts';
import type { StreamedBytes } from '../support/streamed-bytes.ts';

export interface ArtifactFile {
  readonly path: string;
  /** The whole content (for a streamed file, assembled when asked for). */
  readonly bytes: Uint8Array;
  /** The content as pieces, for writers that need not hold it whole (parameter shards). */
  readonly stream?: StreamedBytes;
}

export interface NamedKernel {
  readonly name: string;
  readonly func: PrimFunc;
}

export interface EmittedKernels {
  readonly files: readonly ArtifactFile[];
  /** The manifest's `kernels` entry: the format the runtime loads them with, and their file. */
  readonly kernels: Manifest['kernels'];
  /** Things the user should know (kernels that will run slowly as built). */
  readonly warnings: readonly string[];
}

export interface CodeGenerator {
  /** Adapts the legalized module to what the target can hold (WebGPU: weights cut to its binding size). */
  prepare?(module: IRModule, target: TargetDescription): IRModule;
  /** Kernels sorted by name; every one the VM program calls. */
  emit(kernels: readonly NamedKernel[], target: TargetDescription): EmittedKernels | Promise<EmittedKernels>;
}

const GENERATORS: Record<TargetKind, () => Promise<CodeGenerator>> = {
  js: async () => (await import('./js/generator.ts')).jsGenerator,
  wasm: async () => (await import('./wasm/generator.ts')).wasmGenerator,
  webgpu: async () => (await import('./wgsl/generator.ts')).wgslGenerator,
};

export async function codeGenerator(kind: TargetKind): Promise<CodeGenerator> {
  return GENERATORS[kind]();
}
