/**
 * cache_read and cache_write: stage a buffer through a new one in another
 * memory scope, as TVM does. cache_read copies the region a block reads into
 * `<buf>_<scope>` in a block of that name placed right before the block's
 * launch (its top-level loop nest), and the block reads the copy; cache_write
 * makes the block write `<buf>_<scope>` and copies it back right after the
 * launch. The stage covers everything the block touches in its nest, so
 * compute_at / reverse_compute_at can later move it into a tile loop, where
 * it shrinks to one tile. The new buffer is allocated at the top of the
 * kernel, where TVM keeps a root block's buffers.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { add, intImm, load, type PrimExpr, type PrimVar, primVar, sub } from '../../ir/prim/expr.ts';
import { buffer, type StorageScope, STORAGE_SCOPES } from '../../ir/tir/buffer.ts';
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
  const src = pickRegion(realize.block.reads, readIndex, 'read', blockName, ctx).buffer;
  const top = topLevelStmtOf(f.body, realize);
  // The copy runs before the whole launch: nothing in the launch may change what it copies.
  const writer = blockAccesses(top).find((x) => x.writes.has(src));
  if (writer) {
    scheduleFail(
      ctx,
      writer.realize === realize
        ? `block '${blockName}' reads and writes '${src.name}'; a read cache would not see its own writes`
        : `block '${writer.realize.block.name}', in the same loop nest as block '${blockName}', writes '${src.name}'; a copy made before the nest would miss it`,
    );
  }
  if (looseBuffers(top).has(src))
    scheduleFail(ctx, `'${src.name}' is written or read outside any block in the loop nest of block '${blockName}'`);
  const region = stageRegion(f, realize, realize.block.reads[readIndex]!);
  const name = freshStageName(f, `${src.name}_${scope}`);
  const cache = buffer(
    name,
    region.map((r) => r.extent),
    src.dtype,
    { scope },
  );
  const redirected = rewriteAccesses(realize, src, (indices) => ({ buffer: cache, indices: shift(indices, region) }));
  const copy = copyNest(name, region, (v) => store(cache, shift(v, region), load(src, v)));
  let body = replaceStmt(f.body, top, seq([copy, replaceStmt(top, realize, redirected)]));
  body = allocateAtTop(body, cache);
  return { func: withBody(f, body), block: name };
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
  const region = stageRegion(f, realize, realize.block.writes[writeIndex]!);
  const name = freshStageName(f, `${dst.name}_${scope}`);
  const cache = buffer(
    name,
    region.map((r) => r.extent),
    dst.dtype,
    { scope },
  );
  const redirected = rewriteAccesses(realize, dst, (indices) => ({ buffer: cache, indices: shift(indices, region) }));
  const copy = copyNest(name, region, (v) => store(dst, v, load(cache, shift(v, region))));
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

/** What `realize` touches of region `r` over its whole loop nest, cut to the buffer: the extent of the stage. */
function stageRegion(f: PrimFunc, realize: BlockRealize, r: BufferRegion): Range[] {
  const doms = new Map<PrimVar, Range>();
  for (const s of pathTo(f.body, realize) ?? []) if (s.kind === 'for') doms.set(s.loopVar, { min: s.min, extent: s.extent });
  const a = analyzerAt(f, f.body);
  const [relaxed] = relaxedBlockRegions(realize, [r], doms, a);
  return relaxed!.region.map((rg, d) => clipRange(rg, r.buffer.shape[d]!, a));
}

/** Indices into the stage buffer: the region's start subtracted. */
function shift(indices: readonly PrimExpr[], region: readonly Range[]): PrimExpr[] {
  const a = new Analyzer();
  return indices.map((ix, d) => {
    const m = region[d]!.min;
    return m.kind === 'int' && m.value === 0 ? ix : a.simplify(sub(ix, m));
  });
}

/** `for ax0, ax1, ... { block name(v0, v1, ...) { body(v) } }` over `region`. */
function copyNest(name: string, region: readonly Range[], body: (v: readonly PrimExpr[]) => Stmt): Stmt {
  const a = new Analyzer();
  const loops = region.map((_, d) => primVar(`ax${d}`));
  const iters = region.map((r, d) => iterVar(primVar(`v${d}`, r.min.dtype), r, 'spatial'));
  const values = region.map((r, d) =>
    r.min.kind === 'int' && r.min.value === 0 ? loops[d]! : a.simplify(add(r.min, loops[d]!)),
  );
  const realize = blockRealize(values, block({ name, iterVars: iters, body: body(iters.map((iv) => iv.var)) }));
  return loops.reduceRight<Stmt>((inner, v, d) => forLoop(v, intImm(0, v.dtype), region[d]!.extent, inner), realize);
}
