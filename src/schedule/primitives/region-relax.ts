/**
 * Relaxing regions over loops: the part of a buffer a block touches while
 * some loops run through their ranges and the others stay fixed (TVM's
 * EvalSet over a loop domain). A bound is symbolic (`ko*8`, `bx*32 + 31`), so
 * a tile's position stays in terms of the loops outside it. Where an index is
 * not something the bounds can follow, the region is the whole dimension:
 * larger than needed, never too small.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import {
  add,
  binary,
  ge,
  gt,
  intImm,
  le,
  max,
  min,
  type PrimExpr,
  type PrimVar,
  sub,
  substitute,
  visitPrim,
} from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { BlockRealize, BufferRegion, Range } from '../../ir/tir/stmt.ts';

/** Inclusive bounds of an expression. */
interface Bounds {
  readonly lo: PrimExpr;
  readonly hi: PrimExpr;
}

/** Loop variables being relaxed, with their ranges. */
export type Domains = ReadonlyMap<PrimVar, Range>;

function mentions(e: PrimExpr, doms: Domains): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'var' && doms.has(x)) found = true;
  });
  return found;
}

/** Least and greatest value of `e` while the variables of `doms` range over their domains; undefined when unknown. */
function bounds(e: PrimExpr, doms: Domains, a: Analyzer): Bounds | undefined {
  if (!mentions(e, doms)) return { lo: e, hi: e };
  switch (e.kind) {
    case 'var': {
      const r = doms.get(e)!;
      const first = bounds(r.min, doms, a);
      const last = bounds(sub(add(r.min, r.extent), 1), doms, a);
      return first && last ? { lo: first.lo, hi: last.hi } : undefined;
    }
    case 'binary':
      return binaryBounds(e.op, e.a, e.b, doms, a);
    default:
      return undefined;
  }
}

function binaryBounds(op: string, x: PrimExpr, y: PrimExpr, doms: Domains, a: Analyzer): Bounds | undefined {
  const p = bounds(x, doms, a);
  const q = bounds(y, doms, a);
  if (!p || !q) return undefined;
  const point = (b: Bounds): boolean => b.lo === b.hi;
  switch (op) {
    case 'add':
      return { lo: add(p.lo, q.lo), hi: add(p.hi, q.hi) };
    case 'sub':
      return { lo: sub(p.lo, q.hi), hi: sub(p.hi, q.lo) };
    case 'mul': {
      // One side must be fixed, of known sign.
      const [r, c] = point(q) ? [p, q.lo] : point(p) ? [q, p.lo] : [undefined, undefined];
      if (!r || !c) return undefined;
      if (a.canProve(ge(c, 0))) return { lo: binary('mul', r.lo, c), hi: binary('mul', r.hi, c) };
      if (a.canProve(le(c, 0))) return { lo: binary('mul', r.hi, c), hi: binary('mul', r.lo, c) };
      return undefined;
    }
    case 'floordiv':
      if (!point(q) || !a.canProve(gt(q.lo, 0))) return undefined;
      return { lo: binary('floordiv', p.lo, q.lo), hi: binary('floordiv', p.hi, q.lo) };
    case 'floormod': {
      if (!point(q) || !a.canProve(gt(q.lo, 0))) return undefined;
      // Within one period the remainder grows with the dividend; across periods it is anything.
      const samePeriod = a.canProve(binary('eq', binary('floordiv', p.lo, q.lo), binary('floordiv', p.hi, q.lo)));
      if (samePeriod) return { lo: binary('floormod', p.lo, q.lo), hi: binary('floormod', p.hi, q.lo) };
      return { lo: intImm(0, q.lo.dtype), hi: sub(q.lo, 1) };
    }
    case 'min':
      return { lo: min(p.lo, q.lo), hi: min(p.hi, q.hi) };
    case 'max':
      return { lo: max(p.lo, q.lo), hi: max(p.hi, q.hi) };
    default:
      return undefined;
  }
}

/** The range `r` covers while `doms` vary, or undefined when it cannot be bounded. */
export function relaxRange(r: Range, doms: Domains, a: Analyzer): Range | undefined {
  const first = bounds(a.simplify(r.min), doms, a);
  const last = bounds(a.simplify(sub(add(r.min, r.extent), 1)), doms, a);
  if (!first || !last) return undefined;
  const lo = a.simplify(first.lo);
  return { min: lo, extent: a.simplify(add(sub(last.hi, lo), 1)) };
}

/** The whole of dimension `d` of `b`. */
function wholeDim(b: Buffer, d: number): Range {
  const extent = b.shape[d]!;
  return { min: intImm(0, extent.dtype), extent };
}

/**
 * The regions of `realize`'s block (given in its iterators) in terms of the
 * loops outside it, the loops of `doms` relaxed; a dimension that cannot be
 * bounded is whole.
 */
export function relaxedBlockRegions(
  realize: BlockRealize,
  regions: readonly BufferRegion[],
  doms: Domains,
  a: Analyzer,
): BufferRegion[] {
  const binding = new Map<PrimVar, PrimExpr>(realize.block.iterVars.map((iv, i) => [iv.var, realize.iterValues[i]!]));
  return regions.map((r) => ({
    buffer: r.buffer,
    region: r.region.map((rg, d) => {
      const bound: Range = { min: substitute(rg.min, binding), extent: substitute(rg.extent, binding) };
      return relaxRange(bound, doms, a) ?? wholeDim(r.buffer, d);
    }),
  }));
}

/** The smallest range covering all of `ranges` (min/max expressions where the order is not provable). */
export function uniteRanges(ranges: readonly Range[], a: Analyzer): Range {
  let lo = ranges[0]!.min;
  let end = add(ranges[0]!.min, ranges[0]!.extent);
  for (const r of ranges.slice(1)) {
    const rEnd = add(r.min, r.extent);
    lo = a.canProve(le(lo, r.min)) ? lo : a.canProve(le(r.min, lo)) ? r.min : min(lo, r.min);
    end = a.canProve(ge(end, rEnd)) ? end : a.canProve(ge(rEnd, end)) ? rEnd : max(end, rEnd);
  }
  const minE = a.simplify(lo);
  return { min: minE, extent: a.simplify(sub(end, minE)) };
}

/** `r` cut to [0, extent): a relaxed region may overhang a buffer where predicates guard the accesses. */
export function clipRange(r: Range, extent: PrimExpr, a: Analyzer): Range {
  const lo = a.canProve(ge(r.min, 0)) ? r.min : a.simplify(max(r.min, intImm(0, r.min.dtype)));
  const rEnd = add(r.min, r.extent);
  const end = a.canProve(le(rEnd, extent)) ? rEnd : min(rEnd, extent);
  return { min: lo, extent: a.simplify(sub(end, lo)) };
}
