/**
 * Loop-invariant index arithmetic moves out of serial loops: in lowered TIR a
 * kernel's accesses recompute their whole flat offset every iteration (the
 * part from a parallel loop's fused index — its divisions and remainders —
 * included), and neither binaryen nor the engines reliably hoist it. Each
 * distinct invariant subexpression of a loop body (no loads or calls, so
 * hoisting never reads memory early) is bound once by a `let` just outside the
 * loop. Divisions move too, by a symbolic divisor included (the tile count of
 * a symbolic extent): integer division is total in Kiln's kernels (by zero it
 * gives 0), so computing one before the guard that skipped it cannot trap.
 * Parallel loops keep their bodies: a launch's parallel loop must stay the
 * outermost statement of its nest.
 */
import { type PrimExpr, type PrimVar, mapPrimChildren, primVar, visitPrim } from '../../ir/prim/expr.ts';
import { NameTable } from '../../ir/text/names.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import { type For, letStmt, mapStmtChildren, type PrimFunc, primFunc, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';

export function hoistInvariants(f: PrimFunc): PrimFunc {
  const body = hoistIn(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

function hoistIn(s: Stmt): Stmt {
  const inner = mapStmtChildren(s, { stmt: hoistIn, expr: (e) => e });
  return inner.kind === 'for' && inner.forKind === 'serial' ? hoistLoop(inner) : inner;
}

function hoistLoop(loop: For): Stmt {
  const defined = definedIn(loop);
  const hoisted = new Map<string, { v: PrimVar; e: PrimExpr }>();
  // One name table for the whole loop: distinct variables that share a name (a loop variable
  // `b` and a shape variable `b`) print differently, so they never share a key.
  const names = new NameTable();
  const rewrite = (e: PrimExpr): PrimExpr => {
    if (e.kind === 'var' || e.kind === 'int' || e.kind === 'float' || e.kind === 'bool') return e;
    if (invariant(e, defined)) {
      const key = printPrimExpr(e, names);
      let h = hoisted.get(key);
      if (!h) {
        h = { v: primVar(`inv${hoisted.size}`, e.dtype), e };
        hoisted.set(key, h);
      }
      return h.v;
    }
    return mapPrimChildren(e, rewrite);
  };
  const mapper = { stmt: (s: Stmt): Stmt => mapStmtChildren(s, mapper), expr: rewrite };
  const body = mapper.stmt(loop.body);
  if (hoisted.size === 0) return loop;
  let out: Stmt = { ...loop, body };
  for (const { v, e } of [...hoisted.values()].reverse()) out = letStmt(v, e, out);
  return out;
}

/** Variables bound inside the loop (its own, inner loops', lets'): what an invariant may not use. */
function definedIn(loop: For): Set<PrimVar> {
  const out = new Set<PrimVar>([loop.loopVar]);
  visitStmts(loop.body, (s) => {
    if (s.kind === 'for') out.add(s.loopVar);
    else if (s.kind === 'let') out.add(s.var);
  });
  return out;
}

function invariant(e: PrimExpr, defined: ReadonlySet<PrimVar>): boolean {
  let ok = true;
  visitPrim(e, (x) => {
    if (!ok) return;
    if (x.kind === 'var') ok = !defined.has(x);
    else if (x.kind === 'load' || x.kind === 'call') ok = false;
  });
  return ok;
}
