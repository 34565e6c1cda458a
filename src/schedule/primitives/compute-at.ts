/**
 * compute_at and reverse_compute_at (TVM semantics): move a block with its
 * own loop nest under a loop of the blocks it feeds (or is fed by), and let
 * it compute only what one iteration of that loop needs (or provides).
 *
 * compute_at puts the producer right before the first subtree of the loop
 * holding a consumer; the region it must produce is what the consumers under
 * the loop read, with the loops below the target loop relaxed (and, for a
 * workgroup buffer, the threadIdx loops: every thread of a workgroup shares
 * the tile). reverse_compute_at puts the consumer at the end of the loop
 * body, over what the producers under the loop write per iteration. A
 * shared or local buffer the move leaves used only under the loop gets its
 * allocation placed there and shrunk to a tile (region-alloc.ts).
 *
 * Both refuse a move that could change a value some block reads: a buffer
 * with another writer, a consumer (producer) outside the loop, a block in
 * between writing what the moved block reads, or reading and writing what it
 * writes. A block sharing loops with others may only move deeper inside
 * them: iterations of a shared loop keep their order, and within one
 * iteration program order decides.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import { add, eq, ge, le, type PrimExpr, type PrimVar, primVars, substitute } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import type { BlockRealize, For, PrimFunc, Range, Stmt } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getBlockRealize, getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import {
  accessOf,
  type BlockAccess,
  blockAccesses,
  bufferList,
  isParam,
  loadedBuffers,
  requireNoLooseAccess,
  requireOutermost,
} from './deps-blocks.ts';
import { insertIntoLoop, removeStmt, stmtList } from './deps-tree.ts';
import { analyzerAt, blocksUnder } from './nest-utils.ts';
import { placeAllocation } from './region-alloc.ts';
import { iterDomains, nestOver } from './region-domain.ts';
import { relaxedBlockRegions, relaxRange, uniteRanges } from './region-relax.ts';

/** Moves producer `block` under `loop`, computing only what the consumers under it read per iteration. */
export function computeAt(f: PrimFunc, blockName: string, loopVar: PrimVar, ctx: PrimitiveContext): PrimFunc {
  const { realize, loop } = locate(f, blockName, loopVar, ctx);
  const all = blockAccesses(f.body);
  const me = accessOf(all, realize);
  const under = blocksBelow(all, loop);
  requireAllocatedAround(f, loop, me, ctx);
  if (me.writes.size === 0) scheduleFail(ctx, `block '${blockName}' writes nothing`);
  for (const b of me.writes) {
    if (isParam(f, b)) {
      scheduleFail(
        ctx,
        `block '${blockName}' writes '${b.name}', an output of the kernel; under loop '${loopVar.name}' it would compute only the part the consumers there read`,
      );
    }
    requireNoLooseAccess(f.body, b, ctx);
    const other = all.find((x) => x !== me && x.writes.has(b));
    if (other)
      scheduleFail(ctx, `'${b.name}' is also written by block '${other.realize.block.name}'; compute_at needs a single producer`);
    if (me.reads.has(b)) scheduleFail(ctx, `block '${blockName}' reads '${b.name}', which it writes`);
  }
  const consumers = all.filter((x) => x !== me && intersects(x.reads, me.writes));
  for (const c of consumers) {
    const name = c.realize.block.name;
    if (!under.has(c)) {
      scheduleFail(
        ctx,
        `block '${name}' reads ${bufferList(shared(c.reads, me.writes))} but is not under loop '${loopVar.name}'; compute_at needs every consumer of block '${blockName}' under the loop`,
      );
    }
    if (c.order < me.order)
      scheduleFail(ctx, `block '${name}' reads ${bufferList(shared(c.reads, me.writes))} before block '${blockName}' writes it`);
    const inBinding = new Set<Buffer>();
    for (const e of [...c.realize.iterValues, c.realize.predicate]) loadedBuffers(e, inBinding);
    const hit = shared(inBinding, me.writes);
    if (hit.length > 0) {
      scheduleFail(
        ctx,
        `block '${name}' reads ${bufferList(hit)} in its iterator values or predicate, where no region says which elements it needs`,
      );
    }
  }
  // Moved later, the producer must still read what it read before.
  const last = Math.max(...[...under].map((x) => x.order));
  for (const x of all) {
    if (x === me || x.order < me.order || x.order > last) continue;
    const hit = shared(x.writes, me.reads);
    if (hit.length > 0) {
      scheduleFail(
        ctx,
        `block '${x.realize.block.name}' writes ${bufferList(hit)}, which block '${blockName}' reads, between its place and loop '${loopVar.name}'; moved, it would read the new values`,
      );
    }
  }
  const a = analyzerAt(f, loop);
  a.bind(loop.loopVar, { min: loop.min, extent: loop.extent });
  const required = requiredRegions(f, loop, consumers, me.writes, 'reads', true, a);
  const doms = iterDomains(realize, inferBlockRegions(realize.block).writes, required, a, ctx);
  const children = stmtList(loop.body);
  let position = children.findIndex((c) => consumers.some((x) => c === x.realize || pathTo(c, x.realize)));
  if (position < 0) position = children.length;
  return finish(f, loop, realize, position, nestOver(realize, doms, a), me.writes);
}

