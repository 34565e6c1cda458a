/**
 * Who touches which buffer: the outermost blocks of a function in program
 * order with the buffers each reads and writes, the buffers touched outside
 * any block, and where a buffer comes from (a parameter or an allocation).
 * The data-movement primitives decide from these whether a move keeps every
 * read seeing the value it saw before.
 */
import { type PrimExpr, visitPrim } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { inferBlockRegions } from '../../ir/tir/regions.ts';
import {
  type Allocate,
  type BlockRealize,
  type For,
  mapStmtChildren,
  type PrimFunc,
  type Stmt,
  visitStmts,
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { pathTo } from '../tree.ts';

export interface BlockAccess {
  readonly realize: BlockRealize;
  /** Position in program order among the outermost blocks. */
  readonly order: number;
  readonly reads: ReadonlySet<Buffer>;
  readonly writes: ReadonlySet<Buffer>;
}

/**
 * The outermost blocks under `body` in program order, with the buffers each
 * reads and writes (regions inferred from the body, not taken on trust from
 * the declaration; loads in the iterator values and predicate count as reads).
 */
export function blockAccesses(body: Stmt): BlockAccess[] {
  const out: BlockAccess[] = [];
  const walk = (s: Stmt): void => {
    if (s.kind !== 'block_realize') {
      mapStmtChildren(s, { stmt: (c) => (walk(c), c), expr: (e) => e });
      return;
    }
    const { reads, writes } = inferBlockRegions(s.block);
    const r = new Set(reads.map((x) => x.buffer));
    for (const e of [...s.iterValues, s.predicate]) loadedBuffers(e, r);
    out.push({ realize: s, order: out.length, reads: r, writes: new Set(writes.map((x) => x.buffer)) });
  };
  walk(body);
  return out;
}

/** The access record of `realize` (one of the outermost blocks). */
export function accessOf(all: readonly BlockAccess[], realize: BlockRealize): BlockAccess {
  const a = all.find((x) => x.realize === realize);
  if (!a) throw new Error(`internal: block '${realize.block.name}' is not an outermost block`);
  return a;
}

/** Buffers loaded in `e`, added to `into`. */
export function loadedBuffers(e: PrimExpr, into: Set<Buffer> = new Set()): Set<Buffer> {
  visitPrim(e, (x) => {
    if (x.kind === 'load') into.add(x.buffer);
  });
  return into;
}

/** Buffers read or written by statements outside every block (loop bounds, bare stores, ifs, lets). */
export function looseBuffers(body: Stmt): Set<Buffer> {
  const out = new Set<Buffer>();
  const walk = (s: Stmt): void => {
    if (s.kind === 'block_realize') {
      for (const e of [...s.iterValues, s.predicate]) loadedBuffers(e, out);
      return;
    }
    if (s.kind === 'store') out.add(s.buffer);
    mapStmtChildren(s, { stmt: (c) => (walk(c), c), expr: (e) => (loadedBuffers(e, out), e) });
  };
  walk(body);
  return out;
}

export function isParam(f: PrimFunc, b: Buffer): boolean {
  return f.params.includes(b);
}

/** The statement allocating `b`, if the function allocates it. */
export function findAllocate(body: Stmt, b: Buffer): Allocate | undefined {
  let found: Allocate | undefined;
  visitStmts(body, (s) => {
    if (s.kind === 'allocate' && s.buffer === b) found = s;
  });
  return found;
}

/** The innermost loop around both blocks, if any: where their iterations interleave. */
export function sharedLoop(body: Stmt, x: BlockRealize, y: BlockRealize): For | undefined {
  const py = new Set(pathTo(body, y) ?? []);
  const common = (pathTo(body, x) ?? []).filter((s): s is For => s.kind === 'for' && py.has(s));
  return common[common.length - 1];
}

/** Fails unless `realize` is an outermost block: blocks nested in blocks have a scope of their own. */
export function requireOutermost(f: PrimFunc, realize: BlockRealize, ctx: PrimitiveContext): void {
  const outer = (pathTo(f.body, realize) ?? []).find((s) => s.kind === 'block_realize');
  if (outer?.kind === 'block_realize') {
    scheduleFail(
      ctx,
      `block '${realize.block.name}' is nested in block '${outer.block.name}'; only outermost blocks are supported`,
    );
  }
}

/** Fails when `b` is read or written outside every block, where no region describes the access. */
export function requireNoLooseAccess(body: Stmt, b: Buffer, ctx: PrimitiveContext): void {
  if (looseBuffers(body).has(b)) {
    scheduleFail(ctx, `buffer '${b.name}' is accessed by a statement outside every block, whose effect cannot be tracked`);
  }
}

/** `base`, or `base_1`, `base_2`, ... : the first name no block of the function has. */
export function freshBlockName(body: Stmt, base: string): string {
  return freshName(blockNameSet(body), base);
}

/**
 * `base`, or `base_1`, ... : the first name that no block and no buffer of the
 * function has; a cache stage's block and buffer share it, as in TVM.
 */
export function freshStageName(f: PrimFunc, base: string): string {
  const taken = blockNameSet(f.body);
  for (const p of f.params) taken.add(p.name);
  visitStmts(f.body, (s) => {
    if (s.kind === 'allocate') taken.add(s.buffer.name);
  });
  return freshName(taken, base);
}

function blockNameSet(body: Stmt): Set<string> {
  const taken = new Set<string>();
  visitStmts(body, (s) => {
    if (s.kind === 'block_realize') taken.add(s.block.name);
  });
  return taken;
}

function freshName(taken: ReadonlySet<string>, base: string): string {
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Buffer names for messages: `'A', 'B'`. */
export function bufferList(bs: Iterable<Buffer>): string {
  return [...bs].map((b) => `'${b.name}'`).join(', ');
}
