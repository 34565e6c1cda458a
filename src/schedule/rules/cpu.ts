/**
 * The CPU rules (the wasm target): work spread over worker threads by a
 * `parallel` outer loop (the code generator hands its range out in parts),
 * and the innermost loop over contiguous elements `vectorized`, four lanes of
 * 32 bits per SIMD register. The matmul rule is the register-blocked
 * micro-kernel of MLAS and XNNPACK's wasmsimd GEMMs: an MR×NR tile of outputs
 * accumulates in registers (a local cache_write, its loops unrolled and
 * vectorized along the contiguous output axis) while the reduction runs,
 * one A value broadcast against a row of NR contiguous B values per step.
 */
import { constInt, mapPrimChildren, type PrimExpr, type PrimVar, usesVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type For, type Stmt } from '../../ir/tir/stmt.ts';
import type { BlockRV, LoopRV, Schedule } from '../schedule.ts';
import { constExtent, type Nest, productOperands, spatialThenReduce } from './nest.ts';
import type { RuleContext, ScheduleRule } from './rule.ts';
import type { TargetDescription } from '../../ir/target.ts';
import { getBlockRealize, getLoop } from '../tree.ts';
import {
  LANES,
  iterDrivenBy,
  guardedStore,
  stride,
  contiguousAlong,
  broadcastLoad,
  movingLoad,
  loadsOf,
  panelLayout,
  panelAlong,
  axisBeforeRemainder,
  padInput,
  padsPerPlane,
  subsampleInput,
  broadcastPanel,
} from './cpu-operands.ts';

/** The CPU facts the rules read from the target file, with defaults for a common x86-64 core. */
interface CpuFacts {
  /** 32-bit lanes per vector register. */
  readonly lanes: number;
  /** Vector registers the engine can allocate (x86-64: 16 XMM, one kept as scratch by V8). */
  readonly vectorRegisters: number;
  readonly l1Bytes: number;
  readonly l2Bytes: number;
}

function cpuFacts(target: TargetDescription): CpuFacts {
  const limit = (k: string, d: number): number => target.limits[k] ?? d;
  return {
    lanes: Math.max(1, Math.floor(limit('vectorBytes', 16) / 4)),
    vectorRegisters: limit('vectorRegisters', 15),
    l1Bytes: limit('l1Bytes', 32 * 1024),
    l2Bytes: limit('l2Bytes', 512 * 1024),
  };
}

/** Parallel + vectorized, for every nest without reduce loops. */
export const cpuInjectiveRule: ScheduleRule = {
  name: 'cpu-injective',
  apply(sch, nest) {
    const blk = nest.block.block;
    if (blk.init || nest.loops.length === 0 || nest.roles.some((r) => r === 'reduce' || r === 'mixed')) return false;
    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const inner = loops[loops.length - 1]!;
    const outer = loops.slice(0, -1);
    const extent = constExtent([nest.loops[nest.loops.length - 1]!]);
    // A store under a guard, or one of two (a padding copy: the element inside, else zero).
    const store =
      guardedStore(blk.body) ?? (blk.body.kind === 'if' && blk.body.then.kind === 'store' ? blk.body.then : undefined);
    if (extent !== undefined && extent % LANES === 0 && store && contiguousAlong(nest.block, store, nest.loops.at(-1)!.loopVar)) {
      // A row of up to 64 elements is one vector loop (its groups written out): no index arithmetic per group.
      const width = extent <= 64 ? extent : extent % 16 === 0 ? 16 : extent % 8 === 0 ? 8 : LANES;
      if (width < extent) {
        const [io, iv] = sch.split(inner, [null, width]);
        outer.push(io!);
        sch.vectorize(iv!);
      } else sch.vectorize(inner);
    } else if (outer.length === 0) {
      // One loop that cannot be vectorized: it is the parallel one itself.
      sch.parallel(inner);
      return true;
    }
    if (outer.length > 0) parallelOver(sch, outer);
    return true;
  },
};

/**
 * Sums of products whose output and one operand are contiguous along the last
 * spatial axis (j) while the other operand is the same for every j (it is
 * broadcast): matmul and batch matmul (i: the output row), and direct
 * convolution at stride 1 (j: the output column, i: the output channel, the
 * padding guard and the tile tails handled lane-wise by the code generator).
 */
export const cpuMatmulRule: ScheduleRule = {
  name: 'cpu-matmul',
  apply: (sch, nest, ctx) => registerTiled(sch, nest, ctx, 'matmul'),
};

/** The same register tiling for a direct convolution (several reduce loops: channels, then window taps). */
export const cpuConvRule: ScheduleRule = {
  name: 'cpu-conv',
  apply: (sch, nest, ctx) => registerTiled(sch, nest, ctx, 'conv'),
};

