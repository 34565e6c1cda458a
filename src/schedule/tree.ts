/**
 * Finding and replacing statements of a PrimFunc by identity: how schedule
 * primitives locate the blocks and loops their handles name, and how they put
 * a rewritten subtree back.
 */
import type { PrimVar } from '../ir/prim/expr.ts';
import { inferBlockRegions } from '../ir/tir/regions.ts';
import {
  type BlockRealize,
  type For,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  type Stmt,
  type StmtMapper,
  visitStmts,
} from '../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from './errors.ts';

/** The block realizes named `name` (a well-formed schedule has exactly one). */
export function blocksNamed(body: Stmt, name: string): BlockRealize[] {
  const out: BlockRealize[] = [];
  visitStmts(body, (s) => {
    if (s.kind === 'block_realize' && s.block.name === name) out.push(s);
  });
  return out;
}

/** The one block named `name`, or a schedule error. */
export function getBlockRealize(f: PrimFunc, name: string, ctx: PrimitiveContext): BlockRealize {
  const found = blocksNamed(f.body, name);
  if (found.length === 0) {
    const names = blockNames(f.body);
    scheduleFail(ctx, `no block named '${name}'${names.length > 0 ? ` (the blocks are ${names.join(', ')})` : ''}`);
  }
  if (found.length > 1) scheduleFail(ctx, `${found.length} blocks are named '${name}'; block names must be unique`);
  return found[0]!;
}

export function blockNames(body: Stmt): string[] {
  const out: string[] = [];
  visitStmts(body, (s) => {
    if (s.kind === 'block_realize') out.push(s.block.name);
  });
  return out;
}

/** The loop whose variable is `v`, or a schedule error. */
export function getLoop(f: PrimFunc, v: PrimVar, ctx: PrimitiveContext): For {
  let found: For | undefined;
  visitStmts(f.body, (s) => {
    if (s.kind === 'for' && s.loopVar === v) found = s;
  });
  if (!found) scheduleFail(ctx, `loop '${v.name}' is not in the kernel (a later primitive replaced it?)`);
  return found;
}

/** The statements from the root down to `target`, excluding it; undefined when it is not under `root`. */
export function pathTo(root: Stmt, target: Stmt): Stmt[] | undefined {
  const path: Stmt[] = [];
  const walk = (s: Stmt): boolean => {
    if (s === target) return true;
    path.push(s);
    let hit = false;
    const children: Stmt[] = [];
    mapStmtChildren(s, {
      stmt: (c) => (children.push(c), c),
      expr: (e) => e,
    });
    for (const c of children) {
      if (walk(c)) {
        hit = true;
        break;
      }
    }
    if (!hit) path.pop();
    return hit;
  };
  return walk(root) ? path : undefined;
}

/** The loops enclosing `target`, outermost first. */
export function loopsAbove(root: Stmt, target: Stmt): For[] {
  return (pathTo(root, target) ?? []).filter((s): s is For => s.kind === 'for');
}

/** `root` with the statement `target` (by identity) replaced. */
export function replaceStmt(root: Stmt, target: Stmt, replacement: Stmt): Stmt {
  const m: StmtMapper = {
    stmt: (s) => (s === target ? replacement : mapStmtChildren(s, m)),
    expr: (e) => e,
  };
  return m.stmt(root);
}

/** The function with a new body, every block's read and write regions re-inferred. */
export function withBody(f: PrimFunc, body: Stmt): PrimFunc {
  return primFunc(f.params, refreshRegions(body), f.attrs);
}

/** Re-infers the read/write regions of every block (primitives change what blocks touch). */
export function refreshRegions(root: Stmt): Stmt {
  const m: StmtMapper = {
    stmt: (s) => {
      const t = mapStmtChildren(s, m);
      if (t.kind !== 'block_realize') return t;
      const { reads, writes } = inferBlockRegions(t.block);
      return { ...t, block: { ...t.block, reads, writes } };
    },
    expr: (e) => e,
  };
  return m.stmt(root);
}