/** Moves consumer `block` under `loop`, computing per iteration what the producers under it wrote. */
export function reverseComputeAt(f: PrimFunc, blockName: string, loopVar: PrimVar, ctx: PrimitiveContext): PrimFunc {
  const { realize, loop } = locate(f, blockName, loopVar, ctx);
  const all = blockAccesses(f.body);
  const me = accessOf(all, realize);
  const under = blocksBelow(all, loop);
  requireAllocatedAround(f, loop, me, ctx);
  for (const b of [...me.reads, ...me.writes]) requireNoLooseAccess(f.body, b, ctx);
  const self = shared(me.reads, me.writes);
  if (self.length > 0) scheduleFail(ctx, `block '${blockName}' reads ${bufferList(self)}, which it writes`);
  const producers = all.filter((x) => x !== me && intersects(x.writes, me.reads));
  if (producers.length === 0)
    scheduleFail(ctx, `block '${blockName}' reads no buffer another block writes; it has no producer to follow`);
  for (const p of producers) {
    const name = p.realize.block.name;
    if (!under.has(p)) {
      scheduleFail(
        ctx,
        `block '${name}' writes ${bufferList(shared(p.writes, me.reads))} but is not under loop '${loopVar.name}'; reverse_compute_at needs every producer of block '${blockName}' under the loop`,
      );
    }
    if (p.order > me.order)
      scheduleFail(ctx, `block '${name}' writes ${bufferList(shared(p.writes, me.reads))} after block '${blockName}' reads it`);
  }
  // Moved earlier, the consumer's writes must not be seen (or overwritten) by the blocks it now precedes.
  const first = Math.min(...[...under].map((x) => x.order));
  for (const x of all) {
    if (x === me || x.order < first || x.order > me.order) continue;
    const hit = [...shared(x.reads, me.writes), ...shared(x.writes, me.writes)];
    if (hit.length > 0) {
      scheduleFail(
        ctx,
        `block '${x.realize.block.name}' accesses ${bufferList(new Set(hit))}, which block '${blockName}' writes; moved under loop '${loopVar.name}', the block would write it earlier`,
      );
    }
  }
  const a = analyzerAt(f, loop);
  a.bind(loop.loopVar, { min: loop.min, extent: loop.extent });
  const required = requiredRegions(f, loop, producers, me.reads, 'writes', false, a);
  requireDenseWrites(f, loop, producers, me.reads, realize.block.name, a, ctx);
  const doms = iterDomains(realize, inferBlockRegions(realize.block).reads, required, a, ctx);
  realize.block.iterVars.forEach((iv, i) => {
    if (iv.iterKind !== 'reduce') return;
    const d = doms[i]!;
    if (!(a.canProve(eq(d.min, iv.dom.min)) && a.canProve(eq(d.extent, iv.dom.extent)))) {
      scheduleFail(
        ctx,
        `under loop '${loopVar.name}' the reduction of block '${blockName}' over iterator '${iv.var.name}' would be split across iterations of the loop`,
      );
    }
  });
  requireCoverage(f, loop, realize, doms, ctx);
  return finish(f, loop, realize, stmtList(loop.body).length, nestOver(realize, doms, a), me.reads);
}

/**
 * Fails when the block shares a loop with other blocks and `loop` is not
 * inside it: moved out, its iterations would no longer interleave with
 * theirs as before.
 */
