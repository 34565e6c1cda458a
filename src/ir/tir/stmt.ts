/**
 * TensorIR statements and PrimFuncs: loop-level tensor programs.
 *
 * A block is the unit schedules work on: it names its iterators (spatial or
 * reduce, each with a domain), the regions it reads and writes, and an
 * optional `init` that runs on the first iteration of its reduce iterators.
 * A block-realize binds the block's iterators to values of the loops around it.
 */
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import { INDEX_DTYPE } from '../dtype.ts';
import { boolImm, intImm, mapArray, type PrimExpr, type PrimLike, type PrimVar } from '../prim/expr.ts';
import type { Buffer } from './buffer.ts';

export interface Range {
  readonly min: PrimExpr;
  readonly extent: PrimExpr;
}

export function range(min: PrimLike, extent: PrimLike): Range {
  return {
    min: typeof min === 'number' ? intImm(min) : min,
    extent: typeof extent === 'number' ? intImm(extent) : extent,
  };
}

export type ForKind = 'serial' | 'parallel' | 'vectorized' | 'unrolled' | 'thread_binding';
export const FOR_KINDS: readonly ForKind[] = ['serial', 'parallel', 'vectorized', 'unrolled', 'thread_binding'];

export type ThreadTag = 'blockIdx.x' | 'blockIdx.y' | 'blockIdx.z' | 'threadIdx.x' | 'threadIdx.y' | 'threadIdx.z';
export const THREAD_TAGS: readonly ThreadTag[] = [
  'blockIdx.x',
  'blockIdx.y',
  'blockIdx.z',
  'threadIdx.x',
  'threadIdx.y',
  'threadIdx.z',
];

/**
 * The annotation on an unrolled loop that gives it its own budget of body
 * copies (a number): lowering writes the loop out while its copies, times
 * those of the unrolled loops inside, stay within it (passes/tir/unroll-loops.ts).
 */
export const MAX_COPIES = 'max_copies';

export interface For {
  readonly kind: 'for';
  readonly loopVar: PrimVar;
  readonly min: PrimExpr;
  readonly extent: PrimExpr;
  readonly forKind: ForKind;
  /** Set exactly when forKind is thread_binding. */
  readonly thread?: ThreadTag;
  readonly annotations: AttrMap;
  readonly body: Stmt;
}

export type IterKind = 'spatial' | 'reduce';

export interface IterVar {
  readonly var: PrimVar;
  readonly dom: Range;
  readonly iterKind: IterKind;
}

export interface BufferRegion {
  readonly buffer: Buffer;
  readonly region: readonly Range[];
}

export interface Block {
  readonly name: string;
  readonly iterVars: readonly IterVar[];
  readonly reads: readonly BufferRegion[];
  readonly writes: readonly BufferRegion[];
  readonly init?: Stmt;
  readonly body: Stmt;
  readonly annotations: AttrMap;
}

export interface BlockRealize {
  readonly kind: 'block_realize';
  /** One value per iterator of the block, in terms of the enclosing loops. */
  readonly iterValues: readonly PrimExpr[];
  readonly predicate: PrimExpr;
  readonly block: Block;
}

export interface BufferStore {
  readonly kind: 'store';
  readonly buffer: Buffer;
  readonly indices: readonly PrimExpr[];
  readonly value: PrimExpr;
}

/** Allocates a (shared, local or global scratch) buffer for the extent of `body`. */
export interface Allocate {
  readonly kind: 'allocate';
  readonly buffer: Buffer;
  readonly body: Stmt;
}

export interface IfThenElse {
  readonly kind: 'if';
  readonly cond: PrimExpr;
  readonly then: Stmt;
  readonly else?: Stmt;
}

export interface LetStmt {
  readonly kind: 'let';
  readonly var: PrimVar;
  readonly value: PrimExpr;
  readonly body: Stmt;
}

export interface SeqStmt {
  readonly kind: 'seq';
  readonly stmts: readonly Stmt[];
}

export interface Evaluate {
  readonly kind: 'evaluate';
  readonly value: PrimExpr;
}