function registerTiled(sch: Schedule, nest: Nest, ctx: RuleContext, kind: 'matmul' | 'conv'): boolean {
  {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length < 1) return false;
    if ((kind === 'matmul') !== (sr.reduce.length === 1 && blk.body.kind === 'store')) return false;
    const update = guardedStore(blk.body);
    if (!update || !productOperands(blk.body, true)) return false;
    const jLoop = sr.spatial[sr.spatial.length - 1]!;
    if (!contiguousAlong(nest.block, update, jLoop.loopVar)) return false;
    const broadcast = broadcastLoad(nest.block, update, jLoop.loopVar);
    if (!broadcast) return false;
    // i: the innermost other spatial loop the broadcast operand moves with (matmul's row, a convolution's
    // output channel): one broadcast value per row of the register tile.
    const iLoop = [...sr.spatial.slice(0, -1)].reverse().find((l) => {
      const it = iterDrivenBy(nest.block, l.loopVar);
      return it !== undefined && broadcast.indices.some((x) => usesVar(x, it));
    });
    if (!iLoop) return false;
    const facts = cpuFacts(ctx.target);
    const n = constExtent([jLoop]);
    // NR: two vectors of outputs per row, one for a short j; a j that NR does not divide gets a predicated tail.
    // A symbolic j is left to the fallback: its tail predicate, nested in a convolution's padding guard,
    // multiplies the code the lane-wise paths need past what binaryen optimizes in reasonable time.
    if (n === undefined || n < facts.lanes) return false;
    // Not a tile wider than j: its register buffer would be clipped to j's extent while the masked
    // vector loop still indexes the tile's last lane (a 1x1 convolution over a 7-wide image).
    const nr = n < 2 * facts.lanes ? facts.lanes : 2 * facts.lanes;
    // MR: as many rows as the vector registers hold (MR×NR accumulators, NR/lanes operand vectors, one
    // broadcast), preferring a row count that divides M; otherwise the last tile is predicated.
    const mrMax = maxTileRows(facts, nr);
    const m = constExtent([iLoop]);
    const candidates = Array.from({ length: mrMax }, (_, x) => mrMax - x);
    const mr = m === undefined ? mrMax : m <= mrMax ? m : (candidates.find((r) => r >= mrMax - 2 && m % r === 0) ?? mrMax);

    // A constant B is pre-packed at build time into panels [N/NR, K, NR] (MLAS's and XNNPACK's packed
    // GEMM weights): each column tile's K×NR panel is contiguous, read in order, with no run-time copy,
    // whatever the number of row tiles. The schedule stage rewrites the constant to match.
    const prepack =
      kind === 'matmul' && n % nr === 0 ? panelLayout(sch, nest.block, update, jLoop, sr.reduce[0]!, nr, ctx) : undefined;
    if (prepack) sch.transformLayout(prepack.param, prepack.map);
    // A constant broadcast operand (a convolution's filter) packed likewise, [O/MR, ..., MR]: the MR values
    // one reduction step broadcasts are adjacent, one cache line, instead of MR rows a whole filter apart
    // (which, a power of two apart, also fall in one L1 set).
    const rowPack = mr > 1 ? panelAlong(sch, broadcast, iterDrivenBy(nest.block, iLoop.loopVar)!, mr, ctx) : undefined;
    if (rowPack) sch.transformLayout(rowPack.param, rowPack.map);
    // A stride-2 convolution reading every other row and column of its input (1x1, unpadded) reads the
    // input subsampled instead, a copy made at run time before the call: contiguous lanes, and the full
    // tiles unswitched from the tail's guard, where the stride-2 loads (two vectors and a shuffle) were not.
    if (kind === 'conv' && ctx.relayout) subsampleInput(sch, update, iterDrivenBy(nest.block, jLoop.loopVar)!);
    const { b, others, reduce, i0, i1, j0, j1 } = splitTile(sch, nest, sr, iLoop, jLoop, mr, nr);
    // j0 outside i0: the threads' consecutive tiles share one panel of B, which stays in cache.
    // A guarded update (padding, or the tail of a tile) keeps the rows inside the vector loop: once
    // unrolled, their guards are one and the input vector they share is loaded once (merge-guards).
    const rowsInside = blk.body.kind === 'if' || (n !== undefined && n % nr !== 0);
    sch.reorder(...others, j0, i0, ...reduce, ...(i1 ? (rowsInside ? [j1, i1] : [i1, j1]) : [j1]));
    const kExtent = constExtent(sr.reduce);
    // The B panel of one column tile (K×NR) copied contiguous once per tile and reused by every row tile:
    // without it each step of k reads a different row of B, strided N apart (L1 conflict misses when N is
    // a power of two). The panel lives on the thread's stack, so it must fit a part of L2; and the column
    // tiles alone must give the threads enough parallel work. Only for a plain matrix product.
    const columnTiles = Math.floor((n ?? 0) / nr) * (constExtent(sr.spatial.slice(0, -2)) ?? 8);
    // The copy pays off only when several row tiles reuse the panel (not for a few rows, as in decoding).
    const rowTiles = m === undefined ? 0 : Math.ceil(m / mr);
    const pack =
      !prepack &&
      sr.reduce.length === 1 &&
      iLoop === sr.spatial[sr.spatial.length - 2] &&
      n !== undefined &&
      n % nr === 0 &&
      kExtent !== undefined &&
      kExtent * nr * 4 <= facts.l2Bytes / 4 &&
      columnTiles >= 8 &&
      rowTiles >= 4;
    if (pack) {
      const panel = broadcastPanel(sch, blk.name, update, jLoop.loopVar, nest.block);
      if (panel >= 0) {
        const copy = sch.cacheRead(b, panel, 'local');
        sch.computeAt(copy, j0);
        const copyLoops = sch.getLoops(copy);
        sch.vectorize(copyLoops[copyLoops.length - 1]!);
      }
    }
    const writeBack = sch.cacheWrite(b, 0, 'local');
    sch.reverseComputeAt(writeBack, i0);
    const init = sch.decomposeReduction(b, reduce[0]!);
    tileInside(sch, sch.getLoops(writeBack), i0);
    // The init's loops follow the update's order: with the rows inside, the columns are the outer one.
    const initLoops = sch.getLoops(init);
    if (rowsInside && i1) {
      sch.vectorize(initLoops[initLoops.length - 2]!);
      sch.unroll(initLoops[initLoops.length - 1]!);
    } else tileInside(sch, initLoops, i0);
    // A convolution's window taps (all reduce loops but the first, a few each) are written out: no loop
    // overhead per tap, and the taps' addresses become constant offsets.
    const taps = sr.reduce.slice(1);
    if (taps.length > 0 && (constExtent(taps) ?? Infinity) <= 16) for (const l of reduce.slice(1)) sch.unroll(l);
    if (rowsInside && i1) {
      sch.vectorize(j1);
      sch.unroll(i1);
    } else tileInside(sch, sch.getLoops(b), i0);
    const outer = pack ? [...others, j0] : [...others, j0, i0];
    parallelOver(sch, outer);
    return true;
  }
}

