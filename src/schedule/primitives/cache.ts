/**
 * cache_read and cache_write: stage a buffer through a new one in another
 * memory scope, as TVM does. cache_read copies the region a block reads into
 * `<buf>_<scope>` in a block of that name placed right before the block's
 * launch (its top-level loop nest) — or, when a block of that launch writes
 * the buffer, right after it (see readSite) — and the block reads the copy;
 * cache_write makes the block write `<buf>_<scope>` and copies it back right
 * after the launch. The stage has the region's shape where the region starts
 * at a loop-free position (the whole buffer for a block at the top level, as
 * in TVM) and keeps a dimension whole otherwise; compute_at /
 * reverse_compute_at later move it into a tile loop, where it shrinks to one
 * tile. The new buffer is allocated at the top of the kernel, where TVM keeps
 * a root block's buffers. pad_read is cache_read of a region that reaches past
 * the buffer (a convolution's padding), zeros there, placed for good under a
 * given loop when one is given (see padRead).
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import { isFloat } from '../../ir/dtype.ts';
import {
  add,
  and,
  constInt,
  floatImm,
  ge,
  intImm,
  load,
  lt,
  type PrimExpr,
  type PrimVar,
  primVar,
  sub,
} from '../../ir/prim/expr.ts';
import { type Buffer, buffer, type StorageScope, STORAGE_SCOPES } from '../../ir/tir/buffer.ts';
import {
  block,
  type BlockRealize,
  blockRealize,
  type BufferRegion,
  forLoop,
  iterVar,
  type PrimFunc,
  type Range,
  seq,
  type Stmt,
  store,
  ifThenElse,
  allocate,
  type For,
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getBlockRealize, getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import { accessOf, blockAccesses, freshStageName, looseBuffers, requireOutermost } from './deps-blocks.ts';
import { allocateAtTop, rewriteAccesses, stmtList, topLevelStmtOf } from './deps-tree.ts';
import { analyzerAt } from './nest-utils.ts';
import { allLoopVars, compactDim } from './region-compact.ts';
import { paddingGuards } from './layout.ts';
import { clipRange, relaxedBlockRegions } from './region-relax.ts';

export function cacheRead(
  f: PrimFunc,
  blockName: string,
  readIndex: number,
  scope: StorageScope,
  ctx: PrimitiveContext,
): { func: PrimFunc; block: string } {
  const realize = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, realize, ctx);
  requireScope(scope, ctx);
  const read = pickRegion(realize.block.reads, readIndex, 'read', blockName, ctx);
  const src = read.buffer;
  const site = readSite(f, realize, src, scope, ctx);
  const stage = planStage(f, src, relaxedStage(realize, read, site.relax, site.a), site.a);
  const name = freshStageName(f, `${src.name}_${scope}`);
  const cache = buffer(name, stage.shape, src.dtype, { scope });
  const redirected = rewriteAccesses(realize, src, (indices) => ({ buffer: cache, indices: stage.index(indices) }));
  const copy = copyNest(name, src, stage.region, (v) => store(cache, stage.index(v), load(src, v)));
  const before = site.before === realize ? redirected : replaceStmt(site.before, realize, redirected);
  const body = allocateAtTop(replaceStmt(f.body, site.before, seq([copy, before])), cache);
  return { func: withBody(f, body), block: name };
}

/**
 * pad_read: cache_read of an input the block reads past its bounds (a
 * convolution's window over its padding). The stage holds everything the
 * block reads, zeros outside the buffer, and the block's guards that only
 * kept an accumulation `y += x * w` inside the buffer go, as with
 * transform_layout's `pad` (a padded read adds 0 * w). Along the last axis,
 * when padded, the stage starts and ends on multiples of `multiple` of the
 * buffer's index (more zeros): a copy in vectors of that many lanes then has
 * every vector wholly inside the buffer or wholly in the padding. With a
 * `loop` around the block the stage goes first in that loop's body and holds
 * what one iteration reads (a channel's plane, padded in fast memory right
 * before its tiles read it, instead of the whole input padded first); without
 * one it goes before the block's launch, as cache_read's. An axis whose region
 * is not constant, or lies inside the buffer, is staged as cache_read stages it.
 */
