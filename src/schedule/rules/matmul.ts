/**
 * Matrix multiplication (`Y[.., i, j] += A[.., i, k] * B[.., k, j]`, any
 * layout of the operands): tiles of 32×32 outputs per workgroup of 8×8
 * threads, each thread accumulating a 4×4 tile in registers (a local
 * cache_write), and per step of 8 along k both operand tiles copied into
 * workgroup memory by all threads together (cache_read + compute_at, the copy
 * loops bound to the same threads). The register tile's loops are unrolled.
 * The WGSL generator inserts the barriers the shared tiles need
 * (src/schedule/sync.ts).
 */
import { getBlockRealize } from '../tree.ts';
import { constExtent, productOperands, spatialThenReduce, unrollInside } from './nest.ts';
import type { ScheduleRule } from './rule.ts';

const TILE = 32;
const THREADS = 8;
const PER_THREAD = TILE / THREADS;
const K_STEP = 8;

export const matmulRule: ScheduleRule = {
  name: 'matmul',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length !== 1) return false;
    const operands = productOperands(blk.body);
    if (!operands) return false;
    // Small output dimensions (a GEMV's single row) leave tiles mostly empty: the reduction rules fit them better.
    const [iLoop, jLoop] = sr.spatial.slice(-2);
    for (const l of [iLoop!, jLoop!]) if ((constExtent([l]) ?? TILE) < TILE) return false;
    if ((constExtent(sr.reduce) ?? K_STEP) < K_STEP) return false;
    const bytes = 2 * TILE * K_STEP * 4;
    if (bytes > ctx.sharedBytes || THREADS * THREADS > ctx.maxThreads || THREADS > ctx.maxThreadsPerAxis.y) return false;

    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const batch = loops.slice(0, loops.length - 3);
    const [i, j, k] = loops.slice(-3);
    const [i0, i1, i2] = sch.split(i!, [null, THREADS, PER_THREAD]);
    const [j0, j1, j2] = sch.split(j!, [null, THREADS, PER_THREAD]);
    const [k0, k1] = sch.split(k!, [null, K_STEP]);
    sch.reorder(i0!, j0!, i1!, j1!, k0!, k1!, i2!, j2!);
    if (batch.length > 0) sch.bind(batch.length > 1 ? sch.fuse(...batch) : batch[0]!, 'blockIdx.z');
    sch.bind(i0!, 'blockIdx.y');
    sch.bind(j0!, 'blockIdx.x');
    sch.bind(i1!, 'threadIdx.y');
    sch.bind(j1!, 'threadIdx.x');
    const writeBack = sch.cacheWrite(b, 0, 'local');
    sch.reverseComputeAt(writeBack, j1!);
    unrollInside(sch, writeBack, j1!);
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
    unrollInside(sch, sch.decomposeReduction(b, k0!), j1!);
    unrollInside(sch, b, k1!);
    return true;
  },
};
