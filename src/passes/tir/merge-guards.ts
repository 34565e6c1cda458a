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
import { primExprEqual } from '../../ir/structural.ts';
import { ifThenElse, mapStmtChildren, type PrimFunc, primFunc, seq, type Stmt } from '../../ir/tir/stmt.ts';

export function mergeGuards(f: PrimFunc): PrimFunc {
  const body = merge(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

function merge(s: Stmt): Stmt {
  const inner = mapStmtChildren(s, { stmt: merge, expr: (e) => e });
  if (inner.kind !== 'seq') return inner;
  const out: Stmt[] = [];
  const stmts = inner.stmts;
  for (let i = 0; i < stmts.length; i++) {
    const x = stmts[i]!;
    let end = i + 1;
    while (end < stmts.length && sameGuard(x, stmts[end]!)) end++;
    if (end === i + 1 || x.kind !== 'if') {
      out.push(x);
      continue;
    }
    // The merged branches may now hold adjacent guards of their own (a tile's tail, then each row's padding).
    out.push(ifThenElse(x.cond, merge(seq(stmts.slice(i, end).map((g) => (g as typeof x).then)))));
    i = end - 1;
  }
  return out.length === stmts.length ? inner : seq(out);
}

function sameGuard(a: Stmt, b: Stmt): boolean {
  return a.kind === 'if' && b.kind === 'if' && !a.else && !b.else && pure(a.cond) && primExprEqual(a.cond, b.cond);
}

function pure(e: PrimExpr): boolean {
  let ok = true;
  visitPrim(e, (x) => {
    if (x.kind === 'load' || x.kind === 'call') ok = false;
  });
  return ok;
}
