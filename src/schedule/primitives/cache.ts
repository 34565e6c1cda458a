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
 * a root block's buffers.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import { add, intImm, load, type PrimExpr, type PrimVar, primVar } from '../../ir/prim/expr.ts';
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
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getBlockRealize, pathTo, replaceStmt, withBody } from '../tree.ts';
import { accessOf, blockAccesses, freshStageName, looseBuffers, requireOutermost } from './deps-blocks.ts';
import { allocateAtTop, rewriteAccesses, topLevelStmtOf } from './deps-tree.ts';
import { analyzerAt } from './nest-utils.ts';
import { allLoopVars, compactDim } from './region-compact.ts';
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
function copyNest(name: string, b: Buffer, region: readonly Range[], body: (v: readonly PrimExpr[]) => Stmt): Stmt {
  const loops = region.map((_, d) => primVar(`ax${d}`));
  const iters = b.shape.map((extent, d) =>
    iterVar(primVar(`v${d}`, extent.dtype), { min: intImm(0, extent.dtype), extent }, 'spatial'),
  );
  const values = region.map((r, d) => {
    const ax = loops[d]!;
    if (r.min.kind !== 'int') return add(r.min, ax);
    return r.min.value === 0 ? ax : add(ax, r.min);
  });
  const realize = blockRealize(values, block({ name, iterVars: iters, body: body(iters.map((iv) => iv.var)) }));
  return loops.reduceRight<Stmt>((inner, v, d) => forLoop(v, intImm(0, v.dtype), region[d]!.extent, inner), realize);
}
