/**
 * Reductions. Three shapes, chosen by how the inputs are laid out:
 *
 * - one workgroup per output ("reduction"): the threads of a workgroup stride
 *   over the reduced axis and combine their partial results in workgroup
 *   memory. Right when the reduced axis is the contiguous one (softmax,
 *   layer norm, a sum over the last axis, x · Wᵀ), so neighbouring threads
 *   read neighbouring elements.
 * - threads along the outputs and along the reduction ("gemv"): when the
 *   contiguous axis is an output axis but the outputs are few and the
 *   reduction long (x · W with one row and W K×N). On a software adapter
 *   (the target's gpu.workgroupMemory is 'emulated') a thread takes a block
 *   of neighbouring outputs and the whole reduction instead.
 * - one thread per output ("reduction-per-thread"): each thread runs the whole
 *   reduction for one output. Right for short reductions over many outputs
 *   and when the contiguous axis is an output axis (x · W with W K×N, a
 *   convolution the conv rule could not tile), since then neighbouring
 *   threads read neighbouring elements.
 */
import { type PrimExpr, type PrimVar, primVars, visitPrim } from '../../ir/prim/expr.ts';
import { type BlockRealize, visitStmts } from '../../ir/tir/stmt.ts';
import type { Schedule } from '../schedule.ts';
import { constExtent, type Nest, spatialThenReduce, vectorizeInside } from './nest.ts';
import { ceilPow2, floorPow2, type RuleContext, type ScheduleRule } from './rule.ts';

const PER_THREAD_ROWS = 64;
/** Below this many reduced elements a workgroup per output wastes most of its threads. */
const MIN_COOPERATIVE = 32;

export const crossThreadReductionRule: ScheduleRule = {
  name: 'reduction',
  apply(sch, nest, ctx) {
    const sr = spatialThenReduce(nest);
    if (!sr || sr.reduce.length === 0 || !nest.block.block.init) return false;
    const k = constExtent(sr.reduce);
    if (k !== undefined && k < MIN_COOPERATIVE) return false;
    if (contiguousAxis(nest) !== 'reduce') return false;
    const outputs = constExtent(sr.spatial);
    if (!ctx.stageInWorkgroupMemory && (outputs === undefined || outputs >= PER_THREAD_ROWS)) return false;
    const b = sch.getBlock(nest.block.block.name);
    const loops = sch.getLoops(b);
    const spatial = loops.slice(0, sr.spatial.length);
    const reduce = loops.slice(sr.spatial.length);
    if (spatial.length > 0) sch.bind(spatial.length > 1 ? sch.fuse(...spatial) : spatial[0]!, 'blockIdx.x');
    const r = reduce.length > 1 ? sch.fuse(...reduce) : reduce[0]!;
    const threads = Math.min(ctx.maxThreads, floorPow2(k ?? ctx.maxThreads), 256);
    const [outer, inner] = sch.split(r, [null, threads]);
    sch.reorder(inner!, outer!);
    sch.bind(inner!, 'threadIdx.x');
    sch.crossThreadReduction(b);
    return true;
  },
};

/** Reductions at least this long split across threads when the outputs are few (GEMV). */
const GEMV_MIN_REDUCE = 256;
/** Outputs above this many keep enough threads busy one per output. */
const GEMV_MAX_OUTPUTS = 16384;
const GEMV_OUTPUT_THREADS = 32;
const GEMV_REDUCE_THREADS = 8;

/**
 * GEMV and other long reductions over few outputs whose inputs run along an
 * output axis (decode-style `1×K · K×N`, column sums): 32 threads along the
 * outputs read neighbouring elements, and 8 threads along the reduction each
 * take every 8th step, combining their partial results in workgroup memory.
 * One thread per output would leave most of a GPU idle on N outputs with a
 * K-long loop each.
 */
export const gemvRule: ScheduleRule = {
  name: 'gemv',
  apply(sch, nest, ctx) {
    const sr = spatialThenReduce(nest);
    if (!sr || sr.spatial.length === 0 || sr.reduce.length === 0 || !nest.block.block.init) return false;
    const k = constExtent(sr.reduce);
    const outputs = constExtent(sr.spatial);
    if ((k !== undefined && k < GEMV_MIN_REDUCE) || (outputs !== undefined && outputs > GEMV_MAX_OUTPUTS)) return false;
    if (contiguousAxis(nest) !== 'spatial') return false;
    if (!ctx.stageInWorkgroupMemory) return registerGemv(sch, nest, sr.spatial.length, ctx);
    const axis = ctx.maxThreadsPerAxis;
    const tx = Math.min(GEMV_OUTPUT_THREADS, floorPow2(axis.x), ceilPow2(outputs ?? GEMV_OUTPUT_THREADS));
    const ty = Math.min(GEMV_REDUCE_THREADS, floorPow2(axis.y), floorPow2(ctx.maxThreads / tx));
    const b = sch.getBlock(nest.block.block.name);
    const loops = sch.getLoops(b);
    const spatial = loops.slice(0, sr.spatial.length);
    const reduce = loops.slice(sr.spatial.length);
    const [bx, tj] = sch.split(spatial.length > 1 ? sch.fuse(...spatial) : spatial[0]!, [null, tx]);
    sch.bind(bx!, 'blockIdx.x');
    sch.bind(tj!, 'threadIdx.x');
    const [outer, tr] = sch.split(reduce.length > 1 ? sch.fuse(...reduce) : reduce[0]!, [null, ty]);
    sch.reorder(tr!, outer!);
    sch.bind(tr!, 'threadIdx.y');
    sch.crossThreadReduction(b);
    return true;
  },
};

