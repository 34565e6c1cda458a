/**
 * The operands of the CPU rules' kernels: which load moves with a loop and
 * which is broadcast across the vector, and the layouts the rules give a
 * parameter (B in panels, a filter by rows, an input padded or subsampled),
 * applied with `transform_layout`.
 */
import { constInt, type PrimExpr, type PrimVar, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { BlockRealize, For, Stmt } from '../../ir/tir/stmt.ts';
import { affineIn } from '../../ir/arith/affine.ts';
import { Analyzer } from '../../ir/arith/analyzer.ts';
import type { Schedule } from '../schedule.ts';
import type { RuleContext } from './rule.ts';
import { constExtent } from './nest.ts';
import { getBlockRealize } from '../tree.ts';
import { KilnError } from '../../support/diagnostics.ts';
import type { LayoutAxis } from '../primitives/layout.ts';

/** Lanes of one SIMD register for 32-bit elements. */
export const LANES = 4;

/** The block iterator that loop variable `v` drives alone, if any. */
export function iterDrivenBy(realize: BlockRealize, v: PrimVar): PrimVar | undefined {
  const at = realize.iterValues.findIndex((e) => e === v);
  return at < 0 ? undefined : realize.block.iterVars[at]!.var;
}

export function isVar(e: PrimExpr | undefined, v: PrimVar): boolean {
  return e === v;
}

/** The store a block body makes, bare or under a guard (a convolution's padding). */
export function guardedStore(body: Stmt): (Stmt & { kind: 'store' }) | undefined {
  if (body.kind === 'store') return body;
  if (body.kind === 'if' && !body.else && body.then.kind === 'store') return body.then;
  return undefined;
}

/** How many elements `e` moves per step of `it` (Infinity when not a positive constant). */
export function stride(e: PrimExpr, it: PrimVar): number {
  const coef = affineIn(e, it)?.coef;
  return coef !== undefined && coef > 0 ? coef : Infinity;
}

/**
 * Whether the store moves one element per step of loop `v` along its last axis, and every load that moves
 * with v moves along its last axis only: one element per step, or two (a stride-2 convolution's input,
 * which the code generator loads as two vectors and a shuffle).
 */
export function contiguousAlong(realize: BlockRealize, store: Stmt & { kind: 'store' }, v: PrimVar): boolean {
  const it = iterDrivenBy(realize, v);
  if (!it || !isVar(store.indices[store.indices.length - 1], it)) return false;
  if (store.indices.slice(0, -1).some((x) => usesVar(x, it))) return false;
  return loadsOf(store.value).every(
    ({ indices }) =>
      !indices.some((x) => usesVar(x, it)) ||
      (stride(indices[indices.length - 1]!, it) <= 2 && !indices.slice(0, -1).some((x) => usesVar(x, it))),
  );
}

/** The product operand that does not move with loop `v` (broadcast across the vector), if one does not. */
export function broadcastLoad(
  realize: BlockRealize,
  store: Stmt & { kind: 'store' },
  v: PrimVar,
): { buffer: Buffer; indices: readonly PrimExpr[] } | undefined {
  const it = iterDrivenBy(realize, v)!;
  return loadsOf(store.value).find((l) => l.buffer !== store.buffer && !l.indices.some((x) => usesVar(x, it)));
}

/** The product operand that moves with block iterator `it` (a matmul's B, a convolution's input), if one does. */
export function movingLoad(
  store: Stmt & { kind: 'store' },
  it: PrimVar,
): { buffer: Buffer; indices: readonly PrimExpr[] } | undefined {
  return loadsOf(store.value).find((l) => l.buffer !== store.buffer && l.indices.some((x) => usesVar(x, it)));
}

export function loadsOf(e: PrimExpr): { buffer: Buffer; indices: readonly PrimExpr[] }[] {
  const out: { buffer: Buffer; indices: readonly PrimExpr[] }[] = [];
  visitPrim(e, (x) => {
    if (x.kind === 'load') out.push({ buffer: x.buffer, indices: x.indices });
  });
  return out;
}

/**
 * The panel layout of B, when B is a parameter the schedule may re-lay out (a constant at every call)
 * read as B[..., k, j] with k the reduction and j the output column: [..., N/NR, K, NR].
 */
export function panelLayout(
  sch: Schedule,
  realize: BlockRealize,
  store: Stmt & { kind: 'store' },
  jLoop: For,
  kLoop: For,
  nr: number,
  ctx: RuleContext,
): { param: number; map: LayoutAxis[] } | undefined {
  const jt = iterDrivenBy(realize, jLoop.loopVar);
  const kt = iterDrivenBy(realize, kLoop.loopVar);
  if (!jt || !kt) return undefined;
  const moving = movingLoad(store, jt);
  if (!moving) return undefined;
  const param = sch.func.params.indexOf(moving.buffer);
  if (param < 0 || !ctx.layoutFree?.has(param)) return undefined;
  const r = moving.indices.length;
  if (r < 2 || moving.indices[r - 1] !== jt || moving.indices[r - 2] !== kt) return undefined;
  if (moving.indices.slice(0, -2).some((x) => usesVar(x, jt) || usesVar(x, kt))) return undefined;
  const n = moving.buffer.shape[r - 1]!;
  if (n.kind !== 'int' || n.value % nr !== 0 || moving.buffer.shape[r - 2]!.kind !== 'int') return undefined;
  return { param, map: splitOut(r, r - 1, nr, r - 2) };
}

/**
 * The panel layout of an operand along block iterator `it`, when the operand is a parameter the schedule
 * may re-lay out, indexed by `it` on exactly one axis, not already the last: that axis split by `mr`, its
 * quotient first and its remainder last ([O, C, KH, KW] becomes [O/mr, C, KH, KW, mr]).
 */
export function panelAlong(
  sch: Schedule,
  operand: { buffer: Buffer; indices: readonly PrimExpr[] },
  it: PrimVar,
  mr: number,
  ctx: RuleContext,
): { param: number; map: LayoutAxis[] } | undefined {
  const param = sch.func.params.indexOf(operand.buffer);
  if (param < 0 || !ctx.layoutFree?.has(param)) return undefined;
  const r = operand.indices.length;
  const axis = operand.indices.findIndex((x) => x === it);
  if (axis < 0 || axis === r - 1 || operand.indices.some((x, a) => a !== axis && usesVar(x, it))) return undefined;
  const extent = operand.buffer.shape[axis]!;
  if (extent.kind !== 'int' || extent.value % mr !== 0) return undefined;
  return { param, map: splitOut(r, axis, mr, 0) };
}

/**
 * A layout of a rank-`r` buffer with `axis` split by `factor`: the quotient placed before the other axes'
 * position `at`, the others in order, the remainder last ([K, N] with N by 8 before K: [N/8, K, 8]).
 */
export function splitOut(r: number, axis: number, factor: number, at: number): LayoutAxis[] {
  const others = Array.from({ length: r }, (_, a): LayoutAxis => ['axis', a]).filter(([, a]) => a !== axis);
  return [...others.slice(0, at), ['div', axis, factor], ...others.slice(at), ['mod', axis, factor]];
}

/**
 * A packed layout (splitOut's) with the source axis `axis` moved last before the remainder: a filter
 * [O/NR, C, KH, KW, NR] read tap by tap, each tap over every input channel, as [O/NR, KH, KW, C, NR].
 */
export function axisBeforeRemainder(map: readonly LayoutAxis[], axis: number): LayoutAxis[] {
  const at = map.findIndex(([kind, a]) => kind === 'axis' && a === axis);
  if (at < 0) return [...map];
  const rest = map.filter((_, i) => i !== at);
  return [...rest.slice(0, -1), map[at]!, rest[rest.length - 1]!];
}

/**
 * Pads a parameter `operand` reads past its bounds (a convolution's input), by the most it reads past each end.
 * `spreadPlanes`: for a reader that takes one window of every channel in turn (a convolution over channels),
 * each channel's padded plane an odd number of vectors long, so the planes start on different L1 sets.
 */
export function padInput(
  sch: Schedule,
  realize: BlockRealize,
  operand: { buffer: Buffer; indices: readonly PrimExpr[] },
  { spreadPlanes = false }: { spreadPlanes?: boolean } = {},
): void {
  const param = sch.func.params.indexOf(operand.buffer);
  if (param < 0) return;
  const analyzer = new Analyzer();
  for (const iv of realize.block.iterVars) analyzer.bind(iv.var, iv.dom);
  let padded = false;
  const map = operand.indices.map((e, axis): LayoutAxis => {
    const extent = operand.buffer.shape[axis]!;
    const { min, max } = analyzer.constIntBound(e);
    if (extent.kind !== 'int' || !Number.isFinite(min) || !Number.isFinite(max)) return ['axis', axis];
    const before = Math.max(0, -min);
    let after = Math.max(0, max - (extent.value - 1));
    if (before === 0 && after === 0) return ['axis', axis];
    const last = operand.indices.length - 1;
    if (axis === last) {
      // Rows a whole number of vectors long: the copy that pads runs as vectors (the extra zeros go unread).
      after += (LANES - ((extent.value + before + after) % LANES)) % LANES;
      if (spreadPlanes && ((extent.value + before + after) / LANES) % 2 === 0) after += LANES;
    } else if (spreadPlanes && axis === last - 1 && (extent.value + before + after) % 2 === 0) {
      // Odd rows of odd vectors: planes a power of two apart (14x14 padded to 16x16: 1 KB) fall in a few
      // sets and evict each other (3x3 256->256 over 14x14, one thread: 6% faster spread).
      after += 1;
    }
    padded = true;
    return ['pad', axis, before, after];
  });
  if (padded) sch.transformLayout(param, map);
}

/**
 * Whether a depthwise convolution pads each channel's plane inside the kernel (`pad_read` under the channel
 * loop): when the planes, padded, fit in half the L2 and there are enough of them for the threads to share.
 */
export function padsPerPlane(
  sch: Schedule,
  spatial: readonly For[],
  iLoop: For,
  input: { buffer: Buffer; indices: readonly PrimExpr[] },
  l2Bytes: number,
): boolean {
  // At least this many: a symbolic extent (a batch of any size) counts as one.
  const planes = spatial.slice(0, spatial.indexOf(iLoop)).reduce((p, l) => p * (constExtent([l]) ?? 1), 1);
  if (planes < MIN_PLANES) return false;
  const r = input.indices.length;
  const [rows, cols] = input.buffer.shape.slice(r - 2).map((d) => constInt(d));
  if (rows === undefined || cols === undefined) return false;
  // The window adds a few rows and columns; an upper bound is enough here.
  const bytes = (rows + 8) * (cols + 8 + LANES) * 4;
  // An input the kernel takes, as for the padded copy before the call (padInput pads parameters only).
  return bytes <= Math.min(l2Bytes / 2, MAX_PLANE_STAGE_BYTES) && sch.func.params.includes(input.buffer);
}

/**
 * The most a padded plane may take on the thread's stack (1 MiB per thread, src/codegen/wasm/module.ts),
 * whatever L2 a target file describes.
 */
const MAX_PLANE_STAGE_BYTES = 256 * 1024;

/** Planes (channels times images) below which a depthwise convolution stays parallel over row tiles too. */
const MIN_PLANES = 16;

/** Takes the input of a stride-2 convolution subsampled by 2 along its last two axes, where every read lands on the step. */
export function subsampleInput(sch: Schedule, store: Stmt & { kind: 'store' }, jt: PrimVar): void {
  const moving = movingLoad(store, jt);
  if (!moving) return;
  const r = moving.indices.length;
  if (r < 2 || stride(moving.indices[r - 1]!, jt) !== 2) return;
  const param = sch.func.params.indexOf(moving.buffer);
  if (param < 0) return;
  const map: LayoutAxis[] = moving.buffer.shape.map((_, i): LayoutAxis => (i >= r - 2 ? ['step', i, 2] : ['axis', i]));
  // The primitive checks every read lands on the step (a padded or 3x3 window does not): tried on a fork.
  try {
    sch.fork().transformLayout(param, map);
  } catch (e) {
    if (e instanceof KilnError) return;
    throw e;
  }
  sch.transformLayout(param, map);
}

/** The read index of the product operand that moves with loop `v` (the B panel), or -1. */
export function broadcastPanel(
  sch: Schedule,
  name: string,
  store: Stmt & { kind: 'store' },
  v: PrimVar,
  realize: BlockRealize,
): number {
  const moving = movingLoad(store, iterDrivenBy(realize, v)!);
  if (!moving) return -1;
  return getBlockRealize(sch.func, name, { kernel: sch.kernel, primitive: 'cache_read' }).block.reads.findIndex(
    (r) => r.buffer === moving.buffer,
  );
}