export function padRead(
  f: PrimFunc,
  blockName: string,
  readIndex: number,
  scope: StorageScope,
  multiple: number,
  loopVar: PrimVar | undefined,
  ctx: PrimitiveContext,
): { func: PrimFunc; block: string } {
  const realize = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, realize, ctx);
  requireScope(scope, ctx);
  if (!Number.isInteger(multiple) || multiple < 1) scheduleFail(ctx, `multiple must be a whole number >= 1, not ${multiple}`);
  const read = pickRegion(realize.block.reads, readIndex, 'read', blockName, ctx);
  const src = read.buffer;
  const site = loopVar ? loopSite(f, realize, src, loopVar, ctx) : { ...readSite(f, realize, src, scope, ctx), loop: undefined };
  const a = site.a;
  const [relaxed] = relaxedBlockRegions(realize, [read], site.relax, a);
  const last = src.shape.length - 1;
  const pads: ['pad', number, number, number][] = [];
  const padded = relaxed!.region.map((rg, d): Range | undefined => {
    const whole = constInt(src.shape[d]!);
    let lo = constInt(a.simplify(rg.min));
    const extent = constInt(a.simplify(rg.extent));
    if (lo === undefined || extent === undefined || whole === undefined) return undefined;
    let end = lo + extent;
    if (lo >= 0 && end <= whole) return undefined;
    if (d === last) {
      lo = Math.floor(lo / multiple) * multiple;
      end = lo + Math.ceil((end - lo) / multiple) * multiple;
    }
    pads.push(['pad', d, Math.max(0, -lo), Math.max(0, end - whole)]);
    return { min: intImm(lo), extent: intImm(end - lo) };
  });
  const clipped = relaxed!.region.map((rg, d) => clipRange(rg, src.shape[d]!, a));
  const loopVars = allLoopVars(f.body);
  // Under a loop the stage is placed for good: a dimension may shrink to a tile there (region-compact.ts).
  const plans = clipped.map((r, d) =>
    padded[d] ? undefined : compactDim(r, src.shape[d]!, loopVars, a, site.loop ? 'tile' : 'stage'),
  );
  const region = clipped.map((r, d) => padded[d] ?? r);
  const shape = region.map((r, d) => (padded[d] ? r.extent : (plans[d]?.extent ?? src.shape[d]!)));
  const index = (indices: readonly PrimExpr[]): PrimExpr[] =>
    indices.map((ix, d) => (padded[d] ? a.simplify(sub(ix, padded[d].min)) : (plans[d]?.index(ix) ?? ix)));
  const name = freshStageName(f, `${src.name}_${scope}`);
  const cache = buffer(name, shape, src.dtype, { scope });
  const unguard = paddingGuards(f, src, pads);
  const unguarded = { ...realize, block: { ...realize.block, body: unguard(realize.block.body) } };
  const redirected = rewriteAccesses(unguarded, src, (indices) => ({ buffer: cache, indices: index(indices) }));
  // Inside the buffer along every padded axis the copy reads it; elsewhere it writes a zero.
  const inside = (v: readonly PrimExpr[]): PrimExpr[] =>
    pads.flatMap(([, d, before, after]) => [
      ...(before > 0 ? [ge(v[d]!, 0)] : []),
      ...(after > 0 ? [lt(v[d]!, src.shape[d]!)] : []),
    ]);
  const zero = isFloat(src.dtype) ? floatImm(0, src.dtype) : intImm(0, src.dtype);
  const copy = copyNest(
    name,
    src,
    region,
    (v) => {
      const conds = inside(v);
      const put = (value: PrimExpr): Stmt => store(cache, index(v), value);
      return conds.length === 0
        ? put(load(src, v))
        : ifThenElse(
            conds.reduce((x, y) => and(x, y)),
            put(load(src, v)),
            put(zero),
          );
    },
    (d) => padded[d] && unionWithBuffer(padded[d], src.shape[d]!),
  );
  const before = site.before === realize ? redirected : replaceStmt(site.before, realize, redirected);
  if (!site.loop) {
    const body = allocateAtTop(replaceStmt(f.body, site.before, seq([copy, before])), cache);
    return { func: withBody(f, body), block: name };
  }
  const list = [...stmtList(site.loop.body)];
  list.splice(list.indexOf(site.before), 1, copy, before);
  const loop: For = { ...site.loop, body: allocate(cache, seq(list)) };
  return { func: withBody(f, replaceStmt(f.body, site.loop, loop)), block: name };
}

