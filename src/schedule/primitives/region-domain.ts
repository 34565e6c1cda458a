/**
 * The iteration domain a moved block needs (compute_at, reverse_compute_at):
 * one instance of the block provides one element per dimension of a buffer,
 * at an iterator plus an offset (`X_shared[v0, v1]`, `B[v0 - 2]`); the blocks
 * it meets under the target loop require a region; each iterator then ranges
 * over the required region minus its offset, and keeps its whole domain where
 * nothing constrains it (a reduction's reduce iterators). The block gets a
 * fresh loop per iterator of extent above one, and a predicate where the
 * range may overhang its domain (a tile past a buffer's end): constant tile
 * extents suit a GPU better than TVM's clipped ones.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import {
  add,
  and,
  boolImm,
  eq,
  ge,
  intImm,
  le,
  lt,
  type PrimExpr,
  type PrimVar,
  primVar,
  primVars,
  sub,
} from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import { type BlockRealize, blockRealize, type BufferRegion, forLoop, type Range, type Stmt } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { uniteRanges } from './region-relax.ts';

/** Where one instance of a block touches one dimension: an iterator plus an offset, or the offset alone. */
interface Point {
  readonly iter?: PrimVar;
  readonly offset: PrimExpr;
}

/** The element per dimension that one instance of `realize` touches in region `r`, or a schedule error. */
function pointsOf(realize: BlockRealize, r: BufferRegion, a: Analyzer, ctx: PrimitiveContext): Point[] {
  const iters = new Set(realize.block.iterVars.map((iv) => iv.var));
  const name = realize.block.name;
  return r.region.map((rg, d) => {
    if (!a.canProve(eq(rg.extent, 1))) {
      scheduleFail(
        ctx,
        `one instance of block '${name}' touches ${printPrimExpr(rg.extent)} elements of '${r.buffer.name}' in dimension ${d}; the block must touch one element per dimension to be moved`,
      );
    }
    const vs = [...primVars(rg.min)].filter((v) => iters.has(v));
    if (vs.length === 0) return { offset: rg.min };
    const offset = a.simplify(sub(rg.min, vs[0]!));
    if (vs.length > 1 || [...primVars(offset)].some((v) => iters.has(v))) {
      scheduleFail(
        ctx,
        `block '${name}' indexes '${r.buffer.name}' with ${printPrimExpr(rg.min)} in dimension ${d}; the block can move only when each index is one iterator plus an offset` +
          (r.buffer.scope !== 'global' ? ' (a stage whose buffer compute_at has shrunk to a tile cannot move again)' : ''),
      );
    }
    return { iter: vs[0]!, offset };
  });
}

/**
 * The range of each iterator of `realize` so that its regions `provided`
 * (one instance, in its iterators) cover `required` (per buffer and
 * dimension, in the loops outside the target).
 */
export function iterDomains(
  realize: BlockRealize,
  provided: readonly BufferRegion[],
  required: ReadonlyMap<Buffer, readonly Range[]>,
  a: Analyzer,
  ctx: PrimitiveContext,
): Range[] {
  const wanted = new Map<PrimVar, Range[]>();
  for (const r of provided) {
    const need = required.get(r.buffer);
    if (!need) continue;
    pointsOf(realize, r, a, ctx).forEach((p, d) => {
      const n = need[d]!;
      if (p.iter) {
        const list = wanted.get(p.iter) ?? [];
        list.push({ min: a.simplify(sub(n.min, p.offset)), extent: n.extent });
        wanted.set(p.iter, list);
      } else if (!(a.canProve(eq(n.min, p.offset)) && a.canProve(le(n.extent, 1)))) {
        scheduleFail(
          ctx,
          `block '${realize.block.name}' provides element ${printPrimExpr(p.offset)} of dimension ${d} of '${r.buffer.name}', but ${printPrimExpr(n.extent)} elements from ${printPrimExpr(n.min)} are needed`,
        );
      }
    });
  }
  return realize.block.iterVars.map((iv) => {
    const list = wanted.get(iv.var);
    return list ? uniteRanges(list, a) : iv.dom;
  });
}

/**
 * `realize` bound to new loops `ax0, ax1, ...` over `doms` (an iterator of
 * extent one is bound to its start, without a loop), with a predicate
 * keeping each iterator inside its own domain where that is not provable.
 */
export function nestOver(realize: BlockRealize, doms: readonly Range[], a: Analyzer): Stmt {
  const loops: { v: PrimVar; extent: PrimExpr }[] = [];
  const conds: PrimExpr[] = [];
  const values = realize.block.iterVars.map((iv, i) => {
    const r = doms[i]!;
    let value: PrimExpr;
    if (a.canProve(eq(r.extent, 1))) value = r.min;
    else {
      const v = primVar(`ax${loops.length}`, r.extent.dtype);
      loops.push({ v, extent: r.extent });
      // Tile start plus offset, as TVM writes it (r.min is simplified already).
      value = r.min.kind === 'int' && r.min.value === 0 ? v : add(r.min, v);
    }
    const end = a.simplify(add(iv.dom.min, iv.dom.extent));
    if (!a.canProve(ge(r.min, iv.dom.min))) conds.push(ge(value, iv.dom.min));
    if (!a.canProve(le(add(r.min, r.extent), end))) conds.push(lt(value, end));
    return value;
  });
  const predicate = conds.length === 0 ? boolImm(true) : conds.reduce((p, c) => and(p, c));
  const inner: Stmt = blockRealize(values, realize.block, predicate);
  return loops.reduceRight<Stmt>((body, l) => forLoop(l.v, intImm(0, l.v.dtype), l.extent, body), inner);
}