/**
 * A convolution whose filter is a constant, vectorized along its output
 * channels (MLAS's NCHWc and XNNPACK's convolution kernels): the filter
 * packed at build time as [O/NR, KH, KW, C, NR] (or [O/NR, C, KH, KW, NR]
 * for a few input channels, the loop order below), so each tap of each input
 * channel is NR contiguous weights, read in order; a register tile of MR output pixels
 * (along the row) by NR channels accumulates one input value broadcast
 * against them per step. The input is read one scalar at a time, so the
 * padding guard and a row that MR does not divide are per-pixel conditions,
 * not lane masks, any stride reads as well as 1, and no lane is wasted on a
 * 7- or 14-wide image. The tile is written back to the NCHW output lane by lane.
 */
export const cpuConvChannelsRule: ScheduleRule = {
  name: 'cpu-conv-channels',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!ctx.relayout || !blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length < 2) return false;
    const update = guardedStore(blk.body);
    if (!update || !productOperands(blk.body, true)) return false;
    const facts = cpuFacts(ctx.target);
    const operands = loadsOf(update.value).filter((l) => l.buffer !== update.buffer);
    if (operands.length !== 2) return false;
    const iters = sr.spatial.map((l) => iterDrivenBy(nest.block, l.loopVar));
    if (iters.some((it) => it === undefined)) return false;
    for (const filter of operands) {
      const input = operands.find((o) => o !== filter)!;
      // The output channel: the one spatial iterator the filter moves with, on an axis of its own.
      const moving = sr.spatial.filter((_, k) => filter.indices.some((x) => usesVar(x, iters[k]!)));
      if (moving.length !== 1) continue;
      const jLoop = moving[0]!;
      const ot = iterDrivenBy(nest.block, jLoop.loopVar)!;
      if (!update.indices.some((x) => x === ot)) continue;
      const o = constExtent([jLoop]);
      // NR: two vectors of output channels, or one. A grouped convolution's input reads its output
      // channel's group (ot // P * P + c): a tile of NR channels lies in one group when NR divides P,
      // and the input value is still one broadcast.
      const nr = [2 * facts.lanes, facts.lanes].find(
        (w) => o !== undefined && o % w === 0 && input.indices.every((x) => onlyAsGroup(x, ot, w)),
      );
      if (o === undefined || nr === undefined) continue;
      const pack = panelAlong(sch, filter, ot, nr, ctx);
      if (!pack) continue;
      // The pixels: the innermost other spatial loop the input moves with (the output column).
      const iLoop = [...sr.spatial]
        .reverse()
        .find((l) => l !== jLoop && input.indices.some((x) => usesVar(x, iterDrivenBy(nest.block, l.loopVar)!)));
      if (!iLoop) continue;
      // The window's taps go outside the input-channel loop (below) unless the channels are few. Then a
      // tap's pass over the channels reads that tap's weights of every channel: packed with the channels
      // after the taps ([O/NR, KH, KW, C, NR]), each pass reads one contiguous run instead of NR weights
      // every KH*KW*NR (3x3 convolutions, one thread: 5-13% faster, 7x7 images the most).
      const tapsOutside = (constExtent([sr.reduce[0]!]) ?? Infinity) >= MIN_CHANNEL_STEPS;
      const channelAxis = filter.indices.findIndex((x) => usesVar(x, iterDrivenBy(nest.block, sr.reduce[0]!.loopVar)!));
      const map = tapsOutside ? axisBeforeRemainder(pack.map, channelAxis) : pack.map;
      sch.transformLayout(pack.param, map);
      // The input copied with its padding made zeros at run time: the padding guard, a branch per pixel
      // and tap in the innermost loop, goes (the taps in the padding add 0 * w).
      if (blk.body.kind === 'if') padInput(sch, nest.block, input, { spreadPlanes: true });
      const mrMax = maxTileRows(facts, nr);
      const m = constExtent([iLoop]);
      const mr = m === undefined ? mrMax : m <= mrMax ? m : m % mrMax === 0 || m % (mrMax - 1) !== 0 ? mrMax : mrMax - 1;
      const { b, others, reduce, i0, i1, j0, j1 } = splitTile(sch, nest, sr, iLoop, jLoop, mr, nr);
      // A filter larger than the input (a deep layer over a small image) stays in cache across the pixels:
      // channel tiles outermost; otherwise the rows outermost, so the few input rows a row of outputs reads stay.
      const bytes = (x: Buffer): number => x.shape.reduce((p, d) => p * (d.kind === 'int' ? d.value : 1), 4);
      const outer = bytes(filter.buffer) > bytes(input.buffer) ? [j0, ...others, i0] : [...others, j0, i0];
      // The window's taps outside the input-channel loop, written out (constant offsets, no loop per tap),
      // each around a loop over the channels whose step is one tap's MR broadcasts and NR/lanes filter
      // vectors. Not the channels outside with all taps written out in the step: V8 issues a step's loads
      // ahead of its arithmetic, and 9 taps' worth (36 broadcasts, 18 vectors) spill the accumulators
      // (3x3 64->64 over 56x56, one thread: 8.5 ms, 6.1 with a bias epilogue; taps outside 4.7-4.8 ms).
      // A few input channels (an RGB stem) stay outside: a loop of 3 steps per tap costs more (6.0 -> 6.6 ms).
      const [channels, ...taps] = reduce;
      const order = tapsOutside ? [...taps, channels!] : reduce;
      sch.reorder(...outer, ...order, ...(i1 ? [i1] : []), j1);
      accumulateInRegisters(sch, b, i0, order[0]!);
      if ((constExtent(sr.reduce.slice(1)) ?? Infinity) <= 16) for (const l of taps) sch.unroll(l);
      if (i1) sch.unroll(i1);
      sch.vectorize(j1);
      parallelOver(sch, outer);
      return true;
    }
    return false;
  },
};