/** pad_read's site in `loopVar`'s body: right before the statement there that holds the block. */
function loopSite(
  f: PrimFunc,
  realize: BlockRealize,
  src: Buffer,
  loopVar: PrimVar,
  ctx: PrimitiveContext,
): { before: Stmt; relax: Map<PrimVar, Range>; a: Analyzer; loop: For } {
  const name = realize.block.name;
  const loop = getLoop(f, loopVar, ctx);
  const path = pathTo(f.body, realize) ?? [];
  const at = path.indexOf(loop);
  if (at < 0) scheduleFail(ctx, `loop '${loopVar.name}' is not around block '${name}'`);
  if (path.slice(0, at).some((s) => s.kind === 'block_realize')) {
    scheduleFail(ctx, `loop '${loopVar.name}' is inside a block; only loops outside every block are supported`);
  }
  const writer = blockAccesses(loop).find((x) => x.writes.has(src));
  if (writer) {
    scheduleFail(
      ctx,
      `block '${writer.realize.block.name}' writes '${src.name}' under loop '${loopVar.name}'; the copy would miss its values`,
    );
  }
  if (looseBuffers(loop).has(src))
    scheduleFail(ctx, `'${src.name}' is written or read outside any block under loop '${loopVar.name}'`);
  const relax = new Map<PrimVar, Range>();
  for (const s of path.slice(at + 1)) if (s.kind === 'for') relax.set(s.loopVar, { min: s.min, extent: s.extent });
  const a = analyzerAt(f, loop);
  a.bind(loop.loopVar, { min: loop.min, extent: loop.extent });
  // The statement of the loop's body that holds the block (the body itself, or one of its sequence).
  const before = (loop.body.kind === 'seq' ? path[at + 2] : path[at + 1]) ?? realize;
  return { before, relax, a, loop };
}

/** The range of a padded axis's copy iterator: the staged region and the buffer both. */
function unionWithBuffer(r: Range, whole: PrimExpr): Range {
  const lo = Math.min(0, constInt(r.min)!);
  const end = Math.max(constInt(r.min)! + constInt(r.extent)!, constInt(whole)!);
  return { min: intImm(lo), extent: intImm(end - lo) };
}

/**
 * Where a read stage goes (TVM's CacheLocDetector): right before the block's
 * launch, or, when a block of the launch writes the buffer (an earlier stage
 * of a multi-level cache), right before the subtree holding the block in the
 * sequence it shares with that writer. The stage covers what the block reads
 * below that point (for a workgroup buffer, for all threads of the group).
 */
