/**
 * Kiln's runtime: tensors, devices, the function registry, the VM and the
 * artifact loader, on the cpu or a webgpu device. It imports nothing from the compiler and nothing
 * Node-only; `kiln/runtime/node` adds loading from a directory and
 * `kiln/runtime/browser` loading from a URL.
 */
export { type DType, DTYPES, isDType, bytesPerElement } from './dtype.ts';
export { cpu, type Device, NDArray, tensor, sizeOf } from './ndarray.ts';
export { Shape, type Value } from './values.ts';
export { type BackendFunction, type BackendRuntime, getBackendRuntime, registerBackendRuntime } from './backends.ts';
export { FunctionRegistry, type PackedFunc, registry } from './registry.ts';
export { CallError, type Kernel, type KernelTimer, VirtualMachine } from './vm.ts';
export { CALL_CODES, type CallCode, LOAD_CODES, type LoadCode } from './errors.ts';
export { type ArtifactSource, type KernelTime, KilnModule, loadArtifact, LoadError, type LoadOptions } from './artifact.ts';
export { ARTIFACT_FORMAT, ARTIFACT_VERSION, type Manifest, type ParamEntry } from './manifest.ts';
export type { Instr, Pattern, ShapeExpr, VMFunction, VMProgram } from './program.ts';
export { readNpy, writeNpy } from './npy.ts';
export {
  type AdapterReport,
  createWebGpuDevice,
  isWebGpuDevice,
  WebGpuDevice,
  type WebGpuDeviceOptions,
} from './webgpu/device.ts';
export { gpuStorageOf, type WebGpuStorage } from './webgpu/storage.ts';
export { WEBGPU_LIMITS, type WebGpuLimit, type WebGpuLimits } from './webgpu/constants.ts';
export * from './webgpu/kernel-spec.ts';
