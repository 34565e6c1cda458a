/**
 * Dead-code elimination: removes the bindings of graph functions whose
 * variable is never used and whose value has no side effects, and the
 * functions no entry reaches.
 *
 * Pure (like Relax): operator calls, call_tir, call_dps_packed, leaves,
 * tuple-get-item, and calls of graph functions that do not, transitively,
 * call an extern function. Calls of extern functions have effects and stay.
 * An `if` is pure when both branches are. An unused match_cast goes, unless
 * it defines a symbolic variable used later.
 *
 * Bindings are SSA and a function has no loops, so one backward walk per
 * sequence, keeping a live set, removes whole dead chains at once.
 *
 * Entries are the graph functions without `private: true`; everything they
 * reach through call_tir and call_global stays, and so does a composite
 * function (src/ir/graph/composite.ts) that a call_dps_packed names by its
 * symbol; the rest goes. A module
 * without graph functions (a kernel library) keeps everything.
 */
import { z } from 'zod';
import {
  type Binding,
  bindingBlock,
  type BindingBlock,
  type Expr,
  type GlobalCall,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  ifExpr,
  mapExprChildren,
  matchCast,
  type MatchCast,
  type SeqExpr,
  seqExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import { compositesBySymbol } from '../ir/graph/composite.ts';
import { type StructInfo, visitStructInfoExprs } from '../ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import { type PrimExpr, type PrimVar, primVars } from '../ir/prim/expr.ts';
import { definePass, type Pass } from './registry.ts';

export const DCE = definePass({
  name: 'dce',
  description:
    'Removes bindings whose value is unused and free of side effects, and the functions that no entry function reaches.',
  version: 1,
  options: z.object({}),
  create: () => ({ name: 'dce', run: (m) => eliminateDeadCode(m) }),
});

export function dce(): Pass {
  return DCE.create();
}

export function eliminateDeadCode(m: IRModule): IRModule {
  const effects = new Effects(m);
  const graphNames = [...m.functions].filter(([, f]) => f.kind === 'func').map(([n]) => n);
  const entries = graphNames.length === 0 ? [...m.functions.keys()] : graphNames.filter((n) => !isPrivate(m.functions.get(n)!));
  const composites = compositesBySymbol(m);
  const kept = new Map<string, ModuleFunction>();
  const queue = [...entries];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const name = queue.pop()!;
    const f = m.functions.get(name);
    if (!f) continue; // a call of a missing function: the verifier's to report
    const g = f.kind === 'func' ? sweepFunc(f, effects) : f;
    kept.set(name, g);
    if (g.kind !== 'func') continue;
    for (const callee of callees(g.body, composites)) {
      if (!seen.has(callee)) {
        seen.add(callee);
        queue.push(callee);
      }
    }
  }
  const unchanged = kept.size === m.functions.size && [...kept].every(([n, f]) => m.functions.get(n) === f);
  if (unchanged) return m;
  return irModule(
    [...m.functions.keys()].filter((n) => kept.has(n)).map((n) => [n, kept.get(n)!] as const),
    m.attrs,
  );
}

function isPrivate(f: ModuleFunction): boolean {
  return f.kind === 'func' && f.attrs.private === true;
}

// --- side effects -------------------------------------------------------------------

/** Which calls have side effects: those of extern (or missing) functions and of graph functions that make one. */
class Effects {
  /** Graph functions that call an extern function, directly or through other graph functions. */
  private readonly impure = new Set<string>();
  private readonly seqMemo = new WeakMap<SeqExpr, boolean>();

  constructor(private readonly m: IRModule) {
    const callers = new Map<string, string[]>();
    const work: string[] = [];
    for (const [name, f] of m.functions) {
      if (f.kind !== 'func') continue;
      visitSeq(f.body, (e) => {
        if (e.kind !== 'call_global') return;
        if (m.functions.get(e.func)?.kind === 'func') {
          const list = callers.get(e.func) ?? [];
          list.push(name);
          callers.set(e.func, list);
        } else if (!this.impure.has(name)) {
          this.impure.add(name);
          work.push(name);
        }
      });
    }
    // Propagate to callers; recursion without an extern call stays pure.
    while (work.length > 0) {
      for (const caller of callers.get(work.pop()!) ?? []) {
        if (!this.impure.has(caller)) {
          this.impure.add(caller);
          work.push(caller);
        }
      }
    }
  }

  private callHasEffects(c: GlobalCall): boolean {
    return this.m.functions.get(c.func)?.kind !== 'func' || this.impure.has(c.func);
  }

  expr(e: Expr): boolean {
    if (e.kind === 'call_global') return this.callHasEffects(e);
    if (e.kind === 'if') return this.seq(e.then) || this.seq(e.else);
    return false;
  }

  private seq(s: SeqExpr): boolean {
    let hit = this.seqMemo.get(s);
    if (hit === undefined) {
      hit = s.blocks.some((b) => b.bindings.some((x) => this.expr(x.value))) || this.expr(s.body);
      this.seqMemo.set(s, hit);
    }
    return hit;
  }
}

