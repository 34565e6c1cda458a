/**
 * The WGSL kernel format: what the WGSL code generator writes (kernels.wgsl.json)
 * and what the webgpu device runs. A kernel is one WGSL module with one entry point
 * per launch (each top-level thread-bound loop nest of the scheduled PrimFunc) and
 * the metadata the runtime needs to call it like a JavaScript kernel: its
 * parameters in PrimFunc order, where each symbolic variable is read from, the
 * scratch buffers it needs and, per launch, its bindings and grid.
 *
 * Shape expressions here are over the kernel's own `vars` (slot i is vars[i]).
 */
import type { ShapeExpr } from '../program.ts';

export const WGSL_FORMAT = 'kiln-wgsl';
export const WGSL_FORMAT_VERSION = 1;

/**
 * How a tensor's elements are stored in a GPU buffer. WGSL has no 8/16-bit
 * integers and no 64-bit types: bool and small ints widen to 32 bits, int64 and
 * uint64 narrow to 32 bits (the runtime checks every value fits when it uploads),
 * bfloat16 widens to f32, and float16 is f16 only when the target has shader-f16.
 */
export type GpuStorage = 'f32' | 'f16' | 'i32' | 'u32';

/** A symbolic variable (or scalar parameter): one field of the uniform struct, in order. */
export interface WgslVar {
  readonly name: string;
  readonly type: 'i32' | 'u32' | 'f32';
  /** Read from dimension `dim` of buffer parameter `param`, or (no dim) the value of scalar parameter `param`. */
  readonly from: { readonly param: number; readonly dim?: number };
}

export type WgslParam =
  | {
      readonly kind: 'buffer';
      readonly name: string;
      /** The tensor's dtype (a runtime DType). */
      readonly dtype: string;
      readonly storage: GpuStorage;
      /** Expected shape; the runtime checks every dimension before it dispatches. */
      readonly shape: readonly ShapeExpr[];
      /** Whether any launch writes it. */
      readonly written: boolean;
    }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: string };

/** A global-scope scratch buffer the kernel allocates (TE scratch, cache-write in global scope). */
export interface WgslWorkspace {
  readonly name: string;
  readonly dtype: string;
  readonly storage: GpuStorage;
  /** Number of elements. */
  readonly size: ShapeExpr;
}

export type WgslResource = { readonly param: number } | { readonly workspace: number } | 'uniforms';

export interface WgslDispatch {
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroups per dimension: the extents of the blockIdx.x/y/z loops (1 when unbound). */
  readonly grid: readonly [ShapeExpr, ShapeExpr, ShapeExpr];
  /**
   * When true (grid y and z are 1), the runtime may spread a grid x larger than
   * maxComputeWorkgroupsPerDimension over x and y: the shader computes blockIdx.x as
   * workgroup_id.x + workgroup_id.y * num_workgroups.x and returns when it is past grid x.
   */
  readonly foldX: boolean;
  /**
   * Group 0's bindings for this entry point (only what it uses). `readOnly`: a storage buffer the
   * entry point only reads, declared `var<storage, read>` and bound as read-only storage.
   */
  readonly bindings: readonly { readonly binding: number; readonly resource: WgslResource; readonly readOnly?: boolean }[];
}

export interface WgslKernel {
  readonly name: string;
  readonly source: string;
  readonly vars: readonly WgslVar[];
  readonly params: readonly WgslParam[];
  readonly workspace: readonly WgslWorkspace[];
  /** Run in order; each sees the writes of the ones before. */
  readonly dispatches: readonly WgslDispatch[];
  /** The features the shader needs (`shader-f16`). */
  readonly features: readonly string[];
}

/** The kernels file (kernels.wgsl.json). */
export interface WgslKernelFile {
  readonly format: typeof WGSL_FORMAT;
  readonly version: number;
  readonly kernels: readonly WgslKernel[];
}
