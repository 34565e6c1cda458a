/**
 * Loop unswitching of guards that hold for a whole tile: a register tile that
 * does not divide its extent guards every step of its reduction loop with the
 * tail predicate (`j_1 + base < 14`, j_1 a vectorized lane), and the code
 * generator tests it lane-wise on every step, for the full tiles too. Where a
 * serial loop's body holds `if`s whose condition does not change inside the
 * loop except by a vectorized lane — a conjunction of comparisons affine in
 * the lane, so that it holds for every lane when it holds for the first and
 * the last — the loop becomes
 *
 *   if (every such guard holds for every lane) { the loop without them } else { the loop as it was }
 *
 * (TVM's LoopPartition does this for the tails of split loops.) The full
 * tiles run unguarded; the tail tile and a convolution's tiles at the padding
 * keep the guards. The copy gets fresh variables (each defined once).
 * Conditions that read memory or call stay where they are; a guard that is a
 * conjunction (merged guards: `row < m && col + lane < n`) is taken conjunct
 * by conjunct. Only tails, and only loops whose lanes load contiguous
 * elements: measured on wasm, a convolution's padding guards and a stride-2
 * input ran slower unswitched.
 *
 * The WGSL generator runs it too (a GPU's vectorized loops are lanes written
 * out, see codegen/wgsl/lanes.ts): on lavapipe a 1000³ matmul, whose edge
 * tiles guard every multiply-add, ran 1262 ms with its rows of B read as
 * vec4s and guarded, 162 ms unswitched (189 before vec4 reads, guarded).
 * A loop with a GPU barrier inside stays as it is: a branch on the thread
 * around a barrier is invalid WGSL.
 */
