/**
 * Lowers thread-bound loops of one launch to the indices of the running
 * workgroup and thread: `for tx in thread_binding(64, "threadIdx.x")`
 * becomes `let tx = i64(thread_idx_x())`, under `if thread_idx_x() < extent`
 * where the launch runs more threads (or workgroups) than the loop has
 * iterations — which `guard` decides, from the launch's shape.
 */
import { add, call, castIfNeeded, intImm, lt, type PrimExpr } from '../../ir/prim/expr.ts';
import type { Intrinsic } from '../../ir/prim/intrinsics.ts';
import { type For, ifThenElse, letStmt, mapStmtChildren, type Stmt, type StmtMapper, type ThreadTag } from '../../ir/tir/stmt.ts';

const INDEX: Record<ThreadTag, Intrinsic> = {
  'blockIdx.x': 'block_idx_x',
  'blockIdx.y': 'block_idx_y',
  'blockIdx.z': 'block_idx_z',
  'threadIdx.x': 'thread_idx_x',
  'threadIdx.y': 'thread_idx_y',
  'threadIdx.z': 'thread_idx_z',
};

export function lowerThreadBindings(launch: Stmt, guard: (loop: For) => boolean): Stmt {
  const m: StmtMapper = {
    stmt: (s) => {
      if (s.kind !== 'for' || s.forKind !== 'thread_binding' || !s.thread) return mapStmtChildren(s, m);
      const id = call(INDEX[s.thread], []);
      const start = castIfNeeded(s.loopVar.dtype, id);
      const value: PrimExpr =
        s.min.kind === 'int' && s.min.value === 0 ? start : add(start, castIfNeeded(s.loopVar.dtype, s.min));
      const body = letStmt(s.loopVar, value, m.stmt(s.body));
      const extent = s.extent.kind === 'int' ? intImm(s.extent.value, 'int32') : castIfNeeded('int32', s.extent);
      return guard(s) ? ifThenElse(lt(id, extent), body) : body;
    },
    expr: (e) => e,
  };
  return m.stmt(launch);
}
