/**
 * Read and write regions of a block, inferred from its body: what a block
 * declares when its author (or a schedule primitive) does not say.
 *
 * Each access is relaxed over the loops inside the block (a linear index over
 * a loop variable covers the loop's whole range); accesses to one buffer are
 * united dimension by dimension. Where no tight region can be found, the
 * region is the whole dimension. In a reduction block (one with `init`),
 * reading what the block writes is the accumulation itself and is not a read.
 */
import { Analyzer } from '../arith/analyzer.ts';
import { addSums, atomKey, constSum, isConst, scaleSum, type Sum, sumToExpr } from '../arith/canonical.ts';
import { add, intImm, type PrimExpr, type PrimVar, substitute, sub, visitPrim } from '../prim/expr.ts';
import type { Buffer } from './buffer.ts';
import type { Block, BufferRegion, Range, Stmt } from './stmt.ts';

interface Access {
  readonly buffer: Buffer;
  readonly ranges: Range[];
}

export function inferBlockRegions(block: Block): { reads: BufferRegion[]; writes: BufferRegion[] } {
  const analyzer = new Analyzer();
  const reads: Access[] = [];
  const writes: Access[] = [];
  const local = new Set<Buffer>();
  const loops = new Map<PrimVar, Range>();
  /** Let-bound variables inside the block, by value: a region must not mention them, they are out of scope there. */
  const lets = new Map<PrimVar, PrimExpr>();

  const relaxIndex = (e: PrimExpr, dimExtent: PrimExpr): Range =>
    relax(substitute(e, lets), loops, analyzer) ?? { min: intImm(0, dimExtent.dtype), extent: dimExtent };

  const recordLoads = (e: PrimExpr): void => {
    visitPrim(e, (x) => {
      if (x.kind === 'load' && !local.has(x.buffer)) {
        reads.push({ buffer: x.buffer, ranges: x.indices.map((i, d) => relaxIndex(i, x.buffer.shape[d]!)) });
      }
    });
  };

  const relaxRegion = (r: BufferRegion, map: ReadonlyMap<PrimVar, PrimExpr>): Access => ({
    buffer: r.buffer,
    ranges: r.region.map((rg, d) => {
      const lo = relaxIndex(substitute(rg.min, map), r.buffer.shape[d]!);
      const hi = relaxIndex(substitute(sub(add(rg.min, rg.extent), 1), map), r.buffer.shape[d]!);
      return { min: lo.min, extent: analyzer.simplify(sub(add(hi.min, hi.extent), lo.min)) };
    }),
  });

  const walk = (s: Stmt): void => {
    switch (s.kind) {
      case 'for':
        recordLoads(s.min);
        recordLoads(s.extent);
        loops.set(s.loopVar, { min: substitute(s.min, lets), extent: substitute(s.extent, lets) });
        walk(s.body);
        loops.delete(s.loopVar);
        return;
      case 'block_realize': {
        const map = new Map<PrimVar, PrimExpr>(s.block.iterVars.map((iv, i) => [iv.var, s.iterValues[i]!]));
        for (const v of s.iterValues) recordLoads(v);
        recordLoads(s.predicate);
        for (const r of s.block.reads) if (!local.has(r.buffer)) reads.push(relaxRegion(r, map));
        for (const w of s.block.writes) if (!local.has(w.buffer)) writes.push(relaxRegion(w, map));
        return;
      }
      case 'store':
        for (const i of s.indices) recordLoads(i);
        recordLoads(s.value);
        if (!local.has(s.buffer)) {
          writes.push({ buffer: s.buffer, ranges: s.indices.map((i, d) => relaxIndex(i, s.buffer.shape[d]!)) });
        }
        return;
      case 'allocate':
        local.add(s.buffer);
        walk(s.body);
        return;
      case 'if':
        recordLoads(s.cond);
        walk(s.then);
        if (s.else) walk(s.else);
        return;
      case 'let':
        recordLoads(s.value);
        lets.set(s.var, substitute(s.value, lets));
        walk(s.body);
        lets.delete(s.var);
        return;
      case 'seq':
        for (const c of s.stmts) walk(c);
        return;
      case 'evaluate':
        recordLoads(s.value);
        return;
    }
  };

  if (block.init) walk(block.init);
  walk(block.body);

  const writeRegions = unite(writes, analyzer);
  const written = new Set(writeRegions.map((w) => w.buffer));
  const readRegions = unite(reads, analyzer).filter((r) => !(block.init && written.has(r.buffer)));
  return { reads: readRegions, writes: writeRegions };
}

