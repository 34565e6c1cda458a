/**
 * Convolution (`Y[n, co, oh, ow] += X[n, c(co, rc), oh·s + rh·d - p, ..] *
 * W[co, rc, rh, ..]`, 1-3 spatial dims, the padding taps skipped by the
 * block's guard): the direct convolution tiled as in TVM's CUDA schedules. A
 * workgroup computes a tile of output channels × output rows × output
 * columns; its threads own a few outputs each, accumulated in registers (a
 * local cache_write, its loops unrolled). The reduction walks the input
 * channels in steps: per step, the input patch the tile's windows cover
 * (halo included) and the matching weights are copied into workgroup memory
 * by all threads together, then every tap reads them from there. The patch
 * tile's padding elements are never copied (the copy's predicate) nor read
 * (the guard). All workgroups are numbered along x, so a large grid folds
 * into y at dispatch.
 *
 * On a software adapter (the target's gpu.workgroupMemory is 'emulated')
 * nothing is staged: see registerConv.
 *
 * A grouped convolution's patch holds only the input channels of the
 * groups its channel tile spans: one group when the tile divides the output
 * channels per group. The channel step is the largest that fits the
 * workgroup's memory; when even one channel does not (a symbolic or huge
 * window, or a grouped convolution whose tile straddles groups so the patch
 * keeps every input channel), the rule does not apply and the reduction
 * rules take the kernel, as they do for outputs of a few pixels (a 1×1 output
 * is a GEMV).
 */
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type For, type PrimFunc, type ThreadTag, visitStmts } from '../../ir/tir/stmt.ts';
import type { LoopRV, Schedule } from '../schedule.ts';
import { blockNames, getBlockRealize } from '../tree.ts';
import { constExtent, productOperands, spatialThenReduce, topLevelStmts, unrollInside } from './nest.ts';
import { ceilPow2, floorPow2, type RuleContext, type ScheduleRule } from './rule.ts';

/** One tiled output dim: threads along it and outputs per thread. */
interface DimTile {
  readonly threads: number;
  readonly perThread: number;
  readonly tag: ThreadTag;
}

interface ConvPlan {
  /** Output channels, output rows (absent for 1-D), output columns. */
  readonly co: DimTile;
  readonly oh?: DimTile;
  readonly ow: DimTile;
  /** Input channels per step of the reduction. */
  readonly channelStep: number;
  /** Loops of the untouched nest that drive output dims (n, co, ..); the reduce loops follow. */
  readonly spatialLoops: number;
}

/** Workgroups at most this wide; more threads leave fewer workgroups to spread over the device. */
const MAX_THREADS = 128;
/** Output pixels per channel below which a tile would be mostly empty (the reduction rules fit better). */
const MIN_PIXELS = 16;

export const convRule: ScheduleRule = {
  name: 'conv',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    // n, co and at least one output dim; the input channels and at least one tap dim.
    if (!blk.init || !sr || sr.spatial.length < 3 || sr.reduce.length < 2) return false;
    const operands = productOperands(blk.body, true);
    if (!operands) return false;
    const outDims = sr.spatial.slice(2);
    const pixels = constExtent(outDims);
    if (pixels !== undefined && pixels < MIN_PIXELS) return false;
    if (!ctx.stageInWorkgroupMemory) return registerConv(sch, blk.name, sr.spatial, ctx);
    const ow = outDims[outDims.length - 1]!;
    const oh = outDims.length > 1 ? outDims[outDims.length - 2] : undefined;
    const axis = ctx.maxThreadsPerAxis;
    const owTile = dimTile(constExtent([ow]), Math.min(8, floorPow2(axis.x)), 'threadIdx.x');
    const ohTile = oh ? dimTile(constExtent([oh]), Math.min(8, floorPow2(axis.y)), 'threadIdx.y') : undefined;
    const spatialThreads = owTile.threads * (ohTile?.threads ?? 1);
    const coThreadsMax = Math.max(1, floorPow2(Math.min(MAX_THREADS, ctx.maxThreads, axis.z * spatialThreads) / spatialThreads));
    const coTile = channelTile(constExtent([sr.spatial[1]!]), coThreadsMax);
    if (coTile.threads * spatialThreads > ctx.maxThreads) return false;

    for (const channelStep of channelSteps(constExtent([sr.reduce[0]!]))) {
      const plan: ConvPlan = { co: coTile, oh: ohTile, ow: owTile, channelStep, spatialLoops: sr.spatial.length };
      const trial = sch.fork();
      if (!tile(trial, blk.name, operands, plan)) return false;
      if (sharedBytes(trial.func, blk.name) > ctx.sharedBytes) continue;
      return tile(sch, blk.name, operands, plan);
    }
    return false;
  },
};

