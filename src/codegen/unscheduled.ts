/**
 * Whether a kernel would run a loop nest on a single GPU thread: some
 * top-level statement has loops but no thread binding. It still builds and
 * runs (every state of a module builds); the build says it will be slow.
 */
import { type PrimFunc, type Stmt, visitStmts } from '../ir/tir/stmt.ts';

export function isUnscheduled(f: PrimFunc): boolean {
  let s: Stmt = f.body;
  while (s.kind === 'allocate') s = s.body;
  const launches = s.kind === 'seq' ? s.stmts : [s];
  return launches.some((l) => {
    let loops = false;
    let bound = false;
    visitStmts(l, (x) => {
      if (x.kind !== 'for') return;
      if (x.forKind === 'thread_binding') bound = true;
      else if (x.extent.kind !== 'int' || x.extent.value > 1) loops = true;
    });
    return loops && !bound;
  });
}