function readSite(
  f: PrimFunc,
  realize: BlockRealize,
  src: Buffer,
  scope: StorageScope,
  ctx: PrimitiveContext,
): { before: Stmt; relax: Map<PrimVar, Range>; a: Analyzer } {
  const name = realize.block.name;
  const top = topLevelStmtOf(f.body, realize);
  if (looseBuffers(top).has(src))
    scheduleFail(ctx, `'${src.name}' is written or read outside any block in the loop nest of block '${name}'`);
  const writers = blockAccesses(top).filter((x) => x.writes.has(src));
  if (writers.some((x) => x.realize === realize)) {
    scheduleFail(ctx, `block '${name}' reads and writes '${src.name}'; a read cache would not see its own writes`);
  }
  if (writers.length > 1) {
    scheduleFail(
      ctx,
      `${writers.length} blocks in the loop nest of block '${name}' write '${src.name}'; cache_read needs at most one`,
    );
  }
  const path = pathTo(f.body, realize) ?? [];
  let before: Stmt = top;
  if (writers.length === 1) {
    const w = writers[0]!.realize;
    const wpath = pathTo(f.body, w) ?? [];
    let i = 0;
    while (i < path.length && i < wpath.length && path[i] === wpath[i]) i++;
    const lca = path[i - 1]!;
    const mine = path[i] ?? realize;
    if (lca.kind !== 'seq' || lca.stmts.indexOf(wpath[i] ?? w) > lca.stmts.indexOf(mine)) {
      scheduleFail(
        ctx,
        `block '${w.block.name}', which writes '${src.name}', does not run before block '${name}' in a sequence they share; the copy has no place between them`,
      );
    }
    before = mine;
  }
  const at = before === realize ? path.length : path.indexOf(before);
  const relax = new Map<PrimVar, Range>();
  path.forEach((s, i) => {
    if (s.kind !== 'for') return;
    const threads = scope === 'shared' && s.forKind === 'thread_binding' && !!s.thread?.startsWith('threadIdx');
    if (i >= at || threads) relax.set(s.loopVar, { min: s.min, extent: s.extent });
  });
  return { before, relax, a: analyzerAt(f, before) };
}

export function cacheWrite(
  f: PrimFunc,
  blockName: string,
  writeIndex: number,
  scope: StorageScope,
  ctx: PrimitiveContext,
): { func: PrimFunc; block: string } {
  const realize = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, realize, ctx);
  requireScope(scope, ctx);
  const dst = pickRegion(realize.block.writes, writeIndex, 'write', blockName, ctx).buffer;
  if (looseBuffers(f.body).has(dst)) scheduleFail(ctx, `'${dst.name}' is written or read outside any block`);
  const all = blockAccesses(f.body);
  const me = accessOf(all, realize);
  const other = all.find((x) => x !== me && x.writes.has(dst));
  if (other) {
    scheduleFail(
      ctx,
      `'${dst.name}' is also written by block '${other.realize.block.name}'; copying the cache back would overwrite its values`,
    );
  }
  if (me.reads.has(dst)) {
    scheduleFail(
      ctx,
      `block '${blockName}' reads '${dst.name}' other than as the accumulator of its reduction; a write cache would not hold the values written before`,
    );
  }
  const top = topLevelStmtOf(f.body, realize);
  const reader = blockAccesses(top).find((x) => x !== me && x.reads.has(dst));
  if (reader) {
    scheduleFail(
      ctx,
      `block '${reader.realize.block.name}', in the same loop nest as block '${blockName}', reads '${dst.name}'; the copy back after the nest would come too late for it`,
    );
  }
  const write = realize.block.writes[writeIndex]!;
  const a = analyzerAt(f, f.body);
  const stage = planStage(f, dst, relaxedStage(realize, write, loopsAround(f, realize), a), a);
  const name = freshStageName(f, `${dst.name}_${scope}`);
  const cache = buffer(name, stage.shape, dst.dtype, { scope });
  const redirected = rewriteAccesses(realize, dst, (indices) => ({ buffer: cache, indices: stage.index(indices) }));
  const copy = copyNest(name, dst, stage.region, (v) => store(dst, v, load(cache, stage.index(v))));
  let body = replaceStmt(f.body, top, seq([replaceStmt(top, realize, redirected), copy]));
  body = allocateAtTop(body, cache);
  return { func: withBody(f, body), block: name };
}