/**
 * A depthwise convolution (each output channel reads its own input channel:
 * no reduction over channels to reuse a filter value across): vectorized
 * along the output row, as XNNPACK's CHW depthwise kernels are, with a tile
 * of several output rows by one or two vectors of pixels in registers. The
 * input is padded at run time (no guard per lane and tap), so the rows of the
 * tile read the same input rows at the same offsets where their windows
 * overlap, and each such vector is loaded once (local-cse over the unrolled
 * taps); the filter value of a tap is one broadcast shared by the rows.
 */
/**
 * Output rows in a depthwise tile. Measured (144 channels over 56x56, one thread): 4 rows x 1 vector
 * 0.29-0.33 ms, 2 x 2 vectors 0.31, 4 x 2 vectors 0.47 (spilled), 8 x 1 vector 0.42; the guarded
 * 4-channel tile of cpu-conv it replaces 0.8-0.97.
 */
const DEPTHWISE_ROWS = 4;

export const cpuDepthwiseRule: ScheduleRule = {
  name: 'cpu-depthwise',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!ctx.relayout || !blk.init || !sr || sr.spatial.length < 3 || sr.reduce.length < 2) return false;
    const update = guardedStore(blk.body);
    if (!update || !productOperands(blk.body, true)) return false;
    const facts = cpuFacts(ctx.target);
    const jLoop = sr.spatial[sr.spatial.length - 1]!;
    const n = constExtent([jLoop]);
    if (n === undefined || n < facts.lanes || !contiguousAlong(nest.block, update, jLoop.loopVar)) return false;
    const filter = broadcastLoad(nest.block, update, jLoop.loopVar);
    const input = movingLoad(update, iterDrivenBy(nest.block, jLoop.loopVar)!);
    if (!filter || !input) return false;
    const moves = (o: { indices: readonly PrimExpr[] }, l: For): boolean => {
      const it = iterDrivenBy(nest.block, l.loopVar);
      return it !== undefined && o.indices.some((x) => usesVar(x, it));
    };
    // Depthwise: every spatial iterator the filter moves with (the channel) moves the input too, and the
    // reduction is the window alone (the input-channel loop of one channel per group, if any, over 1).
    const filterAxes = sr.spatial.filter((l) => moves(filter, l));
    if (filterAxes.length === 0 || !filterAxes.every((l) => moves(input, l))) return false;
    if ((constExtent(sr.reduce) ?? Infinity) > 49) return false;
    // The rows: the spatial loop just outside the row, which the input moves with and the filter does not.
    const iLoop = sr.spatial[sr.spatial.length - 2]!;
    if (!moves(input, iLoop) || moves(filter, iLoop)) return false;
    const m = constExtent([iLoop]);
    if (m === undefined) return false;
    const padded = blk.body.kind === 'if';
    const perPlane = padded && padsPerPlane(sch, sr.spatial, iLoop, input, facts.l2Bytes);
    if (padded && !perPlane) padInput(sch, nest.block, input);
    // One vector of pixels by up to DEPTHWISE_ROWS rows, preferring a row count that divides the image.
    const nr = facts.lanes;
    const mr = m <= DEPTHWISE_ROWS ? m : ([4, 3, 2].find((r) => m % r === 0) ?? DEPTHWISE_ROWS);
    const { b, others, reduce, i0, i1, j0, j1 } = splitTile(sch, nest, sr, iLoop, jLoop, mr, nr);
    sch.reorder(...others, i0, j0, ...reduce, ...(i1 ? [i1] : []), j1);
    if (perPlane) {
      // Each channel's plane padded into a stage on the thread's stack right before its tiles read it:
      // the input read from memory once and the padding written in cache, where a padded copy of the whole
      // input first (a kernel of its own) writes it all and the convolution reads it all again. 144
      // channels over 56x56, interleaved A/B, whole calls: 1 thread 973 -> 773, 819 -> 686 us; 2 threads
      // 832 -> 730, 617 -> 558 us.
      const read = getBlockRealize(sch.func, blk.name, { kernel: sch.kernel, primitive: 'pad_read' }).block.reads;
      const stage = sch.padRead(
        b,
        read.findIndex((r) => r.buffer === input.buffer),
        'local',
        nr,
        others[others.length - 1],
      );
      const copy = sch.getLoops(stage);
      const [groups, lanes] = sch.split(copy[copy.length - 1]!, [null, nr]);
      sch.vectorize(lanes!);
      // Unrolled, each vector of a row is known inside the plane or in its padding: no test per vector.
      const row = getLoop(sch.func, groups!.var, { kernel: sch.kernel, primitive: 'unroll' });
      if ((constExtent([row]) ?? Infinity) <= MAX_UNROLLED_ROW) sch.unroll(groups!);
    }
    accumulateInRegisters(sch, b, j0, reduce[0]!);
    for (const l of reduce) sch.unroll(l);
    if (i1) sch.unroll(i1);
    sch.vectorize(j1);
    parallelOver(sch, perPlane ? others : [...others, i0]);
    return true;
  },
};

