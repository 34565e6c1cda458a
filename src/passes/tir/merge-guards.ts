/**
 * Adjacent `if`s with the same condition become one: unrolling a register
 * tile writes out one guarded update per row (a convolution's padding check,
 * the predicate of a tile's tail), all with the same guard. One `if` around
 * the rows lets the code generator test it once and share what the rows
 * load (the input vector every output channel multiplies). Only conditions
 * without loads or calls merge: the first branch's stores cannot change
 * them.
 */
import { visitPrim, type PrimExpr } from '../../ir/prim/expr.ts';
import { primStructuralEqual } from '../../ir/structural.ts';
import { ifThenElse, mapStmtChildren, type PrimFunc, primFunc, seq, type Stmt } from '../../ir/tir/stmt.ts';

export function mergeGuards(f: PrimFunc): PrimFunc {
  const body = merge(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

function merge(s: Stmt): Stmt {
  const inner = mapStmtChildren(s, { stmt: merge, expr: (e) => e });
  if (inner.kind !== 'seq') return inner;
  const out: Stmt[] = [];
  for (const x of inner.stmts) {
    const prev = out[out.length - 1];
    if (
      prev?.kind === 'if' &&
      x.kind === 'if' &&
      !prev.else &&
      !x.else &&
      pure(x.cond) &&
      primStructuralEqual(prev.cond, x.cond)
    ) {
      out[out.length - 1] = ifThenElse(prev.cond, seq([prev.then, x.then]));
    } else out.push(x);
  }
  return out.length === inner.stmts.length ? inner : seq(out);
}

function pure(e: PrimExpr): boolean {
  let ok = true;
  visitPrim(e, (x) => {
    if (x.kind === 'load' || x.kind === 'call') ok = false;
  });
  return ok;
}
