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
import { type PrimExpr, type PrimVar, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type BlockRealize, type Stmt } from '../../ir/tir/stmt.ts';
import type { LoopRV, Schedule } from '../schedule.ts';
import { constExtent, productOperands, spatialThenReduce } from './nest.ts';
import type { ScheduleRule } from './rule.ts';
import type { TargetDescription } from '../../ir/target.ts';
import { getBlockRealize } from '../tree.ts';

/** Lanes of one SIMD register for 32-bit elements. */
const LANES = 4;

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
    if (extent !== undefined && extent % LANES === 0 && contiguousAlong(nest.block, nest.loops.at(-1)!.loopVar)) {
      const width = extent <= 16 ? extent : extent % 16 === 0 ? 16 : extent % 8 === 0 ? 8 : LANES;
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
    if (outer.length > 0) sch.parallel(outer.length > 1 ? sch.fuse(...outer) : outer[0]!);
    return true;
  },
};

/** Matrix products whose output and one operand are contiguous along the last spatial axis. */
export const cpuMatmulRule: ScheduleRule = {
  name: 'cpu-matmul',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    const sr = spatialThenReduce(nest);
    if (!blk.init || !sr || sr.spatial.length < 2 || sr.reduce.length !== 1) return false;
    if (blk.body.kind !== 'store' || !productOperands(blk.body)) return false;
    const jLoop = sr.spatial[sr.spatial.length - 1]!;
    const iLoop = sr.spatial[sr.spatial.length - 2]!;
    if (!contiguousAlong(nest.block, jLoop.loopVar) || !broadcastOperand(nest.block, jLoop.loopVar)) return false;
    const facts = cpuFacts(ctx.target);
    const n = constExtent([jLoop]);
    // NR: two vectors of outputs per row when N allows it, else one.
    const nr = n === undefined ? 0 : n % (2 * facts.lanes) === 0 ? 2 * facts.lanes : n % facts.lanes === 0 ? facts.lanes : 0;
    if (nr === 0) return false;
    // MR: as many rows as the vector registers hold (MR×NR accumulators, NR/lanes operand vectors, one
    // broadcast), preferring a row count that divides M; otherwise the last tile is predicated.
    const vectorsPerRow = nr / facts.lanes;
    const mrMax = Math.max(1, Math.min(8, Math.floor((facts.vectorRegisters - 1 - vectorsPerRow) / vectorsPerRow)));
    const m = constExtent([iLoop]);
    const candidates = Array.from({ length: mrMax }, (_, x) => mrMax - x);
    const mr = m === undefined ? mrMax : m <= mrMax ? m : (candidates.find((r) => r >= mrMax - 2 && m % r === 0) ?? mrMax);

    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const spatialOuter = loops.slice(0, sr.spatial.length - 2);
    const [i, j, k] = loops.slice(-3) as [LoopRV, LoopRV, LoopRV];
    const [i0, i1] = mr > 1 ? sch.split(i, [null, mr]) : [i, undefined];
    const [j0, j1] = sch.split(j, [null, nr]);
    // j0 outside i0: the threads' consecutive tiles share one panel of B, which stays in cache.
    sch.reorder(...[j0!, i0, k, ...(i1 ? [i1, j1!] : [j1!])]);
    const kExtent = constExtent(sr.reduce);
    // The B panel of one column tile (K×NR) copied contiguous once per tile and reused by every row tile:
    // without it each step of k reads a different row of B, strided N apart (L1 conflict misses when N is
    // a power of two). The panel lives on the thread's stack, so it must fit a part of L2; and the column
    // tiles alone must give the threads enough parallel work.
    const columnTiles = ((n ?? 0) / nr) * (constExtent(sr.spatial.slice(0, -2)) ?? 8);
    // The copy pays off only when several row tiles reuse the panel (not for a few rows, as in decoding).
    const rowTiles = m === undefined ? 0 : Math.ceil(m / mr);
    const pack = kExtent !== undefined && kExtent * nr * 4 <= facts.l2Bytes / 4 && columnTiles >= 8 && rowTiles >= 4;
    if (pack) {
      const panel = broadcastPanel(sch, blk.name, jLoop.loopVar, nest.block);
      if (panel >= 0) {
        const copy = sch.cacheRead(b, panel, 'local');
        sch.computeAt(copy, j0!);
        const copyLoops = sch.getLoops(copy);
        sch.vectorize(copyLoops[copyLoops.length - 1]!);
      }
    }
    const writeBack = sch.cacheWrite(b, 0, 'local');
    sch.reverseComputeAt(writeBack, i0);
    const init = sch.decomposeReduction(b, k);
    for (const blockRV of [init, writeBack]) tileInside(sch, sch.getLoops(blockRV), i0);
    tileInside(sch, sch.getLoops(b), i0);
    sch.parallel(pack ? (spatialOuter.length ? sch.fuse(...spatialOuter, j0!) : j0!) : sch.fuse(...spatialOuter, j0!, i0));
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
    sch.parallel(loops.length > 1 ? sch.fuse(...loops) : loops[0]!);
    return true;
  },
};

