/**
 * The webgpu target's generator: WGSL kernels with their launch metadata
 * (kernels.wgsl.json). Kernels without a GPU schedule still build, to run on
 * one GPU thread, and the build says so.
 */
import type { CodeGenerator } from '../registry.ts';
import { splitLargeWeights } from '../split-weights.ts';
import { isUnscheduled } from '../unscheduled.ts';
import { emitWgslKernelFile } from './module.ts';

export const wgslGenerator: CodeGenerator = {
  // WebGPU binds at most maxStorageBufferBindingSize per buffer: larger weights are cut to fit.
  prepare: splitLargeWeights,
  emit(kernels, target) {
    const file = emitWgslKernelFile(kernels, target);
    const warnings: string[] = [];
    const slow = kernels.filter((k) => isUnscheduled(k.func)).map((k) => k.name);
    if (slow.length > 0) {
      warnings.push(
        `${slow.length} kernel${slow.length === 1 ? ' has' : 's have'} no GPU schedule and will run on a single GPU thread ` +
          `(${slow.slice(0, 5).join(', ')}${slow.length > 5 ? ', ...' : ''}); add a 'schedule: {}' stage before codegen`,
      );
    }
    return {
      files: [{ path: 'kernels.wgsl.json', bytes: new TextEncoder().encode(`${JSON.stringify(file, null, 1)}\n`) }],
      kernels: { format: 'wgsl', file: 'kernels.wgsl.json', names: kernels.map((k) => k.name) },
      warnings,
    };
  },
};
