/**
 * What the loop and reduction primitives ask of a loop nest: which blocks a
 * loop drives and through which iterators, whether any effect escapes the
 * blocks (blocks are what make reordering and parallelizing provably safe),
 * substitution of loop variables in statements, and predicate conjuncts.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { isInt } from '../../ir/dtype.ts';
import { and, type PrimExpr, type PrimVar, primVars, usesVar } from '../../ir/prim/expr.ts';
import {
  type BlockRealize,
  blockRealize,
  type For,
  type IterVar,
  mapStmtChildren,
  type PrimFunc,
  type Stmt,
  type StmtMapper,
} from '../../ir/tir/stmt.ts';
import { pathTo } from '../tree.ts';

/** Whether any expression under `s` uses `v`. */
export function stmtUsesVar(s: Stmt, v: PrimVar): boolean {
  let found = false;
  const m: StmtMapper = {
    stmt: (x) => (found ? x : mapStmtChildren(x, m)),
    expr: (e) => ((found ||= usesVar(e, v)), e),
  };
  m.stmt(s);
  return found;
}

/**
 * An effect whose independence across loop iterations nothing declares: a
 * store or an evaluate outside every block, or an opaque block (one without
 * iterators, which may use the loops directly).
 */
export type LooseStmt = Extract<Stmt, { kind: 'store' | 'evaluate' | 'block_realize' }>;

/**
 * The outermost block realizes under `s` (blocks nested in them see the loops
 * only through their iterators, so they are not looked at), and the loose
 * effects under `s`. An opaque block is both: it can carry a predicate, but
 * says nothing about which iterations are independent.
 */
export function blocksUnder(s: Stmt): { blocks: BlockRealize[]; loose: LooseStmt[] } {
  const blocks: BlockRealize[] = [];
  const loose: LooseStmt[] = [];
  const walk = (x: Stmt): void => {
    if (x.kind === 'block_realize') {
      blocks.push(x);
      if (x.block.iterVars.length === 0) loose.push(x);
    } else if (x.kind === 'store' || x.kind === 'evaluate') loose.push(x);
    else mapStmtChildren(x, { stmt: (c) => (walk(c), c), expr: (e) => e });
  };
  walk(s);
  return { blocks, loose };
}

/** The iterators of a block whose bound value uses `v`. */
export function itersFedBy(realize: BlockRealize, v: PrimVar): IterVar[] {
  return realize.block.iterVars.filter((_, i) => usesVar(realize.iterValues[i]!, v));
}

/** Whether `v` drives a reduce iterator of `realize`. */
export function feedsReduce(realize: BlockRealize, v: PrimVar): boolean {
  return itersFedBy(realize, v).some((iv) => iv.iterKind === 'reduce');
}

/** A short description of a statement for messages. */
export function describeStmt(s: Stmt): string {
  switch (s.kind) {
    case 'for':
      return `loop '${s.loopVar.name}'`;
    case 'block_realize':
      return s.block.iterVars.length === 0 ? `opaque block '${s.block.name}' (no iterators)` : `block '${s.block.name}'`;
    case 'store':
      return `a store to '${s.buffer.name}'`;
    case 'allocate':
      return `the allocation of '${s.buffer.name}'`;
    case 'if':
      return 'an if';
    case 'let':
      return `let '${s.var.name}'`;
    case 'seq':
      return `a sequence of ${s.stmts.length} statements`;
    case 'evaluate':
      return s.value.kind === 'call' ? `a call of ${s.value.op}` : 'an evaluate';
  }
}

/** How a loop runs, for messages: `serial`, `vectorized`, `bound to threadIdx.x`. */
export function describeKind(l: For): string {
  return l.forKind === 'thread_binding' ? `bound to ${l.thread}` : l.forKind;
}

export { conjuncts } from '../../ir/prim/expr.ts';

/** `p` and `q`, without a literal `true`. */
export function andPredicate(p: PrimExpr, q: PrimExpr): PrimExpr {
  if (p.kind === 'bool' && p.value) return q;
  if (q.kind === 'bool' && q.value) return p;
  return and(p, q);
}

/** `realize` with `cond` added to its predicate. */
export function withPredicate(realize: BlockRealize, cond: PrimExpr): BlockRealize {
  return blockRealize(realize.iterValues, realize.block, andPredicate(realize.predicate, cond));
}

/** Whether `e` mentions any of `vars`. */
export function mentionsAny(e: PrimExpr, vars: ReadonlySet<PrimVar>): boolean {
  for (const v of primVars(e)) if (vars.has(v)) return true;
  return false;
}

/**
 * An analyzer that knows what holds at `at`: buffer shape variables are sizes
 * (never negative) and each enclosing loop variable lies in its range.
 */
export function analyzerAt(f: PrimFunc, at: Stmt): Analyzer {
  const a = new Analyzer();
  for (const p of f.params) {
    if (p.kind !== 'buffer') continue;
    for (const e of [...p.shape, ...p.strides]) for (const v of primVars(e)) if (isInt(v.dtype)) a.bindNonNegative(v);
  }
  for (const s of pathTo(f.body, at) ?? []) if (s.kind === 'for') a.bind(s.loopVar, { min: s.min, extent: s.extent });
  return a;
}
