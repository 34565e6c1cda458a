/**
 * The memory plan of a graph function (plan-memory): two tensors placed in
 * the same arena (alloc_tensor over one alloc_storage) must not overlap while
 * both are live. A tensor is live from the call that writes it to the last
 * binding that uses its value; a kernel may write over an input at the
 * binding where that input dies only when it is elementwise (in place).
 */
import { Analyzer } from '../arith/analyzer.ts';
import { byteSize } from '../dtype.ts';
import type { BindingBlock, Expr, GraphFunc, GraphVar } from '../graph/expr.ts';
import { visitStructInfoExprs } from '../graph/struct-info.ts';
import type { IRModule } from '../module.ts';
import { add, intImm, le, mul, or, type PrimExpr, type PrimVar, primVars } from '../prim/expr.ts';
import type { Report } from './tir.ts';

export interface Placed {
  readonly view: GraphVar;
  readonly arena: GraphVar;
  readonly offset: PrimExpr;
  readonly bytes: PrimExpr;
  /** The variable of the call that writes it, the binding of that call and of the last use. */
  value?: GraphVar;
  def: number;
  last: number;
}

function usesOf(e: Expr, f: (v: GraphVar) => void): void {
  switch (e.kind) {
    case 'graph_var':
      f(e);
      return;
    case 'tuple':
      e.fields.forEach((x) => usesOf(x, f));
      return;
    case 'tuple_get':
      usesOf(e.tuple, f);
      return;
    case 'call':
    case 'call_global':
    case 'call_dps_packed':
      e.args.forEach((x) => usesOf(x, f));
      return;
    case 'call_tir':
      e.args.forEach((x) => usesOf(x, f));
      if (e.dst) f(e.dst);
      return;
    case 'if':
      usesOf(e.cond, f);
      for (const s of [e.then, e.else]) {
        for (const b of s.blocks) for (const x of b.bindings) usesOf(x.value, f);
        usesOf(s.body, f);
      }
      return;
    default:
      return;
  }
}

export function verifyMemoryPlan(m: IRModule, name: string, f: GraphFunc, report: Report): void {
  const analyzer = new Analyzer();
  const vars = new Set<PrimVar>();
  for (const p of f.params) visitStructInfoExprs(p.sinfo, (e) => primVars(e, vars));
  analyzer.bindNonNegative(...vars);
  // Uses after the block count as uses at its end.
  const outside = usedOutsideBlocks(f);
  for (const blk of f.body.blocks) checkBlock(m, name, blk, outside, analyzer, report);
}

/** The tensors a block places in arenas, with their live ranges (binding indices; `bindings.length`: past the block). */
export function placedTensors(blk: BindingBlock, outside: ReadonlySet<GraphVar>): Placed[] {
  const placed = new Map<GraphVar, Placed>();
  const byValue = new Map<GraphVar, Placed>();
  const n = blk.bindings.length;
  blk.bindings.forEach((b, i) => {
    const v = b.value;
    if (v.kind === 'call' && v.op === 'alloc_tensor') {
      const [arena, offset, shape] = v.args;
      const s = b.var.sinfo;
      if (arena?.kind !== 'graph_var' || offset?.kind !== 'prim_value' || shape?.kind !== 'shape' || s.kind !== 'tensor') return;
      const elems = shape.values.reduce<PrimExpr>((a, d) => mul(a, d), intImm(1));
      const bytes = mul(elems, intImm(byteSize(s.dtype)));
      placed.set(b.var, { view: b.var, arena, offset: offset.value, bytes, def: i, last: i });
      return;
    }
    if (v.kind === 'call_tir' && v.dst) {
      const p = placed.get(v.dst);
      if (p) {
        p.value = b.var;
        p.def = i;
        p.last = i;
        byValue.set(b.var, p);
      }
    }
    usesOf(v, (x) => {
      const p = byValue.get(x) ?? (v.kind === 'call_tir' && v.dst === x ? undefined : placed.get(x));
      if (p) p.last = Math.max(p.last, i);
    });
  });
  for (const p of placed.values()) {
    if (outside.has(p.view) || (p.value && outside.has(p.value))) p.last = n;
  }
  return [...placed.values()];
}

/** Variables used outside each block of `f` (in other blocks or the result). */
export function usedOutsideBlocks(f: GraphFunc): Set<GraphVar> {
  const outside = new Set<GraphVar>();
  f.body.blocks.forEach((blk, bi) => {
    for (const other of f.body.blocks.filter((_, j) => j !== bi))
      for (const b of other.bindings) usesOf(b.value, (v) => outside.add(v));
  });
  usesOf(f.body.body, (v) => outside.add(v));
  return outside;
}

function checkBlock(
  m: IRModule,
  fname: string,
  blk: BindingBlock,
  outside: ReadonlySet<GraphVar>,
  analyzer: Analyzer,
  report: Report,
): void {
  const list = placedTensors(blk, outside);
  for (let a = 0; a < list.length; a++) {
    for (let c = a + 1; c < list.length; c++) {
      const [x, y] = [list[a]!, list[c]!].sort((p, q) => p.def - q.def) as [Placed, Placed];
      if (x.arena !== y.arena || x.last < y.def) continue;
      if (x.last === y.def && inPlaceAllowed(m, blk, y)) continue;
      const disjoint = or(le(add(x.offset, x.bytes), y.offset), le(add(y.offset, y.bytes), x.offset));
      if (analyzer.canProve(disjoint)) continue;
      report(
        { text: `function '${fname}', binding '${(y.value ?? y.view).name}'`, node: y.view },
        `planned tensors '${(x.value ?? x.view).name}' and '${(y.value ?? y.view).name}' overlap in storage '${x.arena.name}' while both are live`,
      );
    }
  }
}

/** A call writing `y` over an input that dies there is fine when its kernel is elementwise. */
function inPlaceAllowed(m: IRModule, blk: BindingBlock, y: Placed): boolean {
  const b = blk.bindings[y.def];
  if (!b || b.value.kind !== 'call_tir') return false;
  const k = m.functions.get(b.value.func);
  return k?.kind === 'prim_func' && k.attrs.op_pattern === 'elemwise';
}