export type Stmt = For | BlockRealize | BufferStore | Allocate | IfThenElse | LetStmt | SeqStmt | Evaluate;

/** A parameter of a PrimFunc: a buffer, or a scalar passed by value. */
export type PrimParam = Buffer | PrimVar;

export interface PrimFunc {
  readonly kind: 'prim_func';
  readonly params: readonly PrimParam[];
  readonly body: Stmt;
  readonly attrs: AttrMap;
}

// --- factories ---------------------------------------------------------------

export function forLoop(
  loopVar: PrimVar,
  min: PrimLike,
  extent: PrimLike,
  body: Stmt,
  options: { forKind?: ForKind; thread?: ThreadTag; annotations?: AttrMap } = {},
): For {
  const forKind = options.forKind ?? (options.thread ? 'thread_binding' : 'serial');
  const r = range(min, extent);
  return {
    kind: 'for',
    loopVar,
    min: r.min,
    extent: r.extent,
    forKind,
    ...(options.thread ? { thread: options.thread } : {}),
    annotations: options.annotations ?? NO_ATTRS,
    body,
  };
}

export function block(fields: {
  name: string;
  iterVars?: readonly IterVar[];
  reads?: readonly BufferRegion[];
  writes?: readonly BufferRegion[];
  init?: Stmt;
  body: Stmt;
  annotations?: AttrMap;
}): Block {
  return {
    name: fields.name,
    iterVars: fields.iterVars ?? [],
    reads: fields.reads ?? [],
    writes: fields.writes ?? [],
    ...(fields.init ? { init: fields.init } : {}),
    body: fields.body,
    annotations: fields.annotations ?? NO_ATTRS,
  };
}

export function blockRealize(iterValues: readonly PrimExpr[], block: Block, predicate: PrimExpr = boolImm(true)): BlockRealize {
  return { kind: 'block_realize', iterValues, predicate, block };
}

export function iterVar(v: PrimVar, dom: Range, iterKind: IterKind): IterVar {
  return { var: v, dom, iterKind };
}

export function store(buffer: Buffer, indices: readonly PrimLike[], value: PrimExpr): BufferStore {
  return { kind: 'store', buffer, indices: indices.map((i) => (typeof i === 'number' ? intImm(i, INDEX_DTYPE) : i)), value };
}

export function allocate(buffer: Buffer, body: Stmt): Allocate {
  return { kind: 'allocate', buffer, body };
}

export function ifThenElse(cond: PrimExpr, then: Stmt, otherwise?: Stmt): IfThenElse {
  return otherwise ? { kind: 'if', cond, then, else: otherwise } : { kind: 'if', cond, then };
}

export function letStmt(v: PrimVar, value: PrimExpr, body: Stmt): LetStmt {
  return { kind: 'let', var: v, value, body };
}

/**
 * A sequence, flattened: nested sequences are spliced in and a single
 * statement is returned as is, so equal programs have one shape.
 */
export function seq(stmts: readonly Stmt[]): Stmt {
  const flat: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === 'seq') flat.push(...s.stmts);
    else flat.push(s);
  }
  if (flat.length === 1) return flat[0]!;
  return { kind: 'seq', stmts: flat };
}

export function evaluate(value: PrimExpr): Evaluate {
  return { kind: 'evaluate', value };
}

export function primFunc(params: readonly PrimParam[], body: Stmt, attrs: AttrMap = NO_ATTRS): PrimFunc {
  return { kind: 'prim_func', params, body, attrs };
}

export function isBufferParam(p: PrimParam): p is Buffer {
  return p.kind === 'buffer';
}

// --- generic traversal ------------------------------------------------------

export interface StmtMapper {
  stmt: (s: Stmt) => Stmt;
  expr: (e: PrimExpr) => PrimExpr;
}

function mapRange(r: Range, f: (e: PrimExpr) => PrimExpr): Range {
  const min = f(r.min);
  const extent = f(r.extent);
  return min === r.min && extent === r.extent ? r : { min, extent };
}

