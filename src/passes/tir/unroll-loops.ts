/**
 * Unrolls `unrolled` loops of constant bounds (TVM's UnrollLoop): the body
 * once per iteration, the loop variable a constant in each copy, so indices
 * into a thread's register tile fold to constants and the tile can live in
 * registers. Copies get fresh variables (every variable is defined once).
 * A loop whose copies, times those of the unrolled loops inside it, would
 * pass `maxCopies` (or the loop's own `max_copies` annotation, set by the
 * schedule's unroll), a symbolic one, or one that allocates workgroup memory
 * (declared once per copy) stays a loop.
 */
import { intImm } from '../../ir/prim/expr.ts';
import { MAX_COPIES } from '../../ir/tir/stmt.ts';
import { copyWithFreshDefs } from '../../ir/tir/subst.ts';
import { type For, mapStmtChildren, type PrimFunc, primFunc, seq, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';

export const DEFAULT_MAX_UNROLL = 64;

export function unrollLoops(f: PrimFunc, maxCopies = DEFAULT_MAX_UNROLL): PrimFunc {
  const body = unroll(f.body, maxCopies).stmt;
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

/**
 * Innermost loops first (as TVM's UnrollLoop): `copies` is how many times the
 * returned statement repeats its innermost statements, which bounds the
 * loops around it.
 */
function unroll(s: Stmt, max: number): { stmt: Stmt; copies: number } {
  if (s.kind === 'for') {
    const inner = unroll(s.body, max);
    const n = s.forKind === 'unrolled' ? unrollableExtent(s, inner.copies, max) : undefined;
    if (n === undefined) return { stmt: inner.stmt === s.body ? s : { ...s, body: inner.stmt }, copies: inner.copies };
    const min = s.min.kind === 'int' ? s.min.value : 0;
    const out: Stmt[] = [];
    for (let i = 0; i < n; i++) out.push(copyWithFreshDefs(inner.stmt, new Map([[s.loopVar, intImm(min + i, s.loopVar.dtype)]])));
    return { stmt: seq(out), copies: inner.copies * n };
  }
  let copies = 1;
  const stmt = mapStmtChildren(s, {
    stmt: (x) => {
      const r = unroll(x, max);
      copies = Math.max(copies, r.copies);
      return r.stmt;
    },
    expr: (e) => e,
  });
  return { stmt, copies };
}

function unrollableExtent(s: For, copies: number, max: number): number | undefined {
  if (s.min.kind !== 'int' || s.extent.kind !== 'int') return undefined;
  const n = s.extent.value;
  const own = s.annotations[MAX_COPIES];
  if (n * copies > (typeof own === 'number' ? own : max)) return undefined;
  let shared = false;
  visitStmts(s.body, (x) => {
    if (x.kind === 'allocate' && x.buffer.scope === 'shared') shared = true;
  });
  return shared ? undefined : n;
}