/** Vectors in a padded row up to which a depthwise convolution's copy of a plane has its row unrolled. */
const MAX_UNROLLED_ROW = 32;

/**
 * A matrix–vector product (one row of A, or a few): no register tile has
 * rows to reuse B across, and B is read once, so what matters is reading it
 * in order. Each part of the parallel loop owns a chunk of output columns;
 * for each step of k it adds A[i, k] times B's row chunk (contiguous, the
 * next row right after) to the chunk of outputs, which stays in L1. Tiling
 * columns across all of k instead walks B down its columns, a cache line
 * and a page per step of k (MLAS's and XNNPACK's GEMV kernels likewise
 * stream B's rows).
 */
export const cpuGemvRule: ScheduleRule = {
  name: 'cpu-gemv',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length !== 1 || blk.body.kind !== 'store') return false;
    if (!productOperands(blk.body)) return false;
    const [iLoop, jLoop] = sr.spatial.slice(-2) as [For, For];
    const m = constExtent([iLoop]);
    const n = constExtent([jLoop]);
    if (m === undefined || m > GEMV_MAX_ROWS || n === undefined || n % LANES !== 0) return false;
    if (!contiguousAlong(nest.block, blk.body, jLoop.loopVar)) return false;
    const broadcast = broadcastLoad(nest.block, blk.body, jLoop.loopVar);
    const it = iterDrivenBy(nest.block, iLoop.loopVar);
    if (!broadcast || !it || !broadcast.indices.some((x) => usesVar(x, it))) return false;
    // Enough chunks to keep several threads busy (the thread count is the machine's, known only when the
    // module loads); at most 1 KiB of outputs per row when they are summed in memory.
    const sizes = [256, 128, 64, 32, 16, 8, 4].filter((c) => n % c === 0);
    const chunk = sizes.find((c) => n / c >= GEMV_MIN_PARTS) ?? sizes[sizes.length - 1]!;
    // A constant B (a weight) packed at build time into [N/chunk, K, chunk]: each part's columns one
    // contiguous stream instead of a chunk per row a whole row of B apart (a page per step of k); the
    // chunk's sums then stay in vector registers over the whole reduction (as many as the registers hold
    // beside a broadcast and a load), stored once. 1x4096 . 4096x4096, one thread: 2.3-3.1 ms with 256
    // sums in memory (loaded and stored at every k), 1.6-2.0 ms with 32 in registers.
    const facts = cpuFacts(ctx.target);
    const inRegisters = (facts.vectorRegisters - SPILL_MARGIN - 2) * facts.lanes;
    const registerSizes = sizes.filter((c) => c <= inRegisters && c >= facts.lanes);
    const registerChunk = registerSizes.find((c) => n / c >= GEMV_MIN_PARTS) ?? registerSizes[registerSizes.length - 1];
    const pack =
      registerChunk === undefined ? undefined : panelLayout(sch, nest.block, blk.body, jLoop, sr.reduce[0]!, registerChunk, ctx);
    if (pack) sch.transformLayout(pack.param, pack.map);
    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const at = (l: For): LoopRV => loops[nest.loops.indexOf(l)]!;
    const others = sr.spatial.slice(0, -2).map(at);
    const k = at(sr.reduce[0]!);
    const [j0, j1] = sch.split(at(jLoop), [null, pack ? registerChunk! : chunk]);
    const i = at(iLoop);
    sch.reorder(...others, j0!, i, k, j1!);
    const outer = [...others, j0!];
    if (pack) {
      accumulateInRegisters(sch, b, i, k);
      sch.vectorize(j1!);
      parallelOver(sch, outer);
      return true;
    }
    // Otherwise a chunk of up to 1 KiB of sums per row, in memory (L1), B's rows read in order.
    const init = sch.decomposeReduction(b, k);
    const initLoops = sch.getLoops(init);
    sch.vectorize(initLoops[initLoops.length - 1]!);
    sch.vectorize(j1!);
    parallelOver(sch, outer);
    return true;
  },
};

