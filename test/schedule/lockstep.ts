/**
 * What a GPU does with barriers, written for the serial TIR interpreter:
 * each threadIdx loop's body (the innermost of directly nested ones) is cut
 * at its top-level barriers and every piece runs for all threads before the
 * next; local buffers get one slot per thread. Lets tests check the numbers of cross-thread reductions, which the
 * interpreter alone (one thread after another) cannot run.
 */
import { load, mapPrimChildren, type PrimExpr } from '../../src/ir/prim/expr.ts';
import { type Buffer, buffer } from '../../src/ir/tir/buffer.ts';
import {
  allocate,
  type For,
  forLoop,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  seq,
  type Stmt,
  type StmtMapper,
  store,
  visitStmts,
} from '../../src/ir/tir/stmt.ts';

/** `f` with every threadIdx loop run phase by phase (see above). */
export function lockstep(f: PrimFunc): PrimFunc {
  const m: StmtMapper = {
    stmt: (s) => (s.kind === 'for' && s.thread?.startsWith('threadIdx') ? phases(s) : mapStmtChildren(s, m)),
    expr: (e) => e,
  };
  return primFunc(f.params, m.stmt(f.body), f.attrs);
}

function phases(outer: For): Stmt {
  // Directly nested threadIdx loops (a GEMV's spatial and reduce threads) form one workgroup.
  const threads: For[] = [outer];
  const allocs: Buffer[] = [];
  let body = outer.body;
  for (;;) {
    while (body.kind === 'allocate') {
      allocs.push(body.buffer);
      body = body.body;
    }
    if (body.kind !== 'for' || !body.thread?.startsWith('threadIdx')) break;
    threads.push(body);
    body = body.body;
  }
  const ids = threads.map((t) => t.loopVar);
  const perThread = new Map(
    allocs
      .filter((b) => b.scope === 'local')
      .map((b) => [b, buffer(b.name, [...threads.map((t) => t.extent), ...b.shape], b.dtype, { scope: 'local' })]),
  );
  const expr = (e: PrimExpr): PrimExpr => {
    const x = mapPrimChildren(e, expr);
    const b = x.kind === 'load' ? perThread.get(x.buffer) : undefined;
    return b && x.kind === 'load' ? load(b, [...ids, ...x.indices]) : x;
  };
  const m: StmtMapper = {
    stmt: (s) => {
      const t = mapStmtChildren(s, m);
      const b = t.kind === 'store' ? perThread.get(t.buffer) : undefined;
      return b && t.kind === 'store' ? store(b, [...ids, ...t.indices], t.value) : t;
    },
    expr,
  };
  const pieces: Stmt[][] = [[]];
  for (const s of body.kind === 'seq' ? body.stmts : [body]) {
    if (isBarrier(s)) pieces.push([]);
    else {
      // WGSL accepts barriers only in uniform control flow: straight in the thread loop's body.
      visitStmts(s, (x) => {
        if (isBarrier(x)) throw new Error(`thread loop '${ids[ids.length - 1]!.name}' has a barrier inside a nested statement`);
      });
      pieces[pieces.length - 1]!.push(m.stmt(s));
    }
  }
  const forAll = (piece: Stmt): Stmt =>
    threads.reduceRight<Stmt>((inner, t) => forLoop(t.loopVar, t.min, t.extent, inner), piece);
  const run = seq(pieces.map((p) => forAll(seq(p))));
  return allocs.reduceRight((inner, b) => allocate(perThread.get(b) ?? b, inner), run);
}

function isBarrier(s: Stmt): boolean {
  return s.kind === 'evaluate' && s.value.kind === 'call' && s.value.op === 'workgroup_barrier';
}