function requireScope(scope: StorageScope, ctx: PrimitiveContext): void {
  if (!STORAGE_SCOPES.includes(scope))
    scheduleFail(ctx, `unknown storage scope '${String(scope)}' (expected ${STORAGE_SCOPES.join(', ')})`);
}

function pickRegion(
  regions: readonly BufferRegion[],
  index: number,
  what: 'read' | 'write',
  blockName: string,
  ctx: PrimitiveContext,
): BufferRegion {
  const r = Number.isInteger(index) ? regions[index] : undefined;
  if (!r) {
    const list = regions.map((x, i) => `${i}: '${x.buffer.name}'`).join(', ');
    scheduleFail(
      ctx,
      `${what} index ${index} is out of range: block '${blockName}' ${what}s ${regions.length} buffer${regions.length === 1 ? '' : 's'}${list ? ` (${list})` : ''}`,
    );
  }
  return r;
}

/** Every loop around `realize`: a stage at the launch covers the whole nest. */
function loopsAround(f: PrimFunc, realize: BlockRealize): Map<PrimVar, Range> {
  const out = new Map<PrimVar, Range>();
  for (const s of pathTo(f.body, realize) ?? []) if (s.kind === 'for') out.set(s.loopVar, { min: s.min, extent: s.extent });
  return out;
}

/** What `realize` touches of region `r` while the loops of `relax` run, cut to the buffer. */
function relaxedStage(realize: BlockRealize, r: BufferRegion, relax: ReadonlyMap<PrimVar, Range>, a: Analyzer): Range[] {
  const [relaxed] = relaxedBlockRegions(realize, [r], relax, a);
  return relaxed!.region.map((rg, d) => clipRange(rg, r.buffer.shape[d]!, a));
}

/** The stage buffer's shape and indexing: each dimension shrunk to the region where it can be (region-compact.ts). */
interface Stage {
  readonly region: readonly Range[];
  readonly shape: readonly PrimExpr[];
  readonly index: (indices: readonly PrimExpr[]) => PrimExpr[];
}

function planStage(f: PrimFunc, b: Buffer, region: readonly Range[], a: Analyzer): Stage {
  const loopVars = allLoopVars(f.body);
  const plans = region.map((r, d) => compactDim(r, b.shape[d]!, loopVars, a, 'stage'));
  return {
    region,
    shape: plans.map((p, d) => p?.extent ?? b.shape[d]!),
    index: (indices) => indices.map((ix, d) => plans[d]?.index(ix) ?? ix),
  };
}

/**
 * `for ax0, ax1, ... { block name(v0, v1, ...) { body(v) } }` over `region`
 * of buffer `b`; as in TVM the iterators range over the buffer's dimensions
 * and are bound to the region's start plus the loop.
 */
function copyNest(
  name: string,
  b: Buffer,
  region: readonly Range[],
  body: (v: readonly PrimExpr[]) => Stmt,
  domain: (d: number) => Range | undefined = () => undefined,
): Stmt {
  const loops = region.map((_, d) => primVar(`ax${d}`));
  const iters = b.shape.map((extent, d) =>
    iterVar(primVar(`v${d}`, extent.dtype), domain(d) ?? { min: intImm(0, extent.dtype), extent }, 'spatial'),
  );
  const values = region.map((r, d) => {
    const ax = loops[d]!;
    if (r.min.kind !== 'int') return add(r.min, ax);
    if (r.min.value < 0) return sub(ax, intImm(-r.min.value, r.min.dtype));
    return r.min.value === 0 ? ax : add(ax, r.min);
  });
  const realize = blockRealize(values, block({ name, iterVars: iters, body: body(iters.map((iv) => iv.var)) }));
  return loops.reduceRight<Stmt>((inner, v, d) => forLoop(v, intImm(0, v.dtype), region[d]!.extent, inner), realize);
}