export const CPU_RULES: readonly ScheduleRule[] = [cpuInjectiveRule, cpuMatmulRule, cpuFallbackRule];

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

/** The block iterator that loop variable `v` drives alone, if any. */
function iterDrivenBy(realize: BlockRealize, v: PrimVar): PrimVar | undefined {
  const at = realize.iterValues.findIndex((e) => e === v);
  return at < 0 ? undefined : realize.block.iterVars[at]!.var;
}

function isVar(e: PrimExpr | undefined, v: PrimVar): boolean {
  return e === v;
}

/** Whether the block's store, and every load that moves with loop `v`, has v's iterator as its last index. */
function contiguousAlong(realize: BlockRealize, v: PrimVar): boolean {
  const it = iterDrivenBy(realize, v);
  const body = realize.block.body;
  if (!it || body.kind !== 'store' || !isVar(body.indices[body.indices.length - 1], it)) return false;
  // Every load either does not move with v, or moves one element per step of it.
  return loadsOf(body.value).every(
    ({ indices }) =>
      !indices.some((x) => usesVar(x, it)) ||
      (isVar(indices[indices.length - 1], it) && !indices.slice(0, -1).some((x) => usesVar(x, it))),
  );
}

/** Whether one operand of the product does not move with loop `v` (it is broadcast across the vector). */
function broadcastOperand(realize: BlockRealize, v: PrimVar): boolean {
  const it = iterDrivenBy(realize, v)!;
  const body = realize.block.body;
  if (body.kind !== 'store') return false;
  return loadsOf(body.value).some((l) => l.buffer !== body.buffer && !l.indices.some((x) => usesVar(x, it)));
}

function loadsOf(e: PrimExpr): { buffer: Buffer; indices: readonly PrimExpr[] }[] {
  const out: { buffer: Buffer; indices: readonly PrimExpr[] }[] = [];
  visitPrim(e, (x) => {
    if (x.kind === 'load') out.push({ buffer: x.buffer, indices: x.indices });
  });
  return out;
}

/** The read index of the product operand that moves with loop `v` (the B panel), or -1. */
function broadcastPanel(sch: Schedule, name: string, v: PrimVar, realize: BlockRealize): number {
  const it = iterDrivenBy(realize, v)!;
  const body = realize.block.body;
  if (body.kind !== 'store') return -1;
  const moving = loadsOf(body.value).find((l) => l.buffer !== body.buffer && l.indices.some((x) => usesVar(x, it)));
  if (!moving) return -1;
  return getBlockRealize(sch.func, name, { kernel: sch.kernel, primitive: 'cache_read' }).block.reads.findIndex(
    (r) => r.buffer === moving.buffer,
  );
}
