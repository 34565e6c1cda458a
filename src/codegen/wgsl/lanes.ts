/**
 * Vectorized loops in WGSL. A `for v in vectorized(n)` of constant extent
 * whose body is straight-line code is written out once per lane (v a
 * constant in each copy, as an unrolled loop), and each load from a bound
 * storage buffer that moves one element per lane, from an offset known to be
 * a multiple of 4, is read as whole `vec4`s before the lanes, each lane
 * taking its component. A GPU compiler turns four scalar loads into four
 * memory accesses; a `vec4` is one (on lavapipe, about half the time of four).
 *
 * The vector view is a second binding of the same buffer as
 * `array<vec4<T>>`, so only buffers the entry point never writes get one
 * (WebGPU refuses a writable binding aliased by another). The runtime sizes
 * every tensor's buffer in whole 16 bytes, so the last elements are always
 * inside the view. A load under a condition is read anyway: out-of-bounds
 * reads of storage buffers are defined in WebGPU (some value of the buffer),
 * and the lane that would use it does not.
 */
import { affineIn } from '../../ir/arith/affine.ts';
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { CanonicalOverflow, contentOf } from '../../ir/arith/canonical.ts';
import {
  add,
  type BufferLoad,
  intImm,
  type PrimExpr,
  type PrimVar,
  primVars,
  substitute,
  visitPrim,
} from '../../ir/prim/expr.ts';
import { primExprEqual } from '../../ir/structural.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type For, hasBarrier, visitStmts } from '../../ir/tir/stmt.ts';

/** Elements per vector load. */
export const VECTOR_WIDTH = 4;
/** Longer vectorized loops stay loops (their copies would only grow the shader). */
export const MAX_LANES = 16;

/** One vector load's elements: `buffer[base + lane]` for every lane, base a multiple of 4. */
export interface VectorRead {
  readonly buffer: Buffer;
  /** The element offset of lane 0 (the loop's min included). */
  readonly base: PrimExpr;
  /** The loads of the body it serves. */
  readonly loads: BufferLoad[];
}

/** The lanes of `s` when it can be written out lane by lane; undefined when it stays a loop. */
export function laneCount(s: For): number | undefined {
  if (s.forKind !== 'vectorized' || s.min.kind !== 'int' || s.extent.kind !== 'int') return undefined;
  const n = s.extent.value;
  if (n < 1 || n > MAX_LANES) return undefined;
  let straight = true;
  visitStmts(s.body, (x) => {
    if (x.kind === 'for' || x.kind === 'allocate' || x.kind === 'block_realize') straight = false;
  });
  // A barrier per lane would be n barriers where the schedule asked for one.
  return straight && !hasBarrier(s.body) ? n : undefined;
}

/**
 * The loads of `s`'s body that can be read as vectors: from a buffer `vectorizable` accepts, one
 * element apart per lane, at an offset free of the body's own variables and a multiple of 4
 * (`lets` gives the values of the variables defined around the loop, to see through them).
 * Loads of one buffer at one offset share a read.
 */
export function vectorReads(
  s: For,
  lanes: number,
  vectorizable: (b: Buffer) => boolean,
  lets: ReadonlyMap<PrimVar, PrimExpr>,
): VectorRead[] {
  if (lanes % VECTOR_WIDTH !== 0) return [];
  const inner = new Set<PrimVar>([s.loopVar]);
  visitStmts(s.body, (x) => {
    if (x.kind === 'let') inner.add(x.var);
  });
  const reads: VectorRead[] = [];
  const consider = (e: PrimExpr): void =>
    visitPrim(e, (x) => {
      if (x.kind !== 'load' || x.indices.length !== 1 || !vectorizable(x.buffer)) return;
      const a = affineIn(x.indices[0]!, s.loopVar);
      if (!a || a.coef !== 1 || [...primVars(a.rest)].some((v) => inner.has(v))) return;
      const min = (s.min as { value: number }).value;
      const base = min === 0 ? a.rest : add(a.rest, intImm(min, a.rest.dtype));
      if (knownMultiple(base, lets) % VECTOR_WIDTH !== 0) return;
      const read = reads.find((r) => r.buffer === x.buffer && primExprEqual(r.base, base));
      if (read) read.loads.push(x);
      else reads.push({ buffer: x.buffer, base, loads: [x] });
    });
  visitStmts(s.body, (x) => {
    switch (x.kind) {
      case 'store':
        consider(x.value);
        x.indices.forEach(consider);
        return;
      case 'let':
        consider(x.value);
        return;
      case 'if':
        consider(x.cond);
        return;
      case 'evaluate':
        consider(x.value);
        return;
      case 'seq':
      case 'for':
      case 'allocate':
      case 'block_realize':
        return; // no expressions of their own in a lane's straight-line body (laneCount)
    }
  });
  return reads;
}

/**
 * The largest k `e` is known to be a multiple of (0 when e is 0): the gcd of its canonical form's
 * coefficients and constant, with the values of `lets` substituted for their variables.
 */
export function knownMultiple(e: PrimExpr, lets: ReadonlyMap<PrimVar, PrimExpr>): number {
  try {
    return contentOf(new Analyzer().canonical(throughLets(e, lets)));
  } catch (err) {
    if (err instanceof CanonicalOverflow) return 1;
    throw err;
  }
}

function throughLets(e: PrimExpr, lets: ReadonlyMap<PrimVar, PrimExpr>): PrimExpr {
  const defined = [...primVars(e)].filter((v) => lets.has(v));
  if (defined.length === 0) return e;
  return substitute(e, new Map(defined.map((v) => [v, throughLets(lets.get(v)!, lets)])));
}
