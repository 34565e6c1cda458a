/**
 * Workgroup barriers for workgroup memory: the synchronisation a schedule with
 * shared buffers needs and does not spell out (TVM's ThreadSync, reduced to
 * what our schedules produce). Inside thread-bound code, in every sequence
 * whose control flow is uniform across the workgroup:
 *
 * - before a statement that reads a shared buffer written by an earlier
 *   statement of the sequence since the last barrier (read after write: a
 *   cooperative copy, then its use);
 * - at the end of a uniform loop body that writes a shared buffer it also
 *   reads (the next iteration's copy must wait until every thread has used
 *   this one's).
 *
 * Barriers go only where every thread of the workgroup reaches them (WGSL
 * rejects anything else); sequences under an `if` or inside a block are left
 * alone. Existing barriers count.
 */
import { call, type PrimExpr, type PrimVar, usesVar, visitPrim } from '../ir/prim/expr.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import { evaluate, mapStmtChildren, type PrimFunc, primFunc, seq, type Stmt, visitStmts } from '../ir/tir/stmt.ts';

interface Access {
  readonly reads: Set<Buffer>;
  readonly writes: Set<Buffer>;
  readonly barrier: boolean;
}

export function insertWorkgroupBarriers(f: PrimFunc): PrimFunc {
  const body = rewrite(f.body, { inThreads: false, threadVars: [] });
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

interface Scope {
  readonly inThreads: boolean;
  /** threadIdx loop variables in scope: a loop whose extent uses one is not uniform. */
  readonly threadVars: readonly PrimVar[];
}

function rewrite(s: Stmt, scope: Scope): Stmt {
  switch (s.kind) {
    case 'for': {
      const isThread = s.forKind === 'thread_binding' && s.thread?.startsWith('threadIdx') === true;
      const inner: Scope = isThread ? { inThreads: true, threadVars: [...scope.threadVars, s.loopVar] } : scope;
      if (!isThread && scope.threadVars.some((v) => usesVar(s.extent, v) || usesVar(s.min, v))) return s;
      let body = rewrite(s.body, inner);
      if (inner.inThreads && !isThread && loopCarried(body)) body = seq([body, barrier()]);
      return body === s.body ? s : { ...s, body };
    }
    case 'seq': {
      const stmts = s.stmts.map((x) => rewrite(x, scope));
      if (!scope.inThreads) return stmts.some((x, i) => x !== s.stmts[i]) ? seq(stmts) : s;
      const out: Stmt[] = [];
      let pending = new Set<Buffer>();
      for (const x of stmts) {
        const a = accessOf(x);
        if ([...a.reads].some((b) => pending.has(b))) {
          out.push(barrier());
          pending = new Set();
        }
        if (a.barrier) pending = new Set();
        for (const b of a.writes) pending.add(b);
        out.push(x);
      }
      return out.length === s.stmts.length && out.every((x, i) => x === s.stmts[i]) ? s : seq(out);
    }
    case 'allocate':
    case 'let': {
      const body = rewrite(s.body, scope);
      return body === s.body ? s : { ...s, body };
    }
    // Control flow that may differ between threads: no barrier may go inside.
    case 'if':
    case 'block_realize':
    case 'store':
    case 'evaluate':
      return s;
  }
}

function barrier(): Stmt {
  return evaluate(call('workgroup_barrier', []));
}

/** The shared buffers a statement reads and writes anywhere inside, and whether it synchronises. */
function accessOf(s: Stmt): Access {
  const reads = new Set<Buffer>();
  const writes = new Set<Buffer>();
  let hasBarrier = false;
  const loads = (e: PrimExpr): void =>
    visitPrim(e, (x) => {
      if (x.kind === 'load' && x.buffer.scope === 'shared') reads.add(x.buffer);
      if (x.kind === 'call' && x.op === 'workgroup_barrier') hasBarrier = true;
    });
  visitStmts(s, (x) => {
    if (x.kind === 'store' && x.buffer.scope === 'shared') writes.add(x.buffer);
    mapStmtChildren(x, { stmt: (c) => c, expr: (e) => (loads(e), e) });
  });
  return { reads, writes, barrier: hasBarrier };
}

/** Whether a loop body writes a shared buffer that it also reads (so iterations must not overlap). */
function loopCarried(body: Stmt): boolean {
  const a = accessOf(body);
  return [...a.writes].some((b) => a.reads.has(b)) && !endsWithBarrier(body);
}

function endsWithBarrier(s: Stmt): boolean {
  const last = s.kind === 'seq' ? s.stmts[s.stmts.length - 1] : s;
  return last?.kind === 'evaluate' && last.value.kind === 'call' && last.value.op === 'workgroup_barrier';
}