/** Threads along an output dim (a power of two up to `max`), two outputs each on wide dims. */
function dimTile(extent: number | undefined, max: number, tag: ThreadTag): DimTile {
  const threads = Math.min(max, ceilPow2(extent ?? max));
  const perThread = (extent ?? 2 * max) >= 2 * max ? 2 : 1;
  return { threads, perThread, tag };
}

/** Output channels: up to four per thread (each weight read from workgroup memory feeds several outputs). */
function channelTile(extent: number | undefined, maxThreads: number): DimTile {
  const c = extent ?? 64;
  const perThread = c >= 32 ? 4 : c >= 8 ? 2 : 1;
  const threads = Math.min(maxThreads, ceilPow2(Math.ceil(c / perThread)));
  return { threads, perThread, tag: 'threadIdx.z' };
}

/**
 * Input-channel steps to try, largest first: all channels when at most 16,
 * then the powers of two that divide the count (no partial step); a symbolic
 * count tries every power of two, its last step partial.
 */
function channelSteps(channels: number | undefined): number[] {
  const steps = [16, 8, 4, 2, 1];
  if (channels === undefined) return steps;
  const divisors = steps.filter((s) => s <= channels && channels % s === 0);
  return [...new Set([...(channels <= 16 ? [channels] : []), ...divisors])];
}

/**
 * Bytes of workgroup memory the launch of block `blockName` allocates,
 * counted as WebGPU does: each variable rounded up to 16 bytes; 4 per
 * element (at most what WGSL stores an element in; float16 takes 2).
 */
function sharedBytes(f: PrimFunc, blockName: string): number {
  const launch = topLevelStmts(f).find((s) => blockNames(s).includes(blockName));
  let bytes = 0;
  if (!launch) return Infinity;
  visitStmts(launch, (s) => {
    if (s.kind !== 'allocate' || s.buffer.scope !== 'shared') return;
    let n = 1;
    for (const d of s.buffer.shape) n *= d.kind === 'int' ? d.value : Infinity;
    bytes += Math.ceil((n * 4) / 16) * 16;
  });
  return bytes;
}

/** Applies the plan to the block on `sch`; false when an operand cannot be cached. */
function tile(sch: Schedule, blockName: string, operands: readonly Buffer[], plan: ConvPlan): boolean {
  const b = sch.getBlock(blockName);
  const loops = sch.getLoops(b);
  const spatial = loops.slice(0, plan.spatialLoops);
  const [rc, ...taps] = loops.slice(plan.spatialLoops);
  const outDims = spatial.slice(2);
  const extra = [spatial[0]!, ...outDims.slice(0, plan.oh ? -2 : -1)];
  const split3 = (l: LoopRV, t: DimTile): LoopRV[] => sch.split(l, [null, t.threads, t.perThread]);
  const [co0, co1, co2] = split3(spatial[1]!, plan.co);
  const [oh0, oh1, oh2] = plan.oh ? split3(outDims[outDims.length - 2]!, plan.oh) : [];
  const [ow0, ow1, ow2] = split3(outDims[outDims.length - 1]!, plan.ow);
  const [rc0, rc1] = sch.split(rc!, [null, plan.channelStep]);
  const present = (xs: (LoopRV | undefined)[]): LoopRV[] => xs.filter((x): x is LoopRV => x !== undefined);
  sch.reorder(...present([...extra, co0, oh0, ow0, co1, oh1, ow1, rc0, rc1, ...taps, co2, oh2, ow2]));

  // Thread dims of one thread stay serial loops: binding them would add nothing.
  const threadDims: [LoopRV, DimTile][] = [];
  for (const [l, t] of [
    [co1, plan.co],
    [oh1, plan.oh],
    [ow1, plan.ow],
  ] as const) {
    if (l && t && t.threads > 1) threadDims.push([l, t]);
  }
  for (const [l, t] of threadDims) sch.bind(l, t.tag);
  const innermostThread = threadDims.length > 0 ? threadDims[threadDims.length - 1]![0] : ow1!;
  const writeBack = sch.cacheWrite(b, 0, 'local');
  sch.reverseComputeAt(writeBack, innermostThread);
  unrollInside(sch, writeBack, innermostThread);

  for (const operand of operands) {
    const reads = getBlockRealize(sch.func, blockName, { kernel: sch.kernel, primitive: 'cache_read' }).block.reads;
    const index = reads.findIndex((r) => r.buffer === operand);
    if (index < 0) return false;
    const copy = sch.cacheRead(b, index, 'shared');
    sch.computeAt(copy, rc0!);
    const copyLoops = sch.getLoops(copy);
    const inner = copyLoops.slice(copyLoops.findIndex((l) => l.var === rc0!.var) + 1);
    if (inner.length === 0 || threadDims.length === 0) continue;
    const fused = inner.length > 1 ? sch.fuse(...inner) : inner[0]!;
    const parts = sch.split(fused, [null, ...threadDims.map(([, t]) => t.threads)]);
    threadDims.forEach(([, t], i) => sch.bind(parts[i + 1]!, t.tag));
  }
  unrollInside(sch, sch.decomposeReduction(b, rc0!), innermostThread);
  unrollInside(sch, b, taps.length > 0 ? taps[taps.length - 1]! : rc1!);
  // One workgroup axis, so a grid past maxComputeWorkgroupsPerDimension folds into y at dispatch. Fused
  // last: the moves above check coverage, which symbolic extents divided by a fused index would defeat.
  sch.bind(sch.fuse(...present([...extra, co0, oh0, ow0])), 'blockIdx.x');
  return true;
}

