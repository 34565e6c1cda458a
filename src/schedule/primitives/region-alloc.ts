/**
 * Placing a workgroup (shared) or thread (local) buffer where it lives once
 * compute_at has put its producer and consumers under one loop: the
 * allocation moves from the top of the kernel into that loop (a shared one
 * above the threadIdx loops, so the threads of a workgroup share it) and
 * shrinks to the region touched per iteration, as TVM's lowering does with
 * PlanAndUpdateBufferAllocationLocation and CompactBufferAllocation. WGSL
 * needs both: workgroup and function arrays have a constant size.
 *
 * How a dimension shrinks is region-compact.ts's. The move is sound because
 * every value read in an iteration of the loop is written in that iteration:
 * compute_at guarantees it for what it moved, and an accumulator (a block
 * reading what it writes) is only allowed when its reduction runs inside the
 * loop.
 */
import { type PrimVar, primVars } from '../../ir/prim/expr.ts';
import { type Buffer } from '../../ir/tir/buffer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import { allocate, type For, type PrimFunc, type Range, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import { pathTo, replaceStmt } from '../tree.ts';
import { blockAccesses, findAllocate, looseBuffers } from './deps-blocks.ts';
import { removeAllocation, rewriteAccesses } from './deps-tree.ts';
import { analyzerAt } from './nest-utils.ts';
import { allLoopVars, compactDim } from './region-compact.ts';
import { relaxedBlockRegions, uniteRanges } from './region-relax.ts';

/**
 * `f` with the allocation of `b` moved into `anchor` and compacted, when `b`
 * is a shared or local buffer allocated by the function, all of whose
 * accesses are blocks under `anchor`; otherwise `f` unchanged.
 */
export function placeAllocation(f: PrimFunc, b: Buffer, anchorVar: PrimVar): PrimFunc {
  if (b.scope === 'global' || !findAllocate(f.body, b) || looseBuffers(f.body).has(b)) return f;
  const anchor = findLoop(f.body, anchorVar);
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
  const plan = perDim.map((ranges, d) => compactDim(uniteRanges(ranges, a), b.shape[d]!, loopVars, a, 'tile'));
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

function findLoop(body: Stmt, v: PrimVar): For {
  let found: For | undefined;
  visitStmts(body, (s) => {
    if (s.kind === 'for' && s.loopVar === v) found = s;
  });
  if (!found) throw new Error(`internal: loop '${v.name}' vanished`);
  return found;
}