/**
 * The most rows of NR outputs a register tile holds: MR×NR accumulators, NR/lanes operand vectors and a
 * broadcast. Measured on V8 (x64): a 6×8 or 5×8 tile (12 or 10 accumulators, 2 B vectors, a broadcast)
 * runs 1.8x slower than 4×8, the engine's temporaries (the splat, the loads) spilling the tile; so the tile
 * leaves SPILL_MARGIN of the registers free besides its operands.
 */
function maxTileRows(facts: CpuFacts, nr: number): number {
  const vectorsPerRow = nr / facts.lanes;
  const budget = facts.vectorRegisters - SPILL_MARGIN - 1 - vectorsPerRow;
  return Math.max(1, Math.min(8, Math.floor(budget / vectorsPerRow)));
}

/** The nest's loops as a register tile: i split by MR (when above 1), j by NR, the others and the reduction as they are. */
function splitTile(
  sch: Schedule,
  nest: Nest,
  sr: { spatial: For[]; reduce: For[] },
  iLoop: For,
  jLoop: For,
  mr: number,
  nr: number,
): { b: BlockRV; others: LoopRV[]; reduce: LoopRV[]; i0: LoopRV; i1?: LoopRV; j0: LoopRV; j1: LoopRV } {
  const b = sch.getBlock(nest.block.block.name);
  const loops = sch.getLoops(b);
  const at = (l: For): LoopRV => loops[nest.loops.indexOf(l)]!;
  const others = sr.spatial.filter((l) => l !== iLoop && l !== jLoop).map(at);
  const reduce = sr.reduce.map(at);
  const [i0, i1] = mr > 1 ? sch.split(at(iLoop), [null, mr]) : [at(iLoop), undefined];
  const [j0, j1] = sch.split(at(jLoop), [null, nr]);
  return { b, others, reduce, i0: i0, i1, j0: j0!, j1: j1! };
}