/** Outputs per thread and threads per workgroup of the GEMV on a software adapter. */
const GEMV_BLOCK = 8;
const GEMV_THREADS = 64;

/**
 * The GEMV on a software adapter (no real workgroup memory): one thread per
 * block of 8 neighbouring outputs along the contiguous axis, accumulated in
 * registers over the whole reduction, no cross-thread combining. The block's
 * loop is vectorized, so each step of the reduction loads one input element
 * and its 8 weights as two vec4s (where the row length is a multiple of 4):
 * on lavapipe 8.8 ms for 1×4096 · 4096×4096 against 14.2 with 4 scalar loads
 * of a block of 4.
 */
function registerGemv(sch: Schedule, nest: Nest, spatialCount: number, ctx: RuleContext): boolean {
  const b = sch.getBlock(nest.block.block.name);
  const loops = sch.getLoops(b);
  const spatial = loops.slice(0, spatialCount);
  const reduce = loops.slice(spatialCount);
  const last = spatial[spatial.length - 1]!;
  const extent = constExtent([nest.loops[spatialCount - 1]!]);
  const block = Math.min(GEMV_BLOCK, floorPow2(extent ?? GEMV_BLOCK));
  const threads = Math.min(
    GEMV_THREADS,
    ctx.maxThreads,
    floorPow2(ctx.maxThreadsPerAxis.x),
    ceilPow2(Math.ceil((extent ?? GEMV_THREADS * block) / block)),
  );
  const [j0, tj, jb] = sch.split(last, [null, threads, block]);
  const r = reduce.length > 1 ? sch.fuse(...reduce) : reduce[0]!;
  sch.reorder(j0!, tj!, r, jb!);
  sch.bind(tj!, 'threadIdx.x');
  const writeBack = sch.cacheWrite(b, 0, 'local');
  sch.reverseComputeAt(writeBack, tj!);
  vectorizeInside(sch, writeBack, tj!);
  vectorizeInside(sch, sch.decomposeReduction(b, r), tj!);
  vectorizeInside(sch, b, r);
  // One workgroup axis (a large grid folds into y at dispatch); fused last, after the moves that check coverage.
  const outer = [...spatial.slice(0, -1), j0!];
  sch.bind(outer.length > 1 ? sch.fuse(...outer) : outer[0]!, 'blockIdx.x');
  return true;
}

export const perThreadReductionRule: ScheduleRule = {
  name: 'reduction-per-thread',
  apply(sch, nest, ctx) {
    const sr = spatialThenReduce(nest);
    if (!sr || sr.spatial.length === 0 || !nest.block.block.init) return false;
    const b = sch.getBlock(nest.block.block.name);
    const loops = sch.getLoops(b).slice(0, sr.spatial.length);
    const fused = loops.length > 1 ? sch.fuse(...loops) : loops[0]!;
    const total = constExtent(sr.spatial);
    const threads = total === undefined ? 64 : Math.min(ctx.maxThreads, 64, ceilPow2(total));
    const [bx, tx] = sch.split(fused, [null, threads]);
    sch.bind(bx!, 'blockIdx.x');
    sch.bind(tx!, 'threadIdx.x');
    // The sum in a register over the whole reduction, written once (not read and written in storage each step).
    const reduce = sch.getLoops(b).slice(2);
    if (reduce.length > 0 && nest.block.block.writes.length === 1) {
      const writeBack = sch.cacheWrite(b, 0, 'local');
      sch.reverseComputeAt(writeBack, tx!);
      sch.decomposeReduction(b, reduce[0]!);
    }
    return true;
  },
};

/**
 * Which kind of iterator the last (contiguous) index of the block's inputs
 * follows: where neighbouring threads should go. An input indexed along an
 * output axis there (the K×N right-hand side of x · W, a conv's input rows)
 * is read coalesced by threads per output, so one such input decides; only
 * when every input runs contiguously along the reduction (softmax rows, a sum
 * over the last axis, x · Wᵀ) does a workgroup per output pay. Inputs that do
 * not move with the reduction are read once per output and do not count.
 */
export function contiguousAxis(nest: Nest): 'spatial' | 'reduce' | undefined {
  const realize: BlockRealize = nest.block;
  const kinds = new Map<PrimVar, 'spatial' | 'reduce'>();
  realize.block.iterVars.forEach((iv) => kinds.set(iv.var, iv.iterKind));
  const seen = new Set<'spatial' | 'reduce'>();
  const consider = (e: PrimExpr): void =>
    visitPrim(e, (x) => {
      if (x.kind !== 'load' || x.indices.length === 0 || x.buffer === writtenBuffer(realize)) return;
      // An input the reduction does not move along (layer norm's mean in its variance) is read once per output.
      const vars = new Set<PrimVar>();
      for (const i of x.indices) primVars(i, vars);
      if (![...vars].some((v) => kinds.get(v) === 'reduce')) return;
      for (const v of primVars(x.indices[x.indices.length - 1]!)) {
        const k = kinds.get(v);
        if (k) seen.add(k);
      }
    });
  visitStmts(realize.block.body, (s) => {
    if (s.kind === 'store') consider(s.value);
    if (s.kind === 'if') consider(s.cond);
  });
  return seen.has('spatial') ? 'spatial' : seen.has('reduce') ? 'reduce' : undefined;
}

function writtenBuffer(realize: BlockRealize): unknown {
  return realize.block.writes[0]?.buffer;
}
