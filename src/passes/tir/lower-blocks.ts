/**
 * Lowers blocks to plain statements (TVM's ConvertBlocksToOpaque +
 * LowerOpaqueBlock): each block iterator is replaced by the value the
 * realize binds it to, the block's `init` runs under `if` on the first
 * iteration of its reduce iterators, and a predicate becomes an `if`. What
 * is left has loops, stores, lets, ifs and allocations only, which is all an
 * emitter needs to know.
 */
import { and, boolImm, eq, type PrimExpr, type PrimVar, substitute } from '../../ir/prim/expr.ts';
import { substituteStmt } from '../../ir/tir/subst.ts';
import {
  type BlockRealize,
  ifThenElse,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  seq,
  type Stmt,
  type StmtMapper,
} from '../../ir/tir/stmt.ts';

export function lowerBlocks(f: PrimFunc): PrimFunc {
  const body = lowerStmt(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

function lowerStmt(s: Stmt): Stmt {
  const m: StmtMapper = {
    stmt: (x) => (x.kind === 'block_realize' ? lowerRealize(x) : mapStmtChildren(x, m)),
    expr: (e) => e,
  };
  return m.stmt(s);
}

function lowerRealize(r: BlockRealize): Stmt {
  const blk = r.block;
  const values = new Map<PrimVar, PrimExpr>();
  blk.iterVars.forEach((iv, i) => values.set(iv.var, r.iterValues[i]!));
  const inBlock = (s: Stmt): Stmt => lowerStmt(substituteStmt(s, values));
  let body = inBlock(blk.body);
  if (blk.init) {
    const first = blk.iterVars
      .filter((iv) => iv.iterKind === 'reduce')
      .map((iv) => eq(values.get(iv.var)!, substitute(iv.dom.min, values)))
      .reduce<PrimExpr>((a, b) => (a.kind === 'bool' && a.value ? b : and(a, b)), boolImm(true));
    const init = inBlock(blk.init);
    body = seq([first.kind === 'bool' && first.value ? init : ifThenElse(first, init), body]);
  }
  return r.predicate.kind === 'bool' && r.predicate.value ? body : ifThenElse(r.predicate, body);
}