import { affineIn } from '../../ir/arith/affine.ts';
import { simplify } from '../../ir/arith/analyzer.ts';
import { and, conjuncts, intImm, type PrimExpr, type PrimVar, substitute, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import { primExprEqual } from '../../ir/structural.ts';
import { copyWithFreshDefs } from '../../ir/tir/subst.ts';
import {
  type For,
  hasBarrier,
  type IfThenElse,
  ifThenElse,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  type Stmt,
  visitStmts,
} from '../../ir/tir/stmt.ts';

export function unswitchGuards(f: PrimFunc): PrimFunc {
  const body = visit(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

function visit(s: Stmt): Stmt {
  if (s.kind === 'for' && s.forKind === 'serial') {
    const u = unswitch(s);
    // The copies are not unswitched again: one level keeps the code size at twice the loop.
    if (u) return u;
  }
  return mapStmtChildren(s, { stmt: visit, expr: (e) => e });
}

function unswitch(loop: For): Stmt | undefined {
  const defined = new Set<PrimVar>();
  // A GPU barrier must stay in control flow every thread of the workgroup takes alike.
  if (hasBarrier(loop)) return undefined;
  visitStmts(loop, (x) => {
    if (x.kind === 'for') defined.add(x.loopVar);
    if (x.kind === 'let') defined.add(x.var);
  });
  const guards = new Set<IfThenElse>();
  const conds: PrimExpr[] = [];
  const walk = (s: Stmt, lane: For | undefined): void => {
    if (s.kind === 'for') return walk(s.body, s.forKind === 'vectorized' ? s : lane);
    if (s.kind === 'if') {
      const whole = s.else ? undefined : forEveryLane(s.cond, lane, defined);
      if (whole) {
        guards.add(s);
        if (!conds.some((c) => primExprEqual(c, whole))) conds.push(whole);
      }
      walk(s.then, lane);
      if (s.else) walk(s.else, lane);
      return;
    }
    if (s.kind === 'seq') return s.stmts.forEach((x) => walk(x, lane));
    if (s.kind === 'let' || s.kind === 'allocate') return walk(s.body, lane);
    if (s.kind === 'block_realize') return; // lowered TIR has none; leave any alone
  };
  walk(loop.body, undefined);
  if (guards.size === 0 || !contiguousLanes(loop)) return undefined;
  const strip = (s: Stmt): Stmt =>
    s.kind === 'if' && guards.has(s) ? strip(s.then) : mapStmtChildren(s, { stmt: strip, expr: (e) => e });
  const fast = copyWithFreshDefs(strip(loop));
  return ifThenElse(simplify(conds.reduce((a, b) => and(a, b))), fast, loop);
}

/**
 * Whether every load from memory in the loop that moves with a vectorized lane moves one element per lane: a
 * stride-2 convolution's input (two vectors and a shuffle per row) measured 10-20% slower unswitched.
 */
function contiguousLanes(loop: For): boolean {
  let ok = true;
  const walk = (s: Stmt, lane: PrimVar | undefined): void => {
    if (s.kind === 'for') return walk(s.body, s.forKind === 'vectorized' ? s.loopVar : lane);
    const exprs: PrimExpr[] =
      s.kind === 'store' ? [s.value, ...s.indices] : s.kind === 'if' ? [s.cond] : s.kind === 'let' ? [s.value] : [];
    for (const e of exprs) {
      visitPrim(e, (x) => {
        // A register tile's own accesses (local) read no memory, whatever their stride.
        if (x.kind !== 'load' || !lane || x.buffer.scope === 'local') return;
        for (const i of x.indices) {
          const a = affineIn(i, lane);
          if (!a || (a.coef !== 0 && a.coef !== 1)) ok = false;
        }
      });
    }
    if (s.kind === 'if') {
      walk(s.then, lane);
      if (s.else) walk(s.else, lane);
    } else if (s.kind === 'seq') s.stmts.forEach((x) => walk(x, lane));
    else if (s.kind === 'let' || s.kind === 'allocate') walk(s.body, lane);
  };
  walk(loop, undefined);
  return ok;
}

/**
 * `cond` for every lane of the vectorized loop `lane` as an expression of what is defined outside the
 * loop being unswitched, or undefined when it depends on anything else or is not monotone in the lane.
 */
function forEveryLane(cond: PrimExpr, lane: For | undefined, defined: ReadonlySet<PrimVar>): PrimExpr | undefined {
  let ok = true;
  visitPrim(cond, (x) => {
    if (x.kind === 'load' || x.kind === 'call') ok = false;
    if (x.kind === 'var' && defined.has(x) && x !== lane?.loopVar) ok = false;
  });
  if (!ok) return undefined;
  if (!lane || !usesVar(cond, lane.loopVar)) return cond;
  if (lane.extent.kind !== 'int') return undefined;
  // Guards merged into one (`row < m && col + lane < n`): each conjunct for every lane.
  const parts = conjuncts(cond);
  if (parts.length > 1) {
    const each: PrimExpr[] = [];
    for (const c of parts) {
      const whole = forEveryLane(c, lane, defined);
      if (!whole) return undefined;
      each.push(whole);
    }
    return each.reduce((a, b) => and(a, b));
  }
  const v = lane.loopVar;
  const ends = (c: PrimExpr): PrimExpr | undefined => {
    if (c.kind !== 'binary') return undefined;
    // Only a tile's tail (an upper bound on the lane): measured, a convolution's padding guards (bounds on
    // both sides) ran 10-20% slower unswitched, the doubled loop compiling to worse code than the lane test.
    if (c.op !== 'lt' && c.op !== 'le') return undefined;
    // An affine comparison in v holds on [lo, hi] when it holds at both ends; the lane must grow its left
    // side (an upper bound on the lane, `j + base < n`), as a lower bound is padding.
    const [a, b] = [affineIn(c.a, v), affineIn(c.b, v)];
    if (!a || !b || a.coef - b.coef <= 0) return undefined;
    const at = (x: PrimExpr): PrimExpr => substitute(c, new Map([[v, x]]));
    const last =
      lane.min.kind === 'int' ? intImm(lane.min.value + (lane.extent as { value: number }).value - 1, lane.min.dtype) : undefined;
    return last ? and(at(lane.min), at(last)) : undefined;
  };
  return ends(cond);
}
