/**
 * The lowering every code generator shares: blocks to plain statements,
 * unrolled loops written out, buffers flattened to element offsets, then
 * every expression simplified under the loop ranges and adjacent guards with
 * the same condition merged. An emitter translates
 * what comes out node by node; target-specific steps (thread bindings for
 * WGSL) follow on the result.
 */
import type { PrimFunc } from '../../ir/tir/stmt.ts';
import { simplifyPrimFunc } from '../simplify-tir.ts';
import { flattenBuffers } from './flatten-buffers.ts';
import { lowerBlocks } from './lower-blocks.ts';
import { mergeGuards } from './merge-guards.ts';
import { DEFAULT_MAX_UNROLL, unrollLoops } from './unroll-loops.ts';

export interface LowerOptions {
  /** Copies of a loop body that nested unrolled loops may make (default 64). */
  readonly maxUnroll?: number;
}

export function lowerPrimFunc(f: PrimFunc, options: LowerOptions = {}): PrimFunc {
  const flat = flattenBuffers(unrollLoops(lowerBlocks(f), options.maxUnroll ?? DEFAULT_MAX_UNROLL));
  return mergeGuards(simplifyPrimFunc(flat, { keepDataExprs: true }));
}

export { flattenBuffers, stridesOf } from './flatten-buffers.ts';
export { lowerBlocks } from './lower-blocks.ts';
export { lowerThreadBindings } from './lower-thread-bindings.ts';
export { DEFAULT_MAX_UNROLL, unrollLoops } from './unroll-loops.ts';