function mapRegion(r: BufferRegion, f: (e: PrimExpr) => PrimExpr): BufferRegion {
  const region = mapArray(r.region, (x) => mapRange(x, f));
  return region === r.region ? r : { buffer: r.buffer, region };
}

/** Rebuilds a block with `m` applied to its child statements and expressions. */
export function mapBlock(b: Block, m: StmtMapper): Block {
  const iterVars = mapArray(b.iterVars, (iv) => {
    const dom = mapRange(iv.dom, m.expr);
    return dom === iv.dom ? iv : { ...iv, dom };
  });
  const reads = mapArray(b.reads, (r) => mapRegion(r, m.expr));
  const writes = mapArray(b.writes, (r) => mapRegion(r, m.expr));
  const init = b.init ? m.stmt(b.init) : undefined;
  const body = m.stmt(b.body);
  if (iterVars === b.iterVars && reads === b.reads && writes === b.writes && init === b.init && body === b.body) return b;
  return { ...b, iterVars, reads, writes, ...(init ? { init } : {}), body };
}

/**
 * Rebuilds `s` with `m` applied to each direct child statement and
 * expression; returns `s` itself when nothing changed.
 */
export function mapStmtChildren(s: Stmt, m: StmtMapper): Stmt {
  switch (s.kind) {
    case 'for': {
      const min = m.expr(s.min);
      const extent = m.expr(s.extent);
      const body = m.stmt(s.body);
      return min === s.min && extent === s.extent && body === s.body ? s : { ...s, min, extent, body };
    }
    case 'block_realize': {
      const iterValues = mapArray(s.iterValues, m.expr);
      const predicate = m.expr(s.predicate);
      const b = mapBlock(s.block, m);
      return iterValues === s.iterValues && predicate === s.predicate && b === s.block
        ? s
        : { ...s, iterValues, predicate, block: b };
    }
    case 'store': {
      const indices = mapArray(s.indices, m.expr);
      const value = m.expr(s.value);
      return indices === s.indices && value === s.value ? s : { ...s, indices, value };
    }
    case 'allocate': {
      const body = m.stmt(s.body);
      return body === s.body ? s : { ...s, body };
    }
    case 'if': {
      const cond = m.expr(s.cond);
      const then = m.stmt(s.then);
      const otherwise = s.else ? m.stmt(s.else) : undefined;
      return cond === s.cond && then === s.then && otherwise === s.else ? s : ifThenElse(cond, then, otherwise);
    }
    case 'let': {
      const value = m.expr(s.value);
      const body = m.stmt(s.body);
      return value === s.value && body === s.body ? s : { ...s, value, body };
    }
    case 'seq': {
      const stmts = mapArray(s.stmts, m.stmt);
      return stmts === s.stmts ? s : seq(stmts);
    }
    case 'evaluate': {
      const value = m.expr(s.value);
      return value === s.value ? s : { ...s, value };
    }
  }
}

/** Calls `f` on every statement under `s` (parents first), blocks' init included. */
export function visitStmts(s: Stmt, f: (s: Stmt) => void): void {
  f(s);
  switch (s.kind) {
    case 'for':
    case 'allocate':
    case 'let':
      visitStmts(s.body, f);
      return;
    case 'block_realize':
      if (s.block.init) visitStmts(s.block.init, f);
      visitStmts(s.block.body, f);
      return;
    case 'if':
      visitStmts(s.then, f);
      if (s.else) visitStmts(s.else, f);
      return;
    case 'seq':
      for (const c of s.stmts) visitStmts(c, f);
      return;
    case 'store':
    case 'evaluate':
      return;
  }
}

/** Whether `s` holds a GPU barrier (workgroup_barrier, storage_barrier): every thread of a workgroup must reach it alike. */
export function hasBarrier(s: Stmt): boolean {
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

/** All blocks under `s`, in program order. */
export function collectBlocks(s: Stmt): BlockRealize[] {
  const out: BlockRealize[] = [];
  visitStmts(s, (x) => {
    if (x.kind === 'block_realize') out.push(x);
  });
  return out;
}
