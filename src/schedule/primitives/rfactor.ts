/**
 * rfactor (TVM semantics): factor a reduction over one of its loops. For a
 * block `B[idx] = B[idx] ⊕ rhs` (init: the identity of ⊕) and a loop `k`
 * that drives only reduce iterators:
 *
 *   - the rfactor block `<block>_rf` runs in a copy of the whole nest and
 *     accumulates partial results into `<B>_rf`, B's shape with k's extent
 *     inserted at `factorAxis`: `k` is a spatial iterator for it, and each
 *     reduce iterator fed by `k` is rebuilt from iterators of the other loops
 *     that fed it;
 *   - the original block (the write-back) keeps the nest minus the other
 *     loops that fed reduce iterators, and reduces `<B>_rf` over `k`.
 *
 * The partial results are combined in another order than before: exact for
 * integer sums, max and min, equal up to rounding for float sums.
 */
import { binary, boolImm, load, type PrimExpr, type PrimVar, primVar, primVars, sub, substitute } from '../../ir/prim/expr.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import {
  block,
  type BlockRealize,
  blockRealize,
  type For,
  ifThenElse,
  type IterVar,
  iterVar,
  mapStmtChildren,
  type PrimFunc,
  seq,
  type Stmt,
  type StmtMapper,
  store,
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import { freshBlockName, freshStageName } from './deps-blocks.ts';
import { matchReducer, type Reducer } from './deps-reducer.ts';
import { allocateAtTop } from './deps-tree.ts';
import { analyzerAt, andPredicate, blocksUnder, conjuncts, describeKind, describeStmt, mentionsAny } from './nest-utils.ts';

export function rfactor(
  f: PrimFunc,
  loopVar: PrimVar,
  factorAxis: number,
  ctx: PrimitiveContext,
): { func: PrimFunc; block: string } {
  const rfLoop = getLoop(f, loopVar, ctx);
  if (rfLoop.forKind !== 'serial')
    scheduleFail(ctx, `loop '${loopVar.name}' is ${describeKind(rfLoop)}; rfactor needs a serial loop`);
  const { blocks, loose } = blocksUnder(rfLoop.body);
  if (loose.length > 0) scheduleFail(ctx, `${describeStmt(loose[0]!)} under loop '${loopVar.name}' is in no block`);
  if (blocks.length !== 1) {
    scheduleFail(ctx, `loop '${loopVar.name}' has ${blocks.length} blocks under it; rfactor needs exactly one reduction block`);
  }
  const realize = blocks[0]!;
  const b = realize.block;
  const red = matchReducer(b, ctx);
  const path = pathTo(f.body, realize) ?? [];
  const start = firstLoop(path);
  const odd = path.find((s, i) => s.kind === 'block_realize' || (i > start && s.kind !== 'for' && s.kind !== 'seq'));
  if (odd)
    scheduleFail(
      ctx,
      `${describeStmt(odd)} is between the loops of block '${b.name}' and the block; rfactor needs a plain loop nest`,
    );
  const loops = path.filter((s): s is For => s.kind === 'for');
  const roles = checkLoops(loops, rfLoop, realize, ctx);
  const ndim = red.buffer.shape.length;
  if (!Number.isInteger(factorAxis) || factorAxis < -(ndim + 1) || factorAxis > ndim) {
    scheduleFail(
      ctx,
      `factor_axis ${factorAxis} is out of range: '${red.buffer.name}' has ${ndim} dimension(s), so it must be in [${-(ndim + 1)}, ${ndim}]`,
    );
  }
  const axis = factorAxis < 0 ? factorAxis + ndim + 1 : factorAxis;
  const loopVars = new Set(loops.map((l) => l.loopVar));
  for (const e of [rfLoop.min, rfLoop.extent]) {
    if (mentionsAny(e, loopVars)) {
      scheduleFail(ctx, `the range of loop '${loopVar.name}' depends on outer loops; it cannot size the rfactor buffer`);
    }
  }
  // Conditions on the loops the write-back loses stay with the rfactor block alone.
  const dropped = new Set(loops.filter((l) => l !== rfLoop && roles.get(l) === 'reduce').map((l) => l.loopVar));
  const wbPredicate = conjuncts(realize.predicate)
    .filter((c) => !mentionsAny(c, dropped))
    .reduce<PrimExpr>((p, c) => andPredicate(p, c), boolImm(true));
  checkFirstStep(f, realize, dropped, loops, ctx);

  const rfName = freshBlockName(f.body, `${b.name}_rf`);
  const rfBuf: Buffer = {
    ...red.buffer,
    name: freshStageName(f, `${red.buffer.name}_rf`),
    shape: [...red.buffer.shape.slice(0, axis), rfLoop.extent, ...red.buffer.shape.slice(axis)],
  };
  const rfNest = rfactorNest(realize, red, loops, rfLoop, rfBuf, axis, rfName);
  const wb = writeBack(realize, red, rfLoop, rfBuf, axis, wbPredicate);
  const outer = loops[0]!;
  const kept = dropLoops(replaceStmt(outer, realize, wb), dropped);
  let body = replaceStmt(f.body, outer, seq([rfNest, kept]));
  body = allocateAtTop(body, rfBuf);
  return { func: withBody(f, body), block: rfName };
}