/** Input channels from which cpu-conv-channels runs its taps outside the channel loop. */
const MIN_CHANNEL_STEPS = 8;

/**
 * Whether `v` appears in `e` only as `v // P` with P a multiple of `nr` (not at all counts): the
 * value is the same for every `v` in an NR-aligned run, as a grouped convolution's group.
 */
function onlyAsGroup(e: PrimExpr, v: PrimVar, nr: number): boolean {
  const isGroupSize = (p: number | undefined): boolean => p !== undefined && p > 0 && p % nr === 0;
  let grouped = true;
  const walk = (x: PrimExpr): PrimExpr => {
    if (x === v) grouped = false;
    else if (!(x.kind === 'binary' && x.op === 'floordiv' && x.a === v && isGroupSize(constInt(x.b)))) mapPrimChildren(x, walk);
    return x;
  };
  walk(e);
  return grouped;
}

/** Vector registers a register tile leaves to the engine's temporaries (measured, see maxTileRows). */
const SPILL_MARGIN = 3;

/** Up to how many rows of A a product runs as a GEMV (measured: 3 rows stream faster than a 3-row register tile, 4 do not). */
const GEMV_MAX_ROWS = 3;
const GEMV_MIN_PARTS = 8;

/**
 * Other reductions over a window whose output is contiguous along its last
 * spatial axis (pooling, a sum over a leading axis): a vector of outputs
 * accumulates in registers while the window's loops run (written out when
 * short), the inputs loaded as vectors too (at stride 1 or 2), instead of one
 * output at a time with the whole index recomputed per element.
 */
export const cpuWindowRule: ScheduleRule = {
  name: 'cpu-window',
  apply(sch, nest) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    const store = guardedStore(blk.body);
    if (!blk.init || !sr || sr.spatial.length < 1 || sr.reduce.length < 1 || !store) return false;
    const jLoop = sr.spatial[sr.spatial.length - 1]!;
    const n = constExtent([jLoop]);
    if (n === undefined || n < LANES || !contiguousAlong(nest.block, store, jLoop.loopVar)) return false;
    const width = n < 2 * LANES ? LANES : 2 * LANES;
    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const at = (l: For): LoopRV => loops[nest.loops.indexOf(l)]!;
    const others = sr.spatial.slice(0, -1).map(at);
    const reduce = sr.reduce.map(at);
    const [j0, j1] = sch.split(at(jLoop), [null, width]);
    sch.reorder(...others, j0!, ...reduce, j1!);
    const writeBack = sch.cacheWrite(b, 0, 'local');
    sch.reverseComputeAt(writeBack, j0!);
    const init = sch.decomposeReduction(b, reduce[0]!);
    for (const block of [writeBack, init]) {
      const inner = sch.getLoops(block);
      sch.vectorize(inner[inner.length - 1]!);
    }
    sch.vectorize(j1!);
    if ((constExtent(sr.reduce) ?? Infinity) <= 16) for (const l of reduce) sch.unroll(l);
    const outer = [...others, j0!];
    parallelOver(sch, outer);
    return true;
  },
};

/**
 * A reduction along the contiguous last axis of its input (softmax's max and
 * sum, layer norm's mean and variance, a sum over the last axis): partial
 * results, one per lane of one or two vectors, accumulate in registers over
 * the row (rfactor by the lanes), then combine into the row's result; the
 * rows in parallel. The partial sums change the order of a float sum (rounding only).
 */
