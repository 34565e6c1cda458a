/**
 * What default rules look at: a kernel's top-level loop nests ("launches"),
 * and for a nest that is a perfect nest of serial loops around one block, which
 * loops drive spatial iterators and which drive reduce iterators.
 */
import { type PrimExpr, type PrimVar, usesVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { BlockRV, LoopRV, Schedule } from '../schedule.ts';
import { type BlockRealize, type For, type PrimFunc, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';

export interface Nest {
  readonly block: BlockRealize;
  /** The loops around the block, outermost first; each the only statement in its parent's body. */
  readonly loops: readonly For[];
  /** Per loop: what it drives. */
  readonly roles: readonly LoopRole[];
}

/** spatial / reduce: drives only iterators of that kind; none: drives no iterator (extent-1 loops). */
export type LoopRole = 'spatial' | 'reduce' | 'mixed' | 'none';

/** The body's statements after the top-level allocations: one launch each. */
export function topLevelStmts(f: PrimFunc): Stmt[] {
  let s = f.body;
  while (s.kind === 'allocate') s = s.body;
  return s.kind === 'seq' ? [...s.stmts] : [s];
}

export function hasThreadBinding(s: Stmt): boolean {
  let found = false;
  visitStmts(s, (x) => {
    if (x.kind === 'for' && x.forKind === 'thread_binding') found = true;
  });
  return found;
}

/** A perfect serial nest around exactly one block, or undefined. */
export function perfectNest(root: Stmt): Nest | undefined {
  const loops: For[] = [];
  let s = root;
  while (s.kind === 'for') {
    if (s.forKind !== 'serial') return undefined;
    loops.push(s);
    s = s.body;
  }
  if (s.kind !== 'block_realize') return undefined;
  const block = s;
  const roles = loops.map((l) => roleOf(block, l.loopVar));
  return { block, loops, roles };
}

function roleOf(realize: BlockRealize, v: PrimVar): LoopRole {
  let spatial = false;
  let reduce = false;
  realize.block.iterVars.forEach((iv, i) => {
    if (!usesVar(realize.iterValues[i]!, v)) return;
    if (iv.iterKind === 'spatial') spatial = true;
    else reduce = true;
  });
  return spatial && reduce ? 'mixed' : spatial ? 'spatial' : reduce ? 'reduce' : 'none';
}

/** The nest's loops split into a spatial prefix and the reduce loops after it, or undefined when interleaved. */
export function spatialThenReduce(n: Nest): { spatial: For[]; reduce: For[] } | undefined {
  const spatial: For[] = [];
  const reduce: For[] = [];
  for (let i = 0; i < n.loops.length; i++) {
    const role = n.roles[i]!;
    if (role === 'mixed') return undefined;
    if (role === 'reduce') reduce.push(n.loops[i]!);
    else if (reduce.length > 0) return undefined;
    else spatial.push(n.loops[i]!);
  }
  return { spatial, reduce };
}

/** The product of constant extents, or undefined when one is symbolic. */
export function constExtent(loops: readonly For[]): number | undefined {
  let n = 1;
  for (const l of loops) {
    if (l.extent.kind !== 'int') return undefined;
    n *= l.extent.value;
  }
  return n;
}

/**
 * The two buffers of `Y = Y + A * B` (either order, casts allowed), or
 * undefined for any other body. With `guarded`, the update may sit in an `if`
 * without else (a convolution skipping the taps that fall in its padding).
 */
export function productOperands(s: Stmt, guarded = false): [Buffer, Buffer] | undefined {
  if (guarded && s.kind === 'if' && !s.else) return productOperands(s.then);
  if (s.kind !== 'store') return undefined;
  const v = s.value;
  if (v.kind !== 'binary' || v.op !== 'add') return undefined;
  const isAcc = (e: PrimExpr): boolean => e.kind === 'load' && e.buffer === s.buffer;
  const prod = isAcc(v.a) ? v.b : isAcc(v.b) ? v.a : undefined;
  if (!prod || prod.kind !== 'binary' || prod.op !== 'mul') return undefined;
  const load = (e: PrimExpr): Buffer | undefined => {
    const x = e.kind === 'cast' ? e.value : e;
    return x.kind === 'load' && x.buffer !== s.buffer ? x.buffer : undefined;
  };
  const a = load(prod.a);
  const c = load(prod.b);
  return a && c && a !== c ? [a, c] : undefined;
}

/**
 * Unrolls the loops of `block` inside `loop` (a thread's register tile: its
 * init, its accumulation steps, its copy back), so the code generator can
 * index the thread's local array with constants. `maxCopies`: how many
 * copies of the block lowering may write out (Schedule.unroll), when more
 * than its default.
 */
export function unrollInside(sch: Schedule, block: BlockRV, loop: LoopRV, maxCopies?: number): void {
  for (const l of loopsInside(sch, block, loop)) sch.unroll(l, maxCopies);
}

/**
 * As unrollInside, but the innermost loop vectorized: on WebGPU its lanes are
 * written out as an unrolled loop's copies, and its loads of consecutive
 * elements from an aligned offset become vec4 loads (codegen/wgsl/lanes.ts).
 */
export function vectorizeInside(sch: Schedule, block: BlockRV, loop: LoopRV, maxCopies?: number): void {
  const inside = loopsInside(sch, block, loop);
  for (const l of inside.slice(0, -1)) sch.unroll(l, maxCopies);
  if (inside.length > 0) sch.vectorize(inside[inside.length - 1]!);
}

function loopsInside(sch: Schedule, block: BlockRV, loop: LoopRV): LoopRV[] {
  const loops = sch.getLoops(block);
  const at = loops.findIndex((l) => l.var === loop.var);
  if (at < 0) throw new Error(`internal: loop '${loop.var.name}' is not around block '${block.name}'`);
  return loops.slice(at + 1);
}