function requireSharedLoopsAround(f: PrimFunc, realize: BlockRealize, loop: For, ctx: PrimitiveContext): void {
  const around = new Set(pathTo(f.body, loop) ?? []);
  for (const s of pathTo(f.body, realize) ?? []) {
    if (s.kind !== 'for' || around.has(s)) continue;
    const other = blocksUnder(s.body).blocks.find((b) => b !== realize);
    if (other) {
      scheduleFail(
        ctx,
        `block '${realize.block.name}' shares loop '${s.loopVar.name}' with block '${other.block.name}'; it can only move under a loop inside the loops it shares`,
      );
    }
  }
}

/** The block and the loop, checked to be apart: the loop neither around the block nor inside a block. */
function locate(f: PrimFunc, blockName: string, loopVar: PrimVar, ctx: PrimitiveContext): { realize: BlockRealize; loop: For } {
  const realize = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, realize, ctx);
  const loop = getLoop(f, loopVar, ctx);
  if ((pathTo(f.body, realize) ?? []).includes(loop)) {
    scheduleFail(
      ctx,
      `loop '${loopVar.name}' is around block '${blockName}'; the block can only move under a loop outside its own nest`,
    );
  }
  const inBlock = (pathTo(f.body, loop) ?? []).find((s) => s.kind === 'block_realize');
  if (inBlock?.kind === 'block_realize') {
    scheduleFail(
      ctx,
      inBlock === realize
        ? `loop '${loopVar.name}' is inside block '${blockName}'`
        : `loop '${loopVar.name}' is inside block '${inBlock.block.name}'; only loops outside every block are supported`,
    );
  }
  requireSharedLoopsAround(f, realize, loop, ctx);
  return { realize, loop };
}

/** Fails unless every buffer the block touches is a parameter or allocated around `loop`, where it moves. */
function requireAllocatedAround(f: PrimFunc, loop: For, me: BlockAccess, ctx: PrimitiveContext): void {
  const around = new Set<Buffer>();
  for (const s of pathTo(f.body, loop) ?? []) if (s.kind === 'allocate') around.add(s.buffer);
  for (const b of [...me.reads, ...me.writes]) {
    if (!isParam(f, b) && !around.has(b)) {
      scheduleFail(
        ctx,
        `'${b.name}' is not allocated around loop '${loop.loopVar.name}', where block '${me.realize.block.name}' would access it`,
      );
    }
  }
}

/** The outermost blocks under `loop`. */
function blocksBelow(all: readonly BlockAccess[], loop: For): Set<BlockAccess> {
  const inside = new Set<Stmt>(blocksUnder(loop.body).blocks);
  return new Set(all.filter((x) => inside.has(x.realize)));
}

/**
 * Per buffer of `buffers`, the region the blocks `others` read (or write) in
 * one iteration of `loop`: their loops below it relaxed, plus the threadIdx
 * loops for a workgroup buffer when `relaxThreads` (compute_at, as in TVM).
 */
function requiredRegions(
  f: PrimFunc,
  loop: For,
  others: readonly BlockAccess[],
  buffers: ReadonlySet<Buffer>,
  side: 'reads' | 'writes',
  relaxThreads: boolean,
  a: Analyzer,
): Map<Buffer, Range[]> {
  const perDim = new Map<Buffer, Range[][]>();
  for (const x of others) {
    const path = pathTo(f.body, x.realize) ?? [];
    const at = path.indexOf(loop);
    const regions = inferBlockRegions(x.realize.block)[side].filter((r) => buffers.has(r.buffer));
    for (const r of regions) {
      const doms = new Map<PrimVar, Range>();
      path.forEach((s, i) => {
        if (s.kind !== 'for') return;
        const threadShared =
          relaxThreads && r.buffer.scope === 'shared' && s.forKind === 'thread_binding' && s.thread?.startsWith('threadIdx');
        if (i > at || threadShared) doms.set(s.loopVar, { min: s.min, extent: s.extent });
      });
      const [relaxed] = relaxedBlockRegions(x.realize, [r], doms, a);
      const lists = perDim.get(r.buffer) ?? r.buffer.shape.map(() => []);
      relaxed!.region.forEach((rg, d) => lists[d]!.push(rg));
      perDim.set(r.buffer, lists);
    }
  }
  return new Map([...perDim].map(([b, lists]) => [b, lists.map((l) => uniteRanges(l, a))]));
}

