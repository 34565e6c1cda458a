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
 * nothing is staged in workgroup memory; each thread keeps a larger block of
 * outputs in registers, over a copy of the input padded by a launch of its
 * own: see registerConv.
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
import { type BufferLoad, constInt, type PrimExpr, type PrimVar, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import { primExprEqual } from '../../ir/structural.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type For, type PrimFunc, type ThreadTag, visitStmts } from '../../ir/tir/stmt.ts';
import type { LoopRV, Schedule } from '../schedule.ts';
import { blockNames, getBlockRealize } from '../tree.ts';
import { panelAlong } from './cpu-operands.ts';
import { constExtent, productOperands, spatialThenReduce, topLevelStmts, unrollInside, vectorizeInside } from './nest.ts';
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
    if (!ctx.stageInWorkgroupMemory) return registerConv(sch, blk.name, sr.spatial, sr.reduce, operands, ctx);
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

/** Elements of the WGSL generator's vector loads (codegen/wgsl/lanes.ts). */
const GPU_VECTOR = 4;
/** Outputs a thread keeps in registers at most on a software adapter (those spilled stay cheap next to a load). */
const REG_MAX_OUTPUTS = 224;
/** Multiply-adds written out per step of the window's rows at most: the shader compilers' time grows fast with it. */
const REG_MAX_UNROLLED = 672;
/** Workgroups wanted at least: the adapter spreads workgroups over its threads. */
const REG_MIN_WORKGROUPS = 8;
/** Invocations a software adapter runs together, in the SIMD lanes of one thread. */
const REG_LANES = 8;
/** Threads per workgroup axis considered. */
const REG_AXIS_THREADS = [1, 2, 4, 8, 16];

/** A thread's block of outputs on a software adapter, and the workgroup's threads. */
interface RegisterPlan {
  /** Output channels, rows and columns per thread. */
  readonly channels: number;
  readonly rows: number;
  readonly cols: number;
  /** Threads along output columns (threadIdx.x) and rows (threadIdx.y). */
  readonly tx: number;
  readonly ty: number;
}

/** The extents the plan is chosen for; symbolic ones are undefined. */
interface ConvExtents {
  readonly batch: number | undefined;
  readonly channels: number | undefined;
  /** Output channels that share their input channels (a group's); all of them when not grouped. */
  readonly channelsPerGroup: number | undefined;
  /** Output rows (1 for a 1-D convolution: the plan's rows and ty are then 1) and columns. */
  readonly rows: number | undefined;
  readonly cols: number | undefined;
  /** The window's last extent (its columns). */
  readonly windowCols: number;
}

/**
 * The thread block that reads least per multiply-add, as a software adapter
 * wants (lavapipe: each load is a gather over the SIMD lanes, dearer than
 * several multiply-adds; registers are cheap). Per step of the window's rows a
 * thread loads rows × (cols + window − 1) inputs and window × channels weights
 * for rows × cols × channels × window multiply-adds. The cost is that ratio,
 * times the work wasted on tiles past the output's edges (twice: such a tile
 * tests every multiply-add against the edge), over the share of
 * SIMD lanes the workgroup fills, raised when the launch has fewer workgroups
 * than the adapter's threads want (symbolic extents count as a large, evenly
 * divided dimension, a symbolic batch as 1).
 */
export function registerPlan(e: ConvExtents, maxThreads: number): RegisterPlan {
  const cols = e.cols ?? 64;
  const rows = e.rows ?? 64;
  const channels = e.channels ?? 64;
  const perGroup = e.channelsPerGroup ?? channels;
  const over = (extent: number | undefined, tile: number): number =>
    extent === undefined ? 1 : (Math.ceil(extent / tile) * tile) / extent;
  let best: { plan: RegisterPlan; cost: number; outputs: number } | undefined;
  // Along a symbolic extent every multiply-add of a block tests the edge: small blocks there.
  const most = (extent: number | undefined, known: number, symbolic: number): number =>
    extent === undefined ? symbolic : Math.min(known, extent);
  for (const c of [1, 2, 4, 8]) {
    if ((c > 1 && c > perGroup) || c > most(e.channels, 8, 4)) continue;
    for (let p = 1; p <= most(e.cols, 16, 4); p++) {
      for (let r = 1; r <= most(e.rows, 16, 2); r++) {
        const outputs = c * r * p;
        if (outputs > REG_MAX_OUTPUTS || outputs * e.windowCols > REG_MAX_UNROLLED) continue;
        if (perGroup === 1 && outputs > Number(process.env.DWMAX ?? 1e9)) continue;
        const loads = r * (p + e.windowCols - 1) + e.windowCols * c;
        const perLoad = loads / (outputs * e.windowCols);
        const axis = (extent: number, tile: number): Set<number> =>
          new Set([...REG_AXIS_THREADS, Math.ceil(extent / tile)].filter((t) => t <= REG_AXIS_THREADS.at(-1)!));
        for (const tx of axis(cols, p)) {
          for (const ty of axis(rows, r)) {
            const threads = tx * ty;
            if (threads > maxThreads) continue;
            const lanes = threads / (Math.ceil(threads / REG_LANES) * REG_LANES);
            const waste = over(e.cols, tx * p) * over(e.rows, ty * r) * over(e.channels, c);
            const workgroups = Math.ceil(cols / (tx * p)) * Math.ceil(rows / (ty * r)) * Math.ceil(channels / c) * (e.batch ?? 1);
            // A tile past the edge (or maybe past it: a symbolic extent) also tests every multiply-add of the
            // block (its where predicate).
            const symbolicSplit = (e.cols === undefined && tx * p > 1) || (e.rows === undefined && ty * r > 1);
            const guarded = waste > 1 || symbolicSplit ? 2 : 1;
            const cost = ((perLoad * waste * guarded) / lanes) * Math.max(1, REG_MIN_WORKGROUPS / workgroups);
            if (!best || cost < best.cost - 1e-12 || (Math.abs(cost - best.cost) <= 1e-12 && outputs < best.outputs)) {
              best = { plan: { channels: c, rows: r, cols: p, tx, ty }, cost, outputs };
            }
          }
        }
      }
    }
  }
  return best!.plan;
}

/**
 * The convolution on a software adapter (no real workgroup memory, every load
 * a gather over the SIMD lanes): no staging; each thread keeps a block of
 * output channels × rows × columns in registers (registerPlan), the window's
 * columns and the block written out per step of its rows, so each input and
 * weight a step needs is loaded once (the shader compiler merges the equal
 * loads of straight-line code) and feeds many multiply-adds. The input is
 * first copied with its padding as zeros (pad_read, a launch of its own), so
 * the taps need no bounds tests and the step stays one straight run. The
 * threads of a workgroup run along output columns and rows; output channels
 * and the tiles go to workgroups. A constant filter is packed at build time
 * into [O/c, C, KH, KW, c] when the block's c channels are a multiple of 4:
 * the channels become the block's innermost, vectorized loop and a tap's
 * weights two vec4 loads instead of 8 scalar ones (interleaved on lavapipe:
 * the grouped 3×3 conv, 128 channels in 4 groups over 28×28, 13.1 → 10.5 ms;
 * the 3×3 64→64 conv over 56×56 level, 41.9 → 40.5, its loads mostly inputs).
 */
function registerConv(
  sch: Schedule,
  blockName: string,
  spatialLoops: readonly For[],
  reduceLoops: readonly For[],
  operands: readonly Buffer[],
  ctx: RuleContext,
): boolean {
  const extent = (l: For): number | undefined => constExtent([l]);
  const channels = extent(spatialLoops[1]!);
  const roles = convRoles(sch, blockName, operands, channels);
  if (!roles) return false;
  const outDims = spatialLoops.slice(2);
  const hasOh = outDims.length > 1;
  const windowCols = reduceLoops.length > 1 ? (extent(reduceLoops[reduceLoops.length - 1]!) ?? 3) : 1;
  const plan = registerPlan(
    {
      batch: extent(spatialLoops[0]!),
      channels,
      channelsPerGroup: roles.channelsPerGroup,
      rows: hasOh ? extent(outDims[outDims.length - 2]!) : 1,
      cols: extent(outDims[outDims.length - 1]!),
      windowCols,
    },
    Math.min(ctx.maxThreads, ctx.maxThreadsPerAxis.x * (hasOh ? ctx.maxThreadsPerAxis.y : 1)),
  );
  if (plan.tx > ctx.maxThreadsPerAxis.x || plan.ty > ctx.maxThreadsPerAxis.y) return false;
  // A constant filter packed [O/c, C, KH, KW, c]: a tap's weights for the block's c output channels are
  // one contiguous run, read as vec4s with the channels the innermost (vectorized) loop of the block.
  const packed = plan.channels % GPU_VECTOR === 0 && packFilter(sch, blockName, roles.weight, plan.channels, ctx);

  // The input with its padding as zeros, so the taps need no bounds test (when there is padding to add:
  // tried on a fork first, as pad_read otherwise stages a plain copy).
  const trial = sch.fork();
  const trialName = trial.padRead(trial.getBlock(blockName), readIndex(trial, blockName, roles.data), 'global').name;
  const trialStage = allocatedBuffer(trial.func, trialName);
  // A stage of known size past what one binding may hold is left out (symbolic ones are sized at run time).
  const stageBytes = trialStage ? 4 * constElements(trialStage.shape) : 0;
  const padding = trialStage !== undefined && !sameShape(trialStage.shape, roles.data.shape);
  if (padding && stageBytes <= (ctx.target.limits.maxStorageBufferBindingSize ?? Infinity)) {
    const stage = sch.padRead(sch.getBlock(blockName), readIndex(sch, blockName, roles.data), 'global');
    const [g, t] = sch.split(sch.fuse(...sch.getLoops(stage)), [null, 64]);
    sch.bind(g!, 'blockIdx.x');
    sch.bind(t!, 'threadIdx.x');
  }
  const b = sch.getBlock(blockName);

  const loops = sch.getLoops(b);
  const spatial = loops.slice(loops.length - spatialLoops.length - reduceLoops.length, loops.length - reduceLoops.length);
  const [rc, ...taps] = loops.slice(loops.length - reduceLoops.length);
  const outs = spatial.slice(2);
  const extra = [spatial[0]!, ...outs.slice(0, hasOh ? -2 : -1)];
  const [co0, co2] = sch.split(spatial[1]!, [null, plan.channels]);
  const [oh0, oh1, oh2] = hasOh ? sch.split(outs[outs.length - 2]!, [null, plan.ty, plan.rows]) : [];
  const [ow0, ow1, ow2] = sch.split(outs[outs.length - 1]!, [null, plan.tx, plan.cols]);
  const present = (xs: (LoopRV | undefined)[]): LoopRV[] => xs.filter((x): x is LoopRV => x !== undefined);
  const block = packed ? [oh2, ow2, co2] : [co2, oh2, ow2];
  sch.reorder(...present([...extra, co0, oh0, ow0, oh1, ow1, rc, ...taps, ...block]));
  if (oh1) sch.bind(oh1, 'threadIdx.y');
  sch.bind(ow1!, 'threadIdx.x');
  const outputs = plan.channels * plan.rows * plan.cols;
  const writeBack = sch.cacheWrite(b, 0, 'local');
  sch.reverseComputeAt(writeBack, ow1!);
  unrollInside(sch, writeBack, ow1!, outputs);
  unrollInside(sch, sch.decomposeReduction(b, rc!), ow1!, outputs);
  // The window's last dimension and the thread's block written out per step of the others.
  const step = taps.length > 1 ? taps[taps.length - 2]! : rc!;
  if (packed) vectorizeInside(sch, b, step, (outputs * windowCols) / plan.channels);
  else unrollInside(sch, b, step, outputs * windowCols);
  // One workgroup axis (a large grid folds into y at dispatch); fused last, after the moves that check coverage.
  sch.bind(sch.fuse(...present([...extra, co0, oh0, ow0])), 'blockIdx.x');
  return true;
}

/**
 * Packs a constant filter [O, C, KH, KW] as [O/c, C, KH, KW, c] (the schedule stage rewrites the constant
 * at build time); false when it is not a constant or O is not a multiple of c.
 */
function packFilter(sch: Schedule, blockName: string, weight: Buffer, c: number, ctx: RuleContext): boolean {
  const blk = getBlockRealize(sch.func, blockName, { kernel: sch.kernel, primitive: 'transform_layout' }).block;
  const co = blk.iterVars[1]?.var;
  let load: BufferLoad | undefined;
  visitStmts(blk.body, (s) => {
    if (s.kind === 'store')
      visitPrim(s.value, (x) => {
        if (x.kind === 'load' && x.buffer === weight) load ??= x;
      });
  });
  const pack = co && load ? panelAlong(sch, load, co, c, ctx) : undefined;
  if (!pack) return false;
  sch.transformLayout(pack.param, pack.map);
  return true;
}

/**
 * The input and the weight of a convolution block (the input is the operand
 * the batch iterator indexes), and how many output channels share their input
 * channels: all of them unless the input's index involves the output channel
 * (a grouped convolution: a group's worth, read off the weight's shape).
 */
function convRoles(
  sch: Schedule,
  blockName: string,
  operands: readonly Buffer[],
  channels: number | undefined,
): { data: Buffer; weight: Buffer; channelsPerGroup: number | undefined } | undefined {
  const blk = getBlockRealize(sch.func, blockName, { kernel: sch.kernel, primitive: 'get_block' }).block;
  const [batch, co] = blk.iterVars.map((iv) => iv.var);
  if (!batch || !co || operands.length !== 2) return undefined;
  const uses = (buf: Buffer, dim: number, v: PrimVar): boolean =>
    blk.reads.some((r) => r.buffer === buf && r.region[dim] !== undefined && usesVar(r.region[dim].min, v));
  const data = operands.find((o) => uses(o, 0, batch));
  const weight = operands.find((o) => o !== data);
  if (!data || !weight) return undefined;
  if (!uses(data, 1, co)) return { data, weight, channelsPerGroup: channels };
  // OIHW: O·(C/G)/C = O/G; a transposed convolution's [C, O/G, ..] holds it at 1.
  const [w0, w1] = [constInt(weight.shape[0]!), constInt(weight.shape[1]!)];
  const c = constInt(data.shape[1]!);
  const perGroup = uses(weight, 0, co)
    ? channels !== undefined && w1 !== undefined && c
      ? (channels * w1) / c
      : undefined
    : w1 !== undefined && w0 !== undefined
      ? w1
      : undefined;
  return { data, weight, channelsPerGroup: perGroup !== undefined && Number.isInteger(perGroup) ? perGroup : undefined };
}

function readIndex(sch: Schedule, blockName: string, buf: Buffer): number {
  return getBlockRealize(sch.func, blockName, { kernel: sch.kernel, primitive: 'pad_read' }).block.reads.findIndex(
    (r) => r.buffer === buf,
  );
}

function allocatedBuffer(f: PrimFunc, name: string): Buffer | undefined {
  let found: Buffer | undefined;
  visitStmts(f.body, (s) => {
    if (s.kind === 'allocate' && s.buffer.name === name) found = s.buffer;
  });
  return found;
}

/** Elements of a shape, 0 when symbolic. */
function constElements(shape: readonly PrimExpr[]): number {
  let n = 1;
  for (const d of shape) n *= constInt(d) ?? 0;
  return n;
}

function sameShape(a: readonly PrimExpr[], b: readonly PrimExpr[]): boolean {
  return a.length === b.length && a.every((d, i) => primExprEqual(d, b[i]!));
}
