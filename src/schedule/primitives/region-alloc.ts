/**
 * Placing a workgroup (shared) or thread (local) buffer where it lives once
 * compute_at has put its producer and consumers under one loop: the
 * allocation moves from the top of the kernel into that loop (a shared one
 * above the threadIdx loops, so the threads of a workgroup share it) and
 * shrinks to the region touched per iteration, as TVM's lowering does with
 * PlanAndUpdateBufferAllocationLocation and CompactBufferAllocation. WGSL
 * needs both: workgroup and function arrays have a constant size.
 *
 * A dimension shrinks to the tile when the tile's start is a multiple of its
 * size (index `i` becomes `i mod size`, written with iterators only, as
 * blocks must) or does not depend on loops (`i - start`); otherwise it stays
 * whole. The move is sound because every value read in an iteration of the
 * loop is written in that iteration: compute_at guarantees it for what it
 * moved, and an accumulator (a block reading what it writes) is only allowed
 * when its reduction runs inside the loop.
 */
import { type Analyzer } from '../../ir/arith/analyzer.ts';
import { eq, floormod, gt, intImm, type PrimExpr, type PrimVar, primVars, sub } from '../../ir/prim/expr.ts';
import { type Buffer } from '../../ir/tir/buffer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import { allocate, type For, type PrimFunc, type Range, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import { getLoop, pathTo, replaceStmt } from '../tree.ts';
import { blockAccesses, findAllocate, looseBuffers } from './deps-blocks.ts';
import { removeAllocation, rewriteAccesses } from './deps-tree.ts';
import { analyzerAt } from './nest-utils.ts';
import { relaxedBlockRegions, uniteRanges } from './region-relax.ts';

/**
 * `f` with the allocation of `b` moved into `anchor` and compacted, when `b`
 * is a shared or local buffer allocated by the function, all of whose
 * accesses are blocks under `anchor`; otherwise `f` unchanged.
 */
export function placeAllocation(f: PrimFunc, b: Buffer, anchorVar: PrimVar): PrimFunc {
  if (b.scope === 'global' || !findAllocate(f.body, b) || looseBuffers(f.body).has(b)) return f;
  const ctx = { kernel: '', primitive: 'internal' };
  const anchor = getLoop(f, anchorVar, ctx);
  const anchorPath = [...(pathTo(f.body, anchor) ?? []), anchor];
  const users = blockAccesses(f.body).filter((x) => x.reads.has(b) || x.writes.has(b));
  const paths = users.map((u) => pathTo(f.body, u.realize) ?? []);
  if (users.length === 0 || paths.some((p) => !p.includes(anchor))) return f;
  // An accumulator must finish within one iteration of the anchor, or its partial values would be lost
  // (the inferred reads of a reduction leave its accumulator out, so look at the iterators).
  for (const [k, u] of users.entries()) {
    if (!u.writes.has(b)) continue;
    const r = u.realize;
    const reduces = r.block.iterVars.some((iv) => iv.iterKind === 'reduce');
    if (!reduces && u.reads.has(b)) return f;
    const outer = new Set(
      paths[k]!.slice(0, paths[k]!.indexOf(anchor) + 1).flatMap((s) => (s.kind === 'for' ? [s.loopVar] : [])),
    );
    const carried = r.block.iterVars.some(
      (iv, i) => iv.iterKind === 'reduce' && [...primVars(r.iterValues[i]!)].some((v) => outer.has(v)),
    );
    if (carried) return f;
  }
  // A workgroup buffer is shared by the threads: it goes above the outermost threadIdx loop.
  const threadLoop =
    b.scope === 'shared'
      ? anchorPath.find(
          (s): s is For => s.kind === 'for' && s.forKind === 'thread_binding' && !!s.thread?.startsWith('threadIdx'),
        )
      : undefined;
  const relaxedAbove = new Set<PrimVar>();
  if (threadLoop) {
    for (const s of anchorPath.slice(anchorPath.indexOf(threadLoop))) {
      if (s.kind === 'for' && s.forKind === 'thread_binding' && s.thread?.startsWith('threadIdx')) relaxedAbove.add(s.loopVar);
    }
  }
  const a = analyzerAt(f, anchor);
  a.bind(anchor.loopVar, { min: anchor.min, extent: anchor.extent });
  const perDim: Range[][] = b.shape.map(() => []);
  users.forEach((u, k) => {
    const doms = new Map<PrimVar, Range>();
    for (const s of [...anchorPath, ...paths[k]!.slice(paths[k]!.indexOf(anchor) + 1)]) {
      if (s.kind !== 'for') continue;
      const below = !anchorPath.includes(s);
      if (below || relaxedAbove.has(s.loopVar)) doms.set(s.loopVar, { min: s.min, extent: s.extent });
    }
    const { reads, writes } = inferBlockRegions(u.realize.block);
    const own = [...reads, ...writes].filter((r) => r.buffer === b);
    for (const r of relaxedBlockRegions(u.realize, own, doms, a)) r.region.forEach((rg, d) => perDim[d]!.push(rg));
  });
  const loopVars = allLoopVars(f.body);
  const plan = perDim.map((ranges, d) => compactDim(uniteRanges(ranges, a), b.shape[d]!, loopVars, a));
  const compact: Buffer = { ...b, shape: plan.map((p, d) => p?.extent ?? b.shape[d]!) };
  let body = rewriteAccesses(f.body, b, (indices) => ({
    buffer: compact,
    indices: indices.map((ix, d) => plan[d]?.index(ix) ?? ix),
  }));
  body = removeAllocation(body, b);
  // Loops are found again by variable: the rewrite rebuilt the statements above every access.
  const at = threadLoop ? findLoop(body, threadLoop.loopVar) : findLoop(body, anchorVar);
  body = replaceStmt(body, at, threadLoop ? allocate(compact, at) : { ...at, body: allocate(compact, at.body) });
  return { ...f, body };
}

interface DimPlan {
  readonly extent: PrimExpr;
  readonly index: (i: PrimExpr) => PrimExpr;
}

/** How dimension `d` shrinks to the tile `r`, or undefined when it stays whole. */
function compactDim(r: Range, whole: PrimExpr, loopVars: ReadonlySet<PrimVar>, a: Analyzer): DimPlan | undefined {
  const extent = a.simplify(r.extent);
  const loopFree = (e: PrimExpr): boolean => ![...primVars(e)].some((v) => loopVars.has(v));
  if (!loopFree(extent) || !a.canProve(gt(extent, 0)) || a.canProve(eq(extent, whole))) return undefined;
  // One element per iteration: every access is to element 0.
  if (a.canProve(eq(extent, 1))) return { extent, index: () => intImm(0, extent.dtype) };
  if (loopFree(r.min)) {
    const start = r.min;
    const zero = start.kind === 'int' && start.value === 0;
    return { extent, index: (i) => (zero ? i : a.simplify(sub(i, start))) };
  }
  // A tile aligned to its size: the offset inside it is the index modulo the size.
  if (a.canProve(eq(floormod(r.min, extent), intImm(0, extent.dtype)))) return { extent, index: (i) => floormod(i, extent) };
  return undefined;
}

function allLoopVars(body: Stmt): Set<PrimVar> {
  const out = new Set<PrimVar>();
  visitStmts(body, (s) => {
    if (s.kind === 'for') out.add(s.loopVar);
  });
  return out;
}

function findLoop(body: Stmt, v: PrimVar): For {
  let found: For | undefined;
  visitStmts(body, (s) => {
    if (s.kind === 'for' && s.loopVar === v) found = s;
  });
  if (!found) throw new Error(`internal: loop '${v.name}' vanished`);
  return found;
}