export const cpuRowReduceRule: ScheduleRule = {
  name: 'cpu-row-reduce',
  apply(sch, nest) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    const body = blk.body;
    if (!blk.init || !sr || sr.spatial.length < 1 || sr.reduce.length !== 1 || body.kind !== 'store') return false;
    const kLoop = sr.reduce[0]!;
    const k = constExtent([kLoop]);
    const it = iterDrivenBy(nest.block, kLoop.loopVar);
    if (k === undefined || k % LANES !== 0 || k < 2 * LANES || !it) return false;
    const moving = loadsOf(body.value).filter((l) => l.indices.some((x) => usesVar(x, it)));
    const contiguous = (l: { indices: readonly PrimExpr[] }): boolean =>
      stride(l.indices[l.indices.length - 1]!, it) === 1 && !l.indices.slice(0, -1).some((x) => usesVar(x, it));
    if (moving.length === 0 || !moving.every(contiguous)) return false;
    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const spatial = loops.slice(0, sr.spatial.length);
    if (spatial.length > 1) sch.fuse(...spatial);
    // Two vectors of partial results where the row allows: two independent chains of additions.
    const width = k % (2 * LANES) === 0 ? 2 * LANES : LANES;
    const [, lanes] = sch.split(sch.getLoops(b)[1]!, [null, width]);
    const partial = sch.rfactor(lanes!, body.buffer.shape.length);
    const partialLoops = sch.getLoops(partial);
    const kOuter = partialLoops[1]!;
    // The lanes' partial results in a register, not memory.
    const held = sch.cacheWrite(partial, 0, 'local');
    sch.reverseComputeAt(held, partialLoops[0]!);
    const init = sch.decomposeReduction(partial, kOuter);
    for (const x of [init, partial, held]) {
      const inner = sch.getLoops(x);
      sch.vectorize(inner[inner.length - 1]!);
    }
    sch.reverseComputeAt(b, partialLoops[0]!);
    const combine = sch.getLoops(b);
    sch.unroll(combine[combine.length - 1]!);
    sch.parallel(partialLoops[0]!);
    return true;
  },
};

/** Everything else: the leading spatial loops in parallel; the rest runs as written in each part. */
export const cpuFallbackRule: ScheduleRule = {
  name: 'cpu-parallel',
  apply(sch, nest) {
    let outer = 0;
    while (outer < nest.loops.length && nest.roles[outer] === 'spatial') outer++;
    if (outer === 0) return false;
    const loops = sch.getLoops(sch.getBlock(nest.block.block.name)).slice(0, outer);
    parallelOver(sch, loops);
    return true;
  },
};

export const CPU_RULES: readonly ScheduleRule[] = [
  cpuInjectiveRule,
  cpuGemvRule,
  cpuMatmulRule,
  cpuConvChannelsRule,
  cpuDepthwiseRule,
  cpuConvRule,
  cpuWindowRule,
  cpuRowReduceRule,
  cpuFallbackRule,
];

/** The loops fused into one and that one run in parallel. */
function parallelOver(sch: Schedule, loops: readonly LoopRV[]): void {
  sch.parallel(loops.length > 1 ? sch.fuse(...loops) : loops[0]!);
}

/**
 * The register tile's sums: accumulated in a local tile under `at` (registers, once the tile's loops
 * are unrolled and vectorized), zeroed before the reduction from `reduce` on, written back after it.
 */
function accumulateInRegisters(sch: Schedule, b: BlockRV, at: LoopRV, reduce: LoopRV): void {
  const writeBack = sch.cacheWrite(b, 0, 'local');
  sch.reverseComputeAt(writeBack, at);
  const init = sch.decomposeReduction(b, reduce);
  tileInside(sch, sch.getLoops(writeBack), at);
  tileInside(sch, sch.getLoops(init), at);
}

/** In a register tile's loops (those inside `at`): the last one vectorized, the others unrolled. */
function tileInside(sch: Schedule, loops: readonly LoopRV[], at: LoopRV): void {
  const inside = loops.slice(loops.findIndex((l) => l.var === at.var) + 1);
  const tile = inside.slice(-2);
  // The reduction loop of the update stays a loop; only the tile's own loops are touched.
  const last = tile[tile.length - 1];
  if (!last) return;
  for (const l of inside.slice(-2, -1)) if (isTileLoop(sch, l)) sch.unroll(l);
  sch.vectorize(last);
}

/** Whether `l` is a loop of the MR×NR tile (constant and small), not the reduction. */
function isTileLoop(sch: Schedule, l: LoopRV): boolean {
  let small = false;
  const find = (s: Stmt): void => {
    if (s.kind === 'for') {
      if (s.loopVar === l.var) small = s.extent.kind === 'int' && s.extent.value <= 16;
      else find(s.body);
    } else if (s.kind === 'seq') s.stmts.forEach(find);
    else if (s.kind === 'allocate' || s.kind === 'block_realize' || s.kind === 'let') find(bodyOf(s));
  };
  find(sch.func.body);
  return small;
}

function bodyOf(s: Stmt): Stmt {
  if (s.kind === 'block_realize') return s.block.body;
  return (s as { body: Stmt }).body;
}