/** min and extent of a linear index over the given loops, or undefined when it is not linear in them. */
function relax(e: PrimExpr, loops: ReadonlyMap<PrimVar, Range>, analyzer: Analyzer): Range | undefined {
  const b = bounds(e, loops, analyzer);
  if (!b) return undefined;
  return { min: sumToExpr(b.lo), extent: sumToExpr(addSums(addSums(b.hi, b.lo, -1), constSum(1, b.lo.dtype))) };
}

/**
 * The least and greatest value of `e` over the loops, or undefined when `e`
 * is not linear in them. A loop's own ends may depend on loops outside it (a
 * triangular nest), so they are bounded the same way in turn.
 */
function bounds(e: PrimExpr, loops: ReadonlyMap<PrimVar, Range>, analyzer: Analyzer): { lo: Sum; hi: Sum } | undefined {
  const s = analyzer.canonical(e);
  let lo: Sum = constSum(s.base, s.dtype);
  let hi: Sum = constSum(s.base, s.dtype);
  for (const t of s.terms.values()) {
    const atom = t.mono.atoms.length === 1 ? t.mono.atoms[0]! : undefined;
    const r = atom?.kind === 'var' ? loops.get(atom) : undefined;
    if (r) {
      const first = bounds(r.min, loops, analyzer);
      const last = bounds(sub(add(r.min, r.extent), 1), loops, analyzer);
      if (!first || !last) return undefined;
      lo = addSums(lo, scaleSum(t.coeff > 0 ? first.lo : last.hi, t.coeff));
      hi = addSums(hi, scaleSum(t.coeff > 0 ? last.hi : first.lo, t.coeff));
    } else if (t.mono.atoms.some((a) => mentions(a, loops))) {
      return undefined;
    } else {
      const term: Sum = { dtype: s.dtype, base: 0, terms: new Map([[t.mono.key, t]]) };
      lo = addSums(lo, term);
      hi = addSums(hi, term);
    }
  }
  return { lo, hi };
}

function mentions(e: PrimExpr, vars: ReadonlyMap<PrimVar, Range>): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'var' && vars.has(x)) found = true;
  });
  return found;
}

/** One region per buffer, in order of first access; dimensions united. */
function unite(accesses: readonly Access[], analyzer: Analyzer): BufferRegion[] {
  const order: Buffer[] = [];
  const byBuffer = new Map<Buffer, Range[][]>();
  for (const a of accesses) {
    let list = byBuffer.get(a.buffer);
    if (!list) {
      list = [];
      byBuffer.set(a.buffer, list);
      order.push(a.buffer);
    }
    // An access with the wrong number of indices is ill-formed (the verifier says so);
    // it covers the whole buffer here, so that such a module can still be printed.
    const whole = a.ranges.length !== a.buffer.shape.length;
    list.push(whole ? a.buffer.shape.map((d) => ({ min: intImm(0, d.dtype), extent: d })) : a.ranges);
  }
  return order.map((buffer) => {
    const all = byBuffer.get(buffer)!;
    const region = buffer.shape.map((dim, d) =>
      uniteDim(
        all.map((rs) => rs[d]!),
        dim,
        analyzer,
      ),
    );
    return { buffer, region };
  });
}

function uniteDim(ranges: readonly Range[], dim: PrimExpr, analyzer: Analyzer): Range {
  const first = ranges[0]!;
  const key = (r: Range): string => `${atomKey(r.min)}|${atomKey(r.extent)}`;
  if (ranges.every((r) => key(r) === key(first))) return first;
  // Ranges whose starts differ by constants: [smallest start, largest end).
  const base = analyzer.canonical(first.min);
  let lowest = 0;
  let highestEnd: Sum | undefined;
  for (const r of ranges) {
    const offset = addSums(analyzer.canonical(r.min), base, -1);
    if (!isConst(offset)) return { min: intImm(0, dim.dtype), extent: dim };
    const end = addSums(offset, analyzer.canonical(r.extent));
    lowest = Math.min(lowest, offset.base);
    if (!highestEnd) highestEnd = end;
    else {
      const d = addSums(end, highestEnd, -1);
      if (!isConst(d)) return { min: intImm(0, dim.dtype), extent: dim };
      if (d.base > 0) highestEnd = end;
    }
  }
  const min = sumToExpr(addSums(base, constSum(lowest, base.dtype)));
  const extent = sumToExpr(addSums(highestEnd!, constSum(lowest, base.dtype), -1));
  return { min, extent };
}
