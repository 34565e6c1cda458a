/**
 * Reduction primitives. decompose_reduction moves a reduction block's init
 * into a block of its own before a loop, as TVM does, so the update can be
 * scheduled (vectorized, reordered) without the "first iteration" condition.
 * cross_thread_reduction lives in its own file and is re-exported here.
 */
import { boolImm, type PrimExpr, type PrimVar, primVar, primVars, substitute } from '../../ir/prim/expr.ts';
import {
  block,
  type BlockRealize,
  blockRealize,
  type For,
  forLoop,
  iterVar,
  type PrimFunc,
  seq,
  type Stmt,
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { blocksNamed, getBlockRealize, getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import { andPredicate, conjuncts, describeStmt, feedsReduce, itersFedBy, mentionsAny, stmtUsesVar } from './nest-utils.ts';
import { substituteStmt } from '../../ir/tir/subst.ts';

export { crossThreadReduction } from './cross-thread-reduction.ts';

/**
 * Splits the init of `block` off into a block `<block>_init` over its spatial
 * iterators only, placed right before `loop`. The init block sits inside the
 * loops above `loop` (which must drive no reduce iterator, or the init would
 * run again on each of their iterations) and gets loops of its own for the
 * loops at or below `loop` that drive spatial iterators.
 */
export function decomposeReduction(
  f: PrimFunc,
  blockName: string,
  loop: PrimVar,
  ctx: PrimitiveContext,
): { func: PrimFunc; initBlock: string } {
  const realize = getBlockRealize(f, blockName, ctx);
  const b = realize.block;
  if (!b.init) scheduleFail(ctx, `block '${blockName}' has no init to decompose`);
  const target = getLoop(f, loop, ctx);
  const path = pathTo(f.body, realize) ?? [];
  const at = path.indexOf(target);
  if (at < 0) scheduleFail(ctx, `loop '${loop.name}' is not around block '${blockName}'`);
  const initName = `${blockName}_init`;
  if (blocksNamed(f.body, initName).length > 0) scheduleFail(ctx, `a block named '${initName}' exists already`);
  // The init goes before `loop`: whatever sits between them (an if, an allocation) would not guard or scope it.
  const below = path.slice(at);
  const between = below.find((s) => s.kind !== 'for' && s.kind !== 'seq');
  if (between) {
    scheduleFail(
      ctx,
      `${describeStmt(between)} is between loop '${loop.name}' and block '${blockName}'; the init cannot move above it`,
    );
  }
  for (const s of path.slice(0, at)) {
    if (s.kind === 'for' && feedsReduce(realize, s.loopVar)) {
      scheduleFail(
        ctx,
        `loop '${s.loopVar.name}' above loop '${loop.name}' drives a reduce iterator of block '${blockName}': ` +
          `the init would run again on each of its iterations (decompose at '${s.loopVar.name}' or higher)`,
      );
    }
  }
  const inner = below.filter((s): s is For => s.kind === 'for');
  const kept = inner.filter((l) => itersFedBy(realize, l.loopVar).some((iv) => iv.iterKind === 'spatial'));
  const dropped = new Set(inner.filter((l) => !kept.includes(l)).map((l) => l.loopVar));
  for (const l of kept) {
    const dep = [...primVars(l.min), ...primVars(l.extent)].find((v) => dropped.has(v));
    if (dep) scheduleFail(ctx, `the range of loop '${l.loopVar.name}' depends on reduce loop '${dep.name}'`);
  }
  const copies = new Map(kept.map((l) => [l.loopVar, primVar(`${l.loopVar.name}_init`, l.loopVar.dtype)]));
  const initRealize = initBlockRealize(realize, initName, dropped, copies, ctx);
  const nest = kept.reduceRight<Stmt>(
    (body, l) =>
      forLoop(copies.get(l.loopVar)!, substitute(l.min, copies), substitute(l.extent, copies), body, {
        forKind: l.forKind,
        ...(l.thread ? { thread: l.thread } : {}),
      }),
    initRealize,
  );
  const update = blockRealize(
    realize.iterValues,
    block({ name: b.name, iterVars: b.iterVars, reads: b.reads, writes: b.writes, body: b.body, annotations: b.annotations }),
    realize.predicate,
  );
  const rewritten = replaceStmt(target, realize, update);
  return { func: withBody(f, replaceStmt(f.body, target, seq([nest, rewritten]))), initBlock: initName };
}

/**
 * The init block: fresh spatial iterators bound to the original values over
 * the copied loops, and the predicate's conjuncts that do not involve the
 * reduce loops left behind (the bounds of a non-dividing split of a spatial loop).
 */
function initBlockRealize(
  realize: BlockRealize,
  name: string,
  dropped: ReadonlySet<PrimVar>,
  copies: ReadonlyMap<PrimVar, PrimVar>,
  ctx: PrimitiveContext,
): BlockRealize {
  const b = realize.block;
  const init = b.init!;
  const reduceIter = b.iterVars.find((iv) => iv.iterKind === 'reduce' && stmtUsesVar(init, iv.var));
  if (reduceIter) scheduleFail(ctx, `the init of block '${b.name}' uses reduce iterator '${reduceIter.var.name}'`);
  const spatial = b.iterVars.flatMap((iv, i) => (iv.iterKind === 'spatial' ? [{ iv, value: realize.iterValues[i]! }] : []));
  const ivMap = new Map(spatial.map(({ iv }) => [iv.var, primVar(`${iv.var.name}_init`, iv.var.dtype)]));
  const iterVars = spatial.map(({ iv }) => iterVar(ivMap.get(iv.var)!, iv.dom, 'spatial'));
  const values = spatial.map(({ value }) => substitute(value, copies));
  const keptVars = new Set(copies.keys());
  let predicate: PrimExpr = boolImm(true);
  for (const c of conjuncts(realize.predicate)) {
    if (!mentionsAny(c, dropped)) predicate = andPredicate(predicate, substitute(c, copies));
    else if (mentionsAny(c, keptVars)) {
      scheduleFail(
        ctx,
        `the predicate of block '${b.name}' mixes spatial and reduce loops in one condition; it cannot be split for the init`,
      );
    }
  }
  const initBlock = block({ name, iterVars, body: substituteStmt(init, ivMap) });
  return blockRealize(values, initBlock, predicate);
}
