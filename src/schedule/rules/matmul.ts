/**
 * Matrix multiplication (`Y[.., i, j] += A[.., i, k] * B[.., k, j]`, any
 * layout of the operands): workgroups of 8×8 threads, each thread
 * accumulating a block of outputs in registers (a local cache_write, its
 * loops unrolled so the block is indexed with constants), its size the
 * target's `gpu.registerTile`. How the operands reach the threads depends on
 * the target's adapter class (`gpu.workgroupMemory`):
 *
 * - 'fast' (a GPU with on-chip shared memory): per step of 8 along k, both
 *   operand tiles are copied into workgroup memory by all threads together
 *   (cache_read + compute_at, the copy loops bound to the same threads), and
 *   the block reads them from there. The WGSL generator inserts the barriers
 *   the shared tiles need (src/schedule/sync.ts).
 * - 'emulated' (a software adapter: workgroup memory is ordinary memory): no
 *   staging; each step of k reads a column of A and a row of B straight from
 *   storage into the block (by default 8×8: 16 loads feed 64 multiply-adds),
 *   as a hand-written kernel for lavapipe or SwiftShader does.
 *
 * The block's column loop is vectorized: the WGSL generator writes its lanes
 * out as an unrolled loop's and reads a row of B as vec4s where the offset is
 * a multiple of 4 (about a tenth faster on lavapipe than 8 scalar loads).
 *
 * A thread's block shrinks (by powers of two) on dimensions too short to give
 * every thread a full one.
 */
import { DEFAULT_MAX_UNROLL } from '../../passes/tir/unroll-loops.ts';
import { getBlockRealize } from '../tree.ts';
import { constExtent, productOperands, spatialThenReduce, vectorizeInside } from './nest.ts';
import { floorPow2, type RuleContext, type ScheduleRule } from './rule.ts';

const THREADS = 8;
const K_STEP = 8;
/** Output rows and columns below which tiles would be mostly empty (a GEMV's single row): the reduction rules fit better. */
const MIN_EXTENT = 32;

export const matmulRule: ScheduleRule = {
  name: 'matmul',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length !== 1) return false;
    const operands = productOperands(blk.body);
    if (!operands) return false;
    const [iLoop, jLoop] = sr.spatial.slice(-2);
    const [iExtent, jExtent] = [constExtent([iLoop!]), constExtent([jLoop!])];
    for (const e of [iExtent, jExtent]) if ((e ?? MIN_EXTENT) < MIN_EXTENT) return false;
    if ((constExtent(sr.reduce) ?? K_STEP) < K_STEP) return false;
    if (THREADS * THREADS > ctx.maxThreads || THREADS > ctx.maxThreadsPerAxis.y) return false;
    const [perI, perJ] = threadBlock(ctx, iExtent, jExtent);
    if (ctx.stageInWorkgroupMemory && 2 * THREADS * Math.max(perI, perJ) * K_STEP * 4 > ctx.sharedBytes) return false;

    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const batch = loops.slice(0, loops.length - 3);
    const [i, j, k] = loops.slice(-3);
    const [i0, i1, i2] = sch.split(i!, [null, THREADS, perI]);
    const [j0, j1, j2] = sch.split(j!, [null, THREADS, perJ]);
    const [k0, k1] = ctx.stageInWorkgroupMemory ? sch.split(k!, [null, K_STEP]) : [k!];
    sch.reorder(i0!, j0!, i1!, j1!, ...(k1 ? [k0!, k1] : [k0!]), i2!, j2!);
    if (batch.length > 0) sch.bind(batch.length > 1 ? sch.fuse(...batch) : batch[0]!, 'blockIdx.z');
    sch.bind(i0!, 'blockIdx.y');
    sch.bind(j0!, 'blockIdx.x');
    sch.bind(i1!, 'threadIdx.y');
    sch.bind(j1!, 'threadIdx.x');
    const writeBack = sch.cacheWrite(b, 0, 'local');
    sch.reverseComputeAt(writeBack, j1!);
    vectorizeInside(sch, writeBack, j1!);
    if (ctx.stageInWorkgroupMemory) {
      for (const operand of operands) {
        const index = getBlockRealize(sch.func, blk.name, { kernel: sch.kernel, primitive: 'cache_read' }).block.reads.findIndex(
          (r) => r.buffer === operand,
        );
        if (index < 0) return false;
        const copy = sch.cacheRead(b, index, 'shared');
        sch.computeAt(copy, k0!);
        const copyLoops = sch.getLoops(copy);
        const inner = copyLoops.slice(copyLoops.findIndex((l) => l.var === k0!.var) + 1);
        const [, ty, tx] = sch.split(inner.length > 1 ? sch.fuse(...inner) : inner[0]!, [null, THREADS, THREADS]);
        sch.bind(ty!, 'threadIdx.y');
        sch.bind(tx!, 'threadIdx.x');
      }
    }
    vectorizeInside(sch, sch.decomposeReduction(b, k0!), j1!);
    vectorizeInside(sch, b, k1 ?? k0!);
    return true;
  },
};

/**
 * Outputs per thread along i and j: the target's register tile, halved (the
 * larger side first) until it is within the unroll budget, so the block is
 * indexed with constants, and per dimension until the dimension's threads
 * all get a full block.
 */
function threadBlock(ctx: RuleContext, iExtent: number | undefined, jExtent: number | undefined): [number, number] {
  let [ri, rj] = ctx.registerTile.map(floorPow2) as [number, number];
  while (ri * rj > DEFAULT_MAX_UNROLL) {
    if (ri >= rj) ri /= 2;
    else rj /= 2;
  }
  const fit = (r: number, extent: number | undefined): number =>
    extent === undefined ? r : Math.max(1, Math.min(r, floorPow2(Math.ceil(extent / THREADS))));
  return [fit(ri, iExtent), fit(rj, jExtent)];
}
