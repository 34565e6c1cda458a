/**
 * Adjacent `if`s with the same condition become one: unrolling a register
 * tile writes out one guarded update per row (a convolution's padding check,
 * the predicate of a tile's tail), all with the same guard. One `if` around
 * the rows lets the code generator test it once and share what the rows
 * load (the input vector every output channel multiplies). Only conditions
 * without loads or calls merge: the first branch's stores cannot change
 * them.
 */
import { visitPrim, type PrimExpr, type PrimVar } from '../../ir/prim/expr.ts';
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
    if (prev?.kind === 'if' && x.kind === 'if' && !prev.else && !x.else && pure(x.cond) && sameExpr(prev.cond, x.cond)) {
      out[out.length - 1] = ifThenElse(prev.cond, seq([prev.then, x.then]));
    } else out.push(x);
  }
  return out.length === inner.stmts.length ? inner : seq(out);
}

/**
 * The same expression over the same variables. Structural equality alone
 * matches variables by first occurrence (alpha-equivalence), under which
 * `1 <= r` equals `1 <= c`: the occurrences must also be the very same variables.
 */
function sameExpr(a: PrimExpr, b: PrimExpr): boolean {
  return primStructuralEqual(a, b) && sameList(varsInOrder(a), varsInOrder(b));
}

function varsInOrder(e: PrimExpr): PrimVar[] {
  const out: PrimVar[] = [];
  visitPrim(e, (x) => {
    if (x.kind === 'var') out.push(x);
  });
  return out;
}

function sameList(a: readonly PrimVar[], b: readonly PrimVar[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function pure(e: PrimExpr): boolean {
  let ok = true;
  visitPrim(e, (x) => {
    if (x.kind === 'load' || x.kind === 'call') ok = false;
  });
  return ok;
}
