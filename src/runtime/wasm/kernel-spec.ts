/**
 * The WebAssembly kernel format: what the wasm code generator writes
 * (kernels.wasm, one module for every kernel of the artifact, and
 * kernels.wasm.json describing them) and what the runtime's wasm loader
 * reads. The module imports its memory: tensors live in it, and a kernel
 * takes their addresses. A kernel is a sequence of launches, each an
 * exported function; a launch with a `parallel` range takes two more
 * arguments, the start and end of the part of the range it runs, so the
 * runtime can split it over worker threads.
 *
 * Arguments of a launch, in order: the address of each buffer parameter,
 * then of each workspace buffer (allocated by the runtime per call), then the
 * value of each of the kernel's vars (f32/f64 for float scalars, i32
 * otherwise), then the start and end of a parallel range.
 *
 * Shape expressions here are over the kernel's own `vars` (slot i is vars[i]).
 */
import type { ShapeExpr } from '../program.ts';

export const WASM_FORMAT = 'kiln-wasm';
export const WASM_FORMAT_VERSION = 1;

/** Host functions the module may import (module `math`), with their number of f64 arguments. */
export const MATH_IMPORTS = {
  exp: 1,
  exp2: 1,
  expm1: 1,
  log: 1,
  log2: 1,
  log10: 1,
  log1p: 1,
  sin: 1,
  cos: 1,
  tan: 1,
  asin: 1,
  acos: 1,
  atan: 1,
  sinh: 1,
  cosh: 1,
  tanh: 1,
  asinh: 1,
  acosh: 1,
  atanh: 1,
  erf: 1,
  pow: 2,
  atan2: 2,
  fmod: 2,
} as const;

export type MathImport = keyof typeof MATH_IMPORTS;

export interface WasmVar {
  readonly name: string;
  readonly type: 'i32' | 'f32' | 'f64';
  /** Read from dimension `dim` of buffer parameter `param`, or (no dim) the value of scalar parameter `param`. */
  readonly from: { readonly param: number; readonly dim?: number };
}

export type WasmParam =
  | { readonly kind: 'buffer'; readonly name: string; readonly dtype: string; readonly shape: readonly ShapeExpr[] }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: string };

export interface WasmWorkspace {
  readonly name: string;
  /** Bytes. */
  readonly bytes: ShapeExpr;
}

export interface WasmLaunch {
  /** The exported function. */
  readonly export: string;
  /**
   * The iterations of its outermost loop, which runs split over threads when the launch is parallel,
   * and about how many scalar iterations each of them runs (whether splitting is worth it).
   */
  readonly parallel?: { readonly extent: ShapeExpr; readonly work: number };
}

export interface WasmKernel {
  readonly name: string;
  readonly vars: readonly WasmVar[];
  readonly params: readonly WasmParam[];
  readonly workspace: readonly WasmWorkspace[];
  readonly launches: readonly WasmLaunch[];
}

/** kernels.wasm.json */
export interface WasmKernelFile {
  readonly format: typeof WASM_FORMAT;
  readonly version: number;
  /** The module's file (kernels.wasm). */
  readonly module: string;
  /** Bytes of stack each thread needs for the kernels' local buffers. */
  readonly stackBytes: number;
  /** Threads to run on unless the caller says (the target file's `limits.threads`). */
  readonly threads?: number;
  readonly kernels: readonly WasmKernel[];
}
