/** get_loops: the loops above a block, outermost first. */
import type { PrimVar } from '../../ir/prim/expr.ts';
import type { PrimFunc } from '../../ir/tir/stmt.ts';
import type { PrimitiveContext } from '../errors.ts';
import { getBlockRealize, loopsAbove } from '../tree.ts';

export function getLoops(f: PrimFunc, block: string, ctx: PrimitiveContext): PrimVar[] {
  const realize = getBlockRealize(f, block, ctx);
  return loopsAbove(f.body, realize).map((l) => l.loopVar);
}
