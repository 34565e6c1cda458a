/** The shape of a default schedule rule and the target limits rules read. */
import type { TargetDescription } from '../../ir/target.ts';
import type { Schedule } from '../schedule.ts';
import type { Nest } from './nest.ts';

export interface RuleContext {
  readonly target: TargetDescription;
  /** maxComputeInvocationsPerWorkgroup (and X), from the target. */
  readonly maxThreads: number;
  /** maxComputeWorkgroupSizeX / Y / Z: threads along each threadIdx axis. */
  readonly maxThreadsPerAxis: { readonly x: number; readonly y: number; readonly z: number };
  /** maxComputeWorkgroupStorageSize in bytes. */
  readonly sharedBytes: number;
  /** Whether tiles are staged in workgroup memory (the target's gpu.workgroupMemory is 'fast', the default). */
  readonly stageInWorkgroupMemory: boolean;
  /** A matmul thread's block of outputs, [rows, columns] (the target's gpu.registerTile). */
  readonly registerTile: readonly [number, number];
  /**
   * Indices of the kernel's parameters whose argument is a constant at every call: a rule may change
   * their layout (Schedule.transformLayout), the schedule stage rewrites the constants to match.
   */
  readonly layoutFree?: ReadonlySet<number>;
  /**
   * Whether rules may change a parameter's layout at all (the schedule stage then inserts the transform
   * at every call, at run time where the argument is not a constant).
   */
  readonly relayout?: boolean;
}

export interface ScheduleRule {
  readonly name: string;
  /**
   * Schedules the nest of one block on `sch`. Returns false when the rule does
   * not apply; a primitive refusing (K7201) also means it does not apply, and
   * the driver throws the fork away.
   */
  apply(sch: Schedule, nest: Nest, ctx: RuleContext): boolean;
}

/** WebGPU's guaranteed limits, used when the target file leaves one out. */
const SPEC_DEFAULTS: Record<string, number> = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupStorageSize: 16384,
};

export function ruleContext(target: TargetDescription): RuleContext {
  const limit = (k: string): number => target.limits[k] ?? SPEC_DEFAULTS[k]!;
  const staged = (target.gpu?.workgroupMemory ?? 'fast') === 'fast';
  return {
    target,
    maxThreads: Math.min(limit('maxComputeInvocationsPerWorkgroup'), limit('maxComputeWorkgroupSizeX')),
    maxThreadsPerAxis: {
      x: limit('maxComputeWorkgroupSizeX'),
      y: limit('maxComputeWorkgroupSizeY'),
      z: limit('maxComputeWorkgroupSizeZ'),
    },
    sharedBytes: limit('maxComputeWorkgroupStorageSize'),
    stageInWorkgroupMemory: staged,
    registerTile: target.gpu?.registerTile ?? (staged ? [4, 4] : [8, 8]),
  };
}

/** The largest power of two <= n (n >= 1). */
export function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}

/** The smallest power of two >= n (n >= 1). */
export function ceilPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}