/** Calls `f` on every expression of a sequence, branches of ifs included. */
function visitSeq(s: SeqExpr, f: (e: Expr) => void): void {
  const visit = (e: Expr): Expr => {
    f(e);
    return mapExprChildren(e, { expr: visit, seq: (x) => (visitSeq(x, f), x) });
  };
  for (const b of s.blocks) for (const x of b.bindings) visit(x.value);
  visit(s.body);
}

/** The module functions a graph function body refers to. */
function callees(s: SeqExpr, composites: ReadonlyMap<string, { name: string }>): Set<string> {
  const out = new Set<string>();
  visitSeq(s, (e) => {
    if (e.kind === 'call_tir' || e.kind === 'call_global') out.add(e.func);
    const composite = e.kind === 'call_dps_packed' ? composites.get(e.func) : undefined;
    if (composite) out.add(composite.name);
  });
  return out;
}

// --- liveness -----------------------------------------------------------------------

/** Graph and symbolic variables used by what has been kept so far (walking backwards). */
class Live {
  readonly vars = new Set<GraphVar>();
  readonly symbolic = new Set<PrimVar>();

  prim(e: PrimExpr): void {
    primVars(e, this.symbolic);
  }

  sinfo(s: StructInfo): void {
    visitStructInfoExprs(s, (e) => this.prim(e));
  }

  /** The uses of `e` itself; the branches of an if are the sweep's business. */
  expr(e: Expr): void {
    switch (e.kind) {
      case 'graph_var':
        this.vars.add(e);
        return;
      case 'shape':
        e.values.forEach((v) => this.prim(v));
        return;
      case 'prim_value':
        this.prim(e.value);
        return;
      case 'call_tir':
        this.sinfo(e.out);
        e.tirVars?.values.forEach((v) => this.prim(v));
        if (e.dst) this.vars.add(e.dst);
        break;
      case 'call_dps_packed':
        this.sinfo(e.out);
        break;
      case 'if':
        this.expr(e.cond);
        return;
      case 'constant':
      case 'string':
      case 'tuple':
      case 'tuple_get':
      case 'call':
      case 'call_global':
        break;
    }
    mapExprChildren(e, { expr: (x) => (this.expr(x), x), seq: (x) => x });
  }
}

/** The symbolic variables each match_cast defines: those that first appear in it. */
function symbolicDefinitions(f: GraphFunc): Map<MatchCast, PrimVar[]> {
  const defined = new Set<PrimVar>();
  for (const p of f.params) visitStructInfoExprs(p.sinfo, (e) => primVars(e, defined));
  const out = new Map<MatchCast, PrimVar[]>();
  const walk = (s: SeqExpr): void => {
    for (const b of s.blocks) {
      for (const x of b.bindings) {
        if (x.value.kind === 'if') {
          walk(x.value.then);
          walk(x.value.else);
        }
        if (x.kind !== 'match_cast') continue;
        const vars: PrimVar[] = [];
        visitStructInfoExprs(x.var.sinfo, (e) => {
          for (const v of primVars(e)) if (!defined.has(v)) vars.push(v);
        });
        vars.forEach((v) => defined.add(v));
        out.set(x, vars);
      }
    }
  };
  walk(f.body);
  return out;
}

function sweepFunc(f: GraphFunc, effects: Effects): GraphFunc {
  const live = new Live();
  live.sinfo(f.ret);
  const defs = symbolicDefinitions(f);
  const needed = (b: Binding): boolean =>
    live.vars.has(b.var) ||
    effects.expr(b.value) ||
    (b.kind === 'match_cast' && (defs.get(b) ?? []).some((v) => live.symbolic.has(v)));

  /** The value with dead bindings removed from its branches; records its uses. */
  const sweepExpr = (e: Expr): Expr => {
    let out = e;
    if (e.kind === 'if') {
      const then = sweepSeq(e.then);
      const otherwise = sweepSeq(e.else);
      if (then !== e.then || otherwise !== e.else) out = ifExpr(e.cond, then, otherwise);
    }
    live.expr(out);
    return out;
  };

  const sweepSeq = (s: SeqExpr): SeqExpr => {
    const body = sweepExpr(s.body);
    let changed = body !== s.body;
    const blocks: BindingBlock[] = [];
    for (let bi = s.blocks.length - 1; bi >= 0; bi--) {
      const blk = s.blocks[bi]!;
      const kept: Binding[] = [];
      for (let i = blk.bindings.length - 1; i >= 0; i--) {
        const b = blk.bindings[i]!;
        if (!needed(b)) {
          changed = true;
          continue;
        }
        const value = sweepExpr(b.value);
        live.sinfo(b.var.sinfo);
        if (value === b.value) kept.push(b);
        else {
          changed = true;
          kept.push(b.kind === 'match_cast' ? matchCast(b.var, value) : varBinding(b.var, value));
        }
      }
      blocks.push(bindingBlock(kept.reverse(), blk.dataflow));
    }
    // seqExpr drops the blocks that emptied and merges the plain ones that became adjacent.
    return changed ? seqExpr(blocks.reverse(), body) : s;
  };

  const body = sweepSeq(f.body);
  return body === f.body ? f : graphFunc(f.params, body, f.ret, f.attrs);
}
