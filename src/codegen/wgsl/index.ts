/** The WGSL code generator: PrimFuncs as WGSL kernels for the webgpu device. */
export { emitWgslKernel } from './kernel.ts';
export { emitWgslKernelFile } from './module.ts';