function firstLoop(path: readonly Stmt[]): number {
  const i = path.findIndex((s) => s.kind === 'for');
  return i < 0 ? path.length : i;
}

/** What each loop drives; fails on the shapes TVM refuses. */
function checkLoops(
  loops: readonly For[],
  rfLoop: For,
  realize: BlockRealize,
  ctx: PrimitiveContext,
): Map<For, 'spatial' | 'reduce' | 'none'> {
  const b = realize.block;
  const roles = new Map<For, 'spatial' | 'reduce' | 'none'>();
  let inReduction = false;
  for (const l of loops) {
    const fed = b.iterVars.filter((_, i) => primVars(realize.iterValues[i]!).has(l.loopVar));
    const spatial = fed.find((iv) => iv.iterKind === 'spatial');
    const reduce = fed.find((iv) => iv.iterKind === 'reduce');
    if (spatial && reduce) {
      scheduleFail(
        ctx,
        `loop '${l.loopVar.name}' drives both spatial iterator '${spatial.var.name}' and reduce iterator '${reduce.var.name}' of block '${b.name}'`,
      );
    }
    if (l === rfLoop && spatial) {
      scheduleFail(
        ctx,
        `loop '${l.loopVar.name}' drives spatial iterator '${spatial.var.name}' of block '${b.name}'; rfactor needs a loop that drives reduce iterators only`,
      );
    }
    if (l === rfLoop && !reduce) scheduleFail(ctx, `loop '${l.loopVar.name}' drives no reduce iterator of block '${b.name}'`);
    if (reduce && !inReduction) {
      inReduction = true;
      const under = blocksUnder(l.body).blocks;
      if (under.length !== 1) {
        scheduleFail(
          ctx,
          `reduce loop '${l.loopVar.name}' holds ${under.length} blocks; rfactor needs the reduction loops to hold block '${b.name}' alone`,
        );
      }
    } else if (!spatial && !reduce && inReduction && !(l.extent.kind === 'int' && l.extent.value === 1)) {
      scheduleFail(ctx, `loop '${l.loopVar.name}' under the reduce loops drives no iterator of block '${b.name}'`);
    }
    roles.set(l, spatial ? 'spatial' : reduce ? 'reduce' : 'none');
  }
  if (blocksUnder(loops[0]!).blocks[0] !== realize) {
    scheduleFail(
      ctx,
      `block '${b.name}' is not the first block under loop '${loops[0]!.loopVar.name}'; the partial results must be computed before anything else in the nest`,
    );
  }
  // The partial results are all computed before the nest: nothing later in it may change their inputs.
  const inputs = new Set(inferBlockRegions(b).reads.map((r) => r.buffer));
  for (const other of blocksUnder(loops[0]!).blocks.slice(1)) {
    const hit = inferBlockRegions(other.block).writes.find((w) => inputs.has(w.buffer));
    if (hit) {
      scheduleFail(
        ctx,
        `block '${other.block.name}' writes '${hit.buffer.name}', which block '${b.name}' reads, in loop '${loops[0]!.loopVar.name}'; the partial results, computed before the loop, would read the old values`,
      );
    }
  }
  return roles;
}

/**
 * Fails unless the predicate holds where the rfactor block initializes each
 * partial result (the dropped loops at their start): otherwise some would
 * never be initialized and the write-back would read garbage.
 */
function checkFirstStep(
  f: PrimFunc,
  realize: BlockRealize,
  dropped: ReadonlySet<PrimVar>,
  loops: readonly For[],
  ctx: PrimitiveContext,
): void {
  const at = new Map<PrimVar, PrimExpr>(loops.filter((l) => dropped.has(l.loopVar)).map((l) => [l.loopVar, l.min]));
  const a = analyzerAt(f, realize);
  for (const c of conjuncts(realize.predicate)) {
    if (!mentionsAny(c, dropped)) continue;
    if (!a.canProve(substitute(c, at))) {
      scheduleFail(
        ctx,
        `the predicate ${printPrimExpr(c)} of block '${realize.block.name}' may exclude the first step of a partial reduction, which would leave it uninitialized`,
      );
    }
  }
}

