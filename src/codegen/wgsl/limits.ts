/**
 * The device limits a WGSL kernel must fit, read from the target description;
 * a limit the target does not name is the WebGPU spec's default, which every
 * adapter guarantees.
 */
import type { TargetDescription } from '../../ir/target.ts';
import { fail, M } from '../../support/messages.ts';

const DEFAULTS = {
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 134217728,
} as const;

export type LimitName = keyof typeof DEFAULTS;

export class Limits {
  constructor(
    private readonly target: TargetDescription,
    private readonly kernel: string,
  ) {}

  get(name: LimitName): number {
    return this.target.limits[name] ?? DEFAULTS[name];
  }

  /** Fails with K8004 when `need` is over the limit; `what` needs `need` `unit`. */
  check(name: LimitName, need: number, what: string, unit: string): void {
    const value = this.get(name);
    if (need > value) fail(M.gpuLimit, { target: this.target.name, kernel: this.kernel, what, need, unit, limit: name, value });
  }
}
