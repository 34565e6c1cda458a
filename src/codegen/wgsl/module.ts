/**
 * The WGSL kernels of an artifact (kernels.wgsl.json): every PrimFunc the
 * program calls, each its own WGSL module, in the format the webgpu device reads.
 */
import type { TargetDescription } from '../../ir/target.ts';
import type { PrimFunc } from '../../ir/tir/stmt.ts';
import { WGSL_FORMAT, WGSL_FORMAT_VERSION, type WgslKernelFile } from '../../runtime/webgpu/kernel-spec.ts';
import { emitWgslKernel } from './kernel.ts';

export function emitWgslKernelFile(
  kernels: readonly { readonly name: string; readonly func: PrimFunc }[],
  target: TargetDescription,
): WgslKernelFile {
  return {
    format: WGSL_FORMAT,
    version: WGSL_FORMAT_VERSION,
    kernels: kernels.map((k) => emitWgslKernel(k.name, k.func, target)),
  };
}