/** The rfactor block in a copy of the whole nest (fresh loop variables). */
function rfactorNest(
  realize: BlockRealize,
  red: Reducer,
  loops: readonly For[],
  rfLoop: For,
  rfBuf: Buffer,
  axis: number,
  name: string,
): Stmt {
  const b = realize.block;
  const copies = new Map<PrimVar, PrimExpr>(loops.map((l) => [l.loopVar, primVar(l.loopVar.name, l.loopVar.dtype)]));
  const rfIter = iterVar(
    primVar(`v${rfLoop.loopVar.name}`, rfLoop.loopVar.dtype),
    { min: rfLoop.min, extent: rfLoop.extent },
    'spatial',
  );
  const iters: IterVar[] = [rfIter];
  const values: PrimExpr[] = [copies.get(rfLoop.loopVar)!];
  // Loop variable → the iterator standing for it inside the block.
  const byLoop = new Map<PrimVar, PrimExpr>([[rfLoop.loopVar, rfIter.var]]);
  const subst = new Map<PrimVar, PrimExpr>();
  b.iterVars.forEach((iv, i) => {
    const value = realize.iterValues[i]!;
    if (iv.iterKind === 'spatial' || !primVars(value).has(rfLoop.loopVar)) {
      iters.push(iv);
      values.push(substitute(value, copies));
      return;
    }
    for (const v of primVars(value)) {
      const l = loops.find((x) => x.loopVar === v);
      if (!l || byLoop.has(v)) continue;
      const it = iterVar(
        primVar(`v${v.name}`, v.dtype),
        { min: substitute(l.min, copies), extent: substitute(l.extent, copies) },
        'reduce',
      );
      byLoop.set(v, it.var);
      iters.push(it);
      values.push(copies.get(v)!);
    }
    subst.set(iv.var, substitute(value, byLoop));
  });
  const idx = red.indices.map((x) => substitute(x, subst));
  const rfIdx = [...idx.slice(0, axis), sub(rfIter.var, rfLoop.min), ...idx.slice(axis)].map(simplifyIndex);
  const acc = load(rfBuf, rfIdx);
  const update = store(rfBuf, rfIdx, binary(red.op, acc, substitute(red.rhs, subst)));
  const rfBlock = block({
    name,
    iterVars: iters,
    init: store(rfBuf, rfIdx, red.identity),
    body: red.cond ? ifThenElse(substitute(red.cond, subst), update) : update,
    annotations: b.annotations,
  });
  const inner: Stmt = blockRealize(values, rfBlock, substitute(realize.predicate, copies));
  return loops.reduceRight<Stmt>(
    (body, l) => ({
      ...l,
      loopVar: copies.get(l.loopVar) as PrimVar,
      min: substitute(l.min, copies),
      extent: substitute(l.extent, copies),
      body,
    }),
    inner,
  );
}

/** The original block turned write-back: `B[idx] = B[idx] ⊕ B_rf[..., vk, ...]` over the rfactor loop. */
function writeBack(
  realize: BlockRealize,
  red: Reducer,
  rfLoop: For,
  rfBuf: Buffer,
  axis: number,
  predicate: PrimExpr,
): BlockRealize {
  const b = realize.block;
  const rIter = iterVar(
    primVar(`v${rfLoop.loopVar.name}`, rfLoop.loopVar.dtype),
    { min: rfLoop.min, extent: rfLoop.extent },
    'reduce',
  );
  const iters: IterVar[] = [rIter];
  const values: PrimExpr[] = [rfLoop.loopVar];
  const subst = new Map<PrimVar, PrimExpr>();
  b.iterVars.forEach((iv, i) => {
    if (iv.iterKind !== 'spatial') return;
    const copy = iterVar(primVar(iv.var.name, iv.var.dtype), iv.dom, 'spatial');
    subst.set(iv.var, copy.var);
    iters.push(copy);
    values.push(realize.iterValues[i]!);
  });
  const idx = red.indices.map((x) => substitute(x, subst));
  const rfIdx = [...idx.slice(0, axis), sub(rIter.var, rfLoop.min), ...idx.slice(axis)].map(simplifyIndex);
  const wb = block({
    name: b.name,
    iterVars: iters,
    init: store(red.buffer, idx, red.identity),
    body: store(red.buffer, idx, binary(red.op, load(red.buffer, idx), load(rfBuf, rfIdx))),
    annotations: b.annotations,
  });
  return blockRealize(values, wb, predicate);
}

/** `v - 0` is `v`. */
function simplifyIndex(e: PrimExpr): PrimExpr {
  return e.kind === 'binary' && e.op === 'sub' && e.b.kind === 'int' && e.b.value === 0 ? e.a : e;
}

/** `s` with the loops of `vars` replaced by their bodies. */
function dropLoops(s: Stmt, vars: ReadonlySet<PrimVar>): Stmt {
  const m: StmtMapper = {
    stmt: (x) => (x.kind === 'for' && vars.has(x.loopVar) ? m.stmt(x.body) : mapStmtChildren(x, m)),
    expr: (e) => e,
  };
  return m.stmt(s);
}
