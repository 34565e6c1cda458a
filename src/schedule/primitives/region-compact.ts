/**
 * Shrinking a buffer dimension to the tile a loop iteration touches. Blocks
 * reach loops only through their iterators, so a tile starting at a
 * loop-dependent position (`bx*16`) cannot be subtracted inside a block; when
 * the start is a multiple of the tile size, the offset in the tile is the
 * index modulo the size (`floormod(v0, 16)`), which blocks can write. A start
 * free of loops is subtracted. Otherwise a placed tile wraps: indices in any
 * run of `size` consecutive values differ modulo the size, so
 * `floormod(v0, size)` places the tile even when its start is not a multiple
 * of the size (a convolution's input patch with its halo, `bx*16 - 1` over
 * 18 rows); a cache stage keeps the dimension whole.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import { eq, floormod, ge, gt, intImm, type PrimExpr, type PrimVar, primVars, sub } from '../../ir/prim/expr.ts';
import { type Range, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';

export interface DimPlan {
  readonly extent: PrimExpr;
  readonly index: (i: PrimExpr) => PrimExpr;
}

/**
 * How a dimension shrinks to the tile `r`, or undefined when it stays whole.
 * A `stage` (a cache block's new buffer) only shifts by a loop-free start, so
 * each index stays an iterator plus an offset and compute_at can still move
 * the stage; a `tile` (an allocation placed for good) may also wrap by the
 * tile size or collapse to element 0.
 */
export function compactDim(
  r: Range,
  whole: PrimExpr,
  loopVars: ReadonlySet<PrimVar>,
  a: Analyzer,
  mode: 'stage' | 'tile',
): DimPlan | undefined {
  const extent = a.simplify(r.extent);
  const loopFree = (e: PrimExpr): boolean => ![...primVars(e)].some((v) => loopVars.has(v));
  // A tile as large as the dimension (a halo wider than a small image) gains nothing: keep the dimension whole.
  if (!loopFree(extent) || !a.canProve(gt(extent, 0)) || a.canProve(ge(extent, whole))) return undefined;
  if (mode === 'tile' && a.canProve(eq(extent, 1))) return { extent, index: () => intImm(0, extent.dtype) };
  if (loopFree(r.min)) {
    const start = r.min;
    const zero = start.kind === 'int' && start.value === 0;
    return { extent, index: (i) => (zero ? i : a.simplify(sub(i, start))) };
  }
  // Indices in any run of `extent` consecutive values are distinct modulo `extent`: the index modulo the
  // size places the tile, wherever it starts (at a multiple of the size, it is the offset from the start).
  if (mode === 'tile') return { extent, index: (i) => a.simplify(floormod(i, extent)) };
  return undefined;
}

/** Every loop variable of the statement: what a compacted index must not mention (blocks see loops only through iterators). */
export function allLoopVars(body: Stmt): Set<PrimVar> {
  const out = new Set<PrimVar>();
  visitStmts(body, (s) => {
    if (s.kind === 'for') out.add(s.loopVar);
  });
  return out;
}