/** A thread's output channels, and the threads along output columns and rows, on a software adapter. */
const REG_CHANNELS = 4;
const REG_COLUMN_THREADS = 8;
const REG_ROW_THREADS = 8;
const REG_CHANNEL_THREADS = 2;

/**
 * The convolution on a software adapter (no real workgroup memory): no
 * staging; each thread keeps 4 output channels of one output pixel in
 * registers and reads the input and the weights straight from storage, the
 * window's taps unrolled (a 3×3 window: 36 multiply-adds per input channel in
 * straight-line code, the padding guard tested once per tap). The threads of
 * a workgroup run along the output columns (neighbouring threads read
 * neighbouring input elements: a software adapter's SIMD lanes), rows and
 * channel blocks; the lanes share each weight they load. Larger blocks
 * measured slower on lavapipe (more live registers per lane).
 */
function registerConv(sch: Schedule, blockName: string, spatialLoops: readonly For[], ctx: RuleContext): boolean {
  const outDims = spatialLoops.slice(2);
  const hasOh = outDims.length > 1;
  const axis = ctx.maxThreadsPerAxis;
  const extentOf = (l: For | undefined, d: number): number => (l ? (constExtent([l]) ?? d) : 1);
  const channels = extentOf(spatialLoops[1], 64);
  const coPer = Math.min(REG_CHANNELS, floorPow2(channels));
  const owThreads = Math.min(
    hasOh ? REG_COLUMN_THREADS : 64,
    floorPow2(axis.x),
    ceilPow2(extentOf(outDims[outDims.length - 1], 64)),
  );
  const ohThreads = hasOh ? Math.min(REG_ROW_THREADS, floorPow2(axis.y), ceilPow2(extentOf(outDims[outDims.length - 2], 8))) : 1;
  const coThreads = Math.min(REG_CHANNEL_THREADS, floorPow2(axis.z), ceilPow2(Math.ceil(channels / coPer)));
  if (owThreads * ohThreads * coThreads > ctx.maxThreads) return false;

  const b = sch.getBlock(blockName);
  const loops = sch.getLoops(b);
  const spatial = loops.slice(0, spatialLoops.length);
  const [rc, ...taps] = loops.slice(spatialLoops.length);
  const outs = spatial.slice(2);
  const extra = [spatial[0]!, ...outs.slice(0, hasOh ? -2 : -1)];
  const [co0, co1, co2] = sch.split(spatial[1]!, [null, coThreads, coPer]);
  const [oh0, oh1] = hasOh ? sch.split(outs[outs.length - 2]!, [null, ohThreads]) : [];
  const [ow0, ow1] = sch.split(outs[outs.length - 1]!, [null, owThreads]);
  const present = (xs: (LoopRV | undefined)[]): LoopRV[] => xs.filter((x): x is LoopRV => x !== undefined);
  sch.reorder(...present([...extra, co0, oh0, ow0, co1, oh1, ow1, rc, ...taps, co2]));
  sch.bind(co1!, 'threadIdx.z');
  if (oh1) sch.bind(oh1, 'threadIdx.y');
  sch.bind(ow1!, 'threadIdx.x');
  const writeBack = sch.cacheWrite(b, 0, 'local');
  sch.reverseComputeAt(writeBack, ow1!);
  unrollInside(sch, writeBack, ow1!);
  unrollInside(sch, sch.decomposeReduction(b, rc!), ow1!);
  // The taps and the channel block, written out as far as the unroll budget allows (innermost first).
  unrollInside(sch, b, rc!);
  // One workgroup axis (a large grid folds into y at dispatch); fused last, after the moves that check coverage.
  sch.bind(sch.fuse(...present([...extra, co0, oh0, ow0])), 'blockIdx.x');
  return true;
}
