/**
 * Statement-tree edits the data-movement primitives share: removing a block
 * with the loops left empty around it, inserting a nest into a loop body,
 * adding and removing allocations, and redirecting the loads and stores of
 * one buffer.
 */
import { load, mapPrimChildren, type PrimExpr } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { allocate, type For, mapStmtChildren, seq, type Stmt, type StmtMapper, store } from '../../ir/tir/stmt.ts';
import { pathTo } from '../tree.ts';

/** The empty statement: sequences splice it away. */
const NOP: Stmt = seq([]);

function isNop(s: Stmt): boolean {
  return s.kind === 'seq' && s.stmts.length === 0;
}

/** A statement's body as a list: the statements of a sequence, or the statement itself. */
export function stmtList(s: Stmt): readonly Stmt[] {
  return s.kind === 'seq' ? s.stmts : [s];
}

/**
 * `root` without `target`; loops, ifs, lets and allocations left empty on the
 * way up are removed too (a loop with nothing to run is no loop).
 */
export function removeStmt(root: Stmt, target: Stmt): Stmt {
  const path = pathTo(root, target);
  if (!path) throw new Error('internal: the statement to remove is not in the tree');
  const go = (s: Stmt, depth: number): Stmt => {
    if (s === target) return NOP;
    const next = depth + 1 < path.length ? path[depth + 1]! : target;
    const t = mapStmtChildren(s, { stmt: (c) => (c === next ? go(c, depth + 1) : c), expr: (e) => e });
    return isEmptyContainer(t) ? NOP : t;
  };
  return go(root, 0);
}

function isEmptyContainer(s: Stmt): boolean {
  switch (s.kind) {
    case 'seq':
      return s.stmts.length === 0;
    case 'for':
    case 'let':
    case 'allocate':
      return isNop(s.body);
    case 'if':
      return isNop(s.then) && (!s.else || isNop(s.else));
    default:
      return false;
  }
}

/** `loop` with `stmt` inserted at `position` of its body's statements. */
export function insertIntoLoop(loop: For, position: number, stmt: Stmt): For {
  const list = [...stmtList(loop.body)];
  list.splice(position, 0, stmt);
  return { ...loop, body: seq(list) };
}

/**
 * The statement directly under the function's top-level allocations (and
 * sequence) that contains `target`: a kernel's launch, where caches are staged.
 */
export function topLevelStmtOf(root: Stmt, target: Stmt): Stmt {
  const path = pathTo(root, target) ?? [];
  return path.find((s) => s.kind !== 'allocate' && s.kind !== 'seq') ?? target;
}

/** `body` with `b` allocated innermost among the allocations at its top, where TVM keeps a root block's buffers. */
export function allocateAtTop(body: Stmt, b: Buffer): Stmt {
  if (body.kind === 'allocate') return { ...body, body: allocateAtTop(body.body, b) };
  return allocate(b, body);
}

/** `body` without the allocation of `b` (its body stays). */
export function removeAllocation(body: Stmt, b: Buffer): Stmt {
  const m: StmtMapper = {
    stmt: (s) => (s.kind === 'allocate' && s.buffer === b ? m.stmt(s.body) : mapStmtChildren(s, m)),
    expr: (e) => e,
  };
  return m.stmt(body);
}

/** A replacement access: the buffer and indices to use instead. */
export type AccessRewrite = (indices: readonly PrimExpr[]) => { buffer: Buffer; indices: readonly PrimExpr[] };

/** `s` with every load and store of `b` rewritten by `rw` (blocks' bodies and inits included). */
export function rewriteAccesses(s: Stmt, b: Buffer, rw: AccessRewrite): Stmt {
  const expr = (e: PrimExpr): PrimExpr => {
    const x = mapPrimChildren(e, expr);
    if (x.kind !== 'load' || x.buffer !== b) return x;
    const r = rw(x.indices);
    return load(r.buffer, r.indices);
  };
  const m: StmtMapper = {
    stmt: (x) => {
      const t = mapStmtChildren(x, m);
      if (t.kind !== 'store' || t.buffer !== b) return t;
      const r = rw(t.indices);
      return store(r.buffer, r.indices, t.value);
    },
    expr,
  };
  return m.stmt(s);
}
