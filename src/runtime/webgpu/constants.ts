/**
 * WebGPU's flag values and the limits Kiln asks for. The flags are the spec's
 * numbers rather than the GPUBufferUsage/GPUMapMode/GPUShaderStage globals:
 * in Node those globals exist only after `Object.assign(globalThis, globals)`,
 * and the device code should not depend on whoever created the GPU having done that.
 */

export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MAP_MODE_READ = 0x0001;

export const SHADER_STAGE_COMPUTE = 0x4;

/** The limits kernels depend on; the device asks for the adapter's values of each. */
export const WEBGPU_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

export type WebGpuLimit = (typeof WEBGPU_LIMITS)[number];

export type WebGpuLimits = Readonly<Record<WebGpuLimit, number>>;
