/**
 * The shape of one launch: from its thread-bound loops, the workgroup size
 * (threadIdx extents, which must be constants) and the grid (blockIdx
 * extents, shape expressions over the kernel's variables). A launch without
 * thread bindings runs as a single invocation: correct, if slow, which is how
 * unscheduled kernels build.
 */
import { printPrimExpr } from '../../ir/text/printer.ts';
import { lowerThreadBindings } from '../../passes/tir/lower.ts';
import { type For, type Stmt, type ThreadTag, visitStmts } from '../../ir/tir/stmt.ts';
import type { ShapeExpr } from '../../runtime/program.ts';

export type Dim = 0 | 1 | 2;

export interface LaunchPlan {
  readonly stmt: Stmt;
  readonly workgroupSize: readonly [number, number, number];
  readonly grid: readonly [ShapeExpr, ShapeExpr, ShapeExpr];
  /** Per dimension, whether a blockIdx loop is bound to it. */
  readonly blockUsed: readonly [boolean, boolean, boolean];
  /** Per dimension, whether a threadIdx loop is bound to it. */
  readonly threadUsed: readonly [boolean, boolean, boolean];
  /** Per dimension, whether its blockIdx loops differ in extent (the grid is their max; each loop guards its own). */
  readonly blockGuard: readonly [boolean, boolean, boolean];
  /** The blockIdx.x loops, for the grid-x bound of a folded grid. */
  readonly blockXLoops: readonly For[];
  /** Only blockIdx.x is bound: the runtime may fold a large grid x into x and y. */
  readonly foldX: boolean;
}

export function threadDim(tag: ThreadTag): { block: boolean; dim: Dim } {
  return { block: tag.startsWith('blockIdx'), dim: tag.endsWith('x') ? 0 : tag.endsWith('y') ? 1 : 2 };
}

/** Whether a thread loop needs `if (id < extent)`: its extent is below the workgroup size (or the grid) of its tag. */
export function needsGuard(plan: LaunchPlan, loop: For): boolean {
  const { block, dim } = threadDim(loop.thread!);
  if (block) return plan.blockGuard[dim];
  return loop.extent.kind === 'int' && loop.extent.value < plan.workgroupSize[dim];
}

export function planLaunch(stmt: Stmt, gridExtent: (loop: For) => ShapeExpr, unsupported: (what: string) => never): LaunchPlan {
  const threads: [number, number, number] = [1, 1, 1];
  const threadUsed: [boolean, boolean, boolean] = [false, false, false];
  const blocks: For[][] = [[], [], []];
  visitStmts(stmt, (s) => {
    if (s.kind !== 'for' || s.forKind !== 'thread_binding' || !s.thread) return;
    const { block, dim } = threadDim(s.thread);
    if (block) {
      blocks[dim]!.push(s);
      return;
    }
    if (s.extent.kind !== 'int') {
      unsupported(
        `${s.thread} loop '${s.loopVar.name}' has extent ${printPrimExpr(s.extent)}, not a constant: a workgroup size must be known when the shader is built`,
      );
    }
    threadUsed[dim] = true;
    threads[dim] = Math.max(threads[dim], s.extent.value);
  });

  const grid: [ShapeExpr, ShapeExpr, ShapeExpr] = [1, 1, 1];
  const blockGuard: [boolean, boolean, boolean] = [false, false, false];
  blocks.forEach((loops, dim) => {
    const extents = loops.map(gridExtent);
    const distinct = [...new Map(extents.map((e) => [JSON.stringify(e), e])).values()];
    if (distinct.length === 0) return;
    grid[dim] = distinct.reduce((a, b) => ['max', a, b]);
    blockGuard[dim] = distinct.length > 1;
  });
  const blockUsed: [boolean, boolean, boolean] = [blocks[0]!.length > 0, blocks[1]!.length > 0, blocks[2]!.length > 0];
  return {
    stmt,
    workgroupSize: threads,
    grid,
    blockUsed,
    threadUsed,
    blockGuard,
    blockXLoops: blocks[0]!,
    foldX: blockUsed[0] && !blockUsed[1] && !blockUsed[2],
  };
}

/**
 * The launch's statement with its thread-bound loops lowered to the
 * invocation's ids, guarded where the plan runs more of them than a loop has
 * iterations. A guarded threadIdx loop may not hold a barrier: the threads it
 * leaves out would skip it.
 */
export function lowerLaunch(plan: LaunchPlan, unsupported: (what: string) => never): Stmt {
  return lowerThreadBindings(plan.stmt, (loop) => {
    if (!needsGuard(plan, loop)) return false;
    const { block, dim } = threadDim(loop.thread!);
    if (!block && containsBarrier(loop.body)) {
      unsupported(
        `${loop.thread} loop '${loop.loopVar.name}' of extent ${printPrimExpr(loop.extent)} is narrower than the workgroup (${plan.workgroupSize[dim]}) and contains a barrier, which the threads outside it would skip`,
      );
    }
    return true;
  });
}

function containsBarrier(s: Stmt): boolean {
  let found = false;
  visitStmts(s, (x) => {
    if (
      x.kind === 'evaluate' &&
      x.value.kind === 'call' &&
      (x.value.op === 'workgroup_barrier' || x.value.op === 'storage_barrier')
    )
      found = true;
  });
  return found;
}