/**
 * Fails when a producer under `loop` writes, per iteration, fewer elements
 * than the box its written region spans: a strided pattern (a thread's
 * outputs every 8th column). The consumer would then run over the whole box
 * and read elements no producer wrote in that iteration. The elements
 * written are at most the product of the constant extents of the loops below
 * `loop` that the write's indices use; the box's volume must not exceed it.
 * Where an extent is symbolic nothing is proved and the move goes ahead.
 */
function requireDenseWrites(
  f: PrimFunc,
  loop: For,
  producers: readonly BlockAccess[],
  buffers: ReadonlySet<Buffer>,
  blockName: string,
  a: Analyzer,
  ctx: PrimitiveContext,
): void {
  for (const p of producers) {
    const path = pathTo(f.body, p.realize) ?? [];
    const below = path.slice(path.indexOf(loop) + 1).filter((s): s is For => s.kind === 'for');
    const doms = new Map<PrimVar, Range>(below.map((s) => [s.loopVar, { min: s.min, extent: s.extent }]));
    for (const r of inferBlockRegions(p.realize.block).writes) {
      if (!buffers.has(r.buffer)) continue;
      const [relaxed] = relaxedBlockRegions(p.realize, [r], doms, a);
      let volume = 1;
      for (const rg of relaxed!.region) {
        const e = a.simplify(rg.extent);
        volume = e.kind === 'int' ? volume * e.value : NaN;
      }
      const used = new Set<PrimVar>();
      const binding = new Map<PrimVar, PrimExpr>(p.realize.block.iterVars.map((iv, i) => [iv.var, p.realize.iterValues[i]!]));
      for (const rg of r.region) primVars(substitute(rg.min, binding), used);
      let points = 1;
      for (const s of below) {
        if (!used.has(s.loopVar)) continue;
        points = s.extent.kind === 'int' ? points * s.extent.value : NaN;
      }
      if (volume > points) {
        scheduleFail(
          ctx,
          `block '${p.realize.block.name}' writes ${points} elements of '${r.buffer.name}' per iteration of loop '${loop.loopVar.name}', spread over a box of ${volume}: block '${blockName}' would read elements no producer wrote there`,
        );
      }
    }
  }
}

/**
 * Fails unless the new ranges of the consumer's iterators, over all
 * iterations of `loop` and the loops around it, still cover each iterator's
 * domain: every element the consumer wrote before is still written.
 */
function requireCoverage(f: PrimFunc, loop: For, realize: BlockRealize, doms: readonly Range[], ctx: PrimitiveContext): void {
  const around = new Map<PrimVar, Range>();
  for (const s of [...(pathTo(f.body, loop) ?? []), loop])
    if (s.kind === 'for') around.set(s.loopVar, { min: s.min, extent: s.extent });
  const a: Analyzer = analyzerAt(f, f.body);
  realize.block.iterVars.forEach((iv, i) => {
    const r = relaxRange(doms[i]!, around, a);
    const ok = r && a.canProve(le(r.min, iv.dom.min)) && a.canProve(ge(add(r.min, r.extent), add(iv.dom.min, iv.dom.extent)));
    if (!ok) {
      scheduleFail(
        ctx,
        `under loop '${loop.loopVar.name}' block '${realize.block.name}' would no longer cover its domain over iterator '${iv.var.name}': its producers there do not write every element it reads`,
      );
    }
  });
}

/** Inserts `nest` into `loop` at `position`, removes the block from its old place, and places the allocations of `buffers`. */
function finish(
  f: PrimFunc,
  loop: For,
  realize: BlockRealize,
  position: number,
  nest: Stmt,
  buffers: ReadonlySet<Buffer>,
): PrimFunc {
  let body = replaceStmt(f.body, loop, insertIntoLoop(loop, position, nest));
  body = removeStmt(body, realize);
  let out: PrimFunc = { ...f, body };
  for (const b of buffers) out = placeAllocation(out, b, loop.loopVar);
  return withBody(f, out.body);
}

function intersects(a: ReadonlySet<Buffer>, b: ReadonlySet<Buffer>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

function shared(a: ReadonlySet<Buffer>, b: ReadonlySet<Buffer>): Buffer[] {
  return [...a].filter((x) => b.has(x));
}
