/**
 * Shape helpers shared by the operator families: a compact printer of dims
 * for error messages, axis normalization, rank and dtype checks, and
 * broadcasting, all speaking the same message style (op, argument, shape).
 */
import type { Analyzer } from '../ir/arith/analyzer.ts';
import { type DataType, INDEX_DTYPE } from '../ir/dtype.ts';
import { printPrimExpr } from '../ir/text/printer.ts';
import { intImm, ne, type PrimExpr } from '../ir/prim/expr.ts';
import { type ShapeStructInfo, type StructInfo, tensorSI, type TensorStructInfo } from '../ir/graph/struct-info.ts';
import type { InferContext } from './registry.ts';

// --- printing ------------------------------------------------------------------

/** A prim expression as the text format writes it: `n * 4`, `h // 2 + 1`. */
export function fmtExpr(e: PrimExpr): string {
  return printPrimExpr(e);
}

/** `(n, 3)`, `(4,)`, `()`; `(?, ?)` when only the rank is known, `(...)` when not even that. */
export function fmtShape(s: TensorStructInfo | ShapeStructInfo): string {
  const dims = s.kind === 'tensor' ? s.shape : s.values;
  if (dims) return fmtDims(dims);
  if (s.ndim < 0) return '(...)';
  return fmtDims(Array.from({ length: s.ndim }, () => '?'));
}

export function fmtDims(dims: readonly (PrimExpr | string)[]): string {
  const parts = dims.map((d) => (typeof d === 'string' ? d : fmtExpr(d)));
  return parts.length === 1 ? `(${parts[0]!},)` : `(${parts.join(', ')})`;
}

/** `argument 'x' of shape (n, 3)`: how messages name a tensor argument. */
export function argText(name: string, t: TensorStructInfo): string {
  return `argument '${name}' of shape ${fmtShape(t)}`;
}

/** What a value is, for "expected a tensor, found ..." messages. */
export function describeSinfo(s: StructInfo): string {
  switch (s.kind) {
    case 'tensor':
      return s.ndim < 0 ? 'a tensor of unknown rank' : `a tensor of shape ${fmtShape(s)}`;
    case 'tuple':
      return `a tuple of ${s.fields.length} field${s.fields.length === 1 ? '' : 's'}`;
    case 'shape':
      return `a shape ${fmtShape(s)}`;
    case 'prim':
      return `a prim value of type ${s.dtype}`;
    case 'object':
      return 'an object';
    case 'func':
      return 'a function';
  }
}

// --- building results ------------------------------------------------------------

/**
 * A tensor result: a full shape, or only a rank (-1 for unknown). It stays on
 * the device of `like` (the input it is computed from), when that is pinned.
 */
export function outTensor(shape: readonly PrimExpr[] | number, dtype: DataType, like?: TensorStructInfo): TensorStructInfo {
  return tensorSI(shape, dtype, like?.device);
}

/** A result with the shape (or rank) of `t` and the given dtype. */
export function sameShape(t: TensorStructInfo, dtype: DataType = t.dtype): TensorStructInfo {
  return outTensor(t.shape ?? t.ndim, dtype, t);
}

export function int(v: number): PrimExpr {
  return intImm(v, INDEX_DTYPE);
}

export function constValue(e: PrimExpr | undefined): number | undefined {
  return e?.kind === 'int' ? e.value : undefined;
}

// --- facts about dims -------------------------------------------------------------

export function provablyEqual(an: Analyzer, a: PrimExpr, b: PrimExpr): boolean {
  return an.proveEqual(a, b);
}

export function provablyDifferent(an: Analyzer, a: PrimExpr, b: PrimExpr): boolean {
  return an.canProve(ne(a, b));
}

// --- axes ------------------------------------------------------------------------

/** How messages name whose axes they are: an argument, or 'result' for axes of the result (expand_dims). */
function axisOwner(argName: string): string {
  return argName === 'result' ? 'the result' : `argument '${argName}'`;
}

/** Normalizes a possibly negative axis against a rank; out of range is an error naming the argument. */
export function normAxis(ctx: InferContext, axis: number, ndim: number, argName: string, context = ''): number {
  if (axis < -ndim || axis >= ndim) {
    ctx.shapeError(`axis ${axis} is out of range for ${axisOwner(argName)} of rank ${ndim}${context}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalizes a list of axes; repeated axes are an error. The result keeps the given order. */
export function normAxes(ctx: InferContext, axes: readonly number[], ndim: number, argName: string, context = ''): number[] {
  const out = axes.map((a) => normAxis(ctx, a, ndim, argName, context));
  const seen = new Set<number>();
  for (let i = 0; i < out.length; i++) {
    if (seen.has(out[i]!))
      ctx.shapeError(`axis ${axes[i]} is repeated in [${axes.join(', ')}] for ${axisOwner(argName)} of rank ${ndim}${context}`);
    seen.add(out[i]!);
  }
  return out;
}

// --- rank and dtype checks ---------------------------------------------------------

/** Fails unless the rank is unknown or `ndim` (or at least `min`). */
export function requireRank(ctx: InferContext, name: string, t: TensorStructInfo, rank: number | { min: number }): void {
  if (t.ndim < 0) return;
  if (typeof rank === 'number' && t.ndim !== rank) {
    ctx.shapeError(`expected ${argText(name, t)} to have rank ${rank}, found rank ${t.ndim}`);
  }
  if (typeof rank !== 'number' && t.ndim < rank.min) {
    ctx.shapeError(`expected ${argText(name, t)} to have rank at least ${rank.min}, found rank ${t.ndim}`);
  }
}

/** Fails unless all named tensors have one dtype; returns it. */
export function sameDtype(ctx: InferContext, args: readonly (readonly [string, TensorStructInfo])[]): DataType {
  const [firstName, first] = args[0]!;
  for (const [name, t] of args.slice(1)) {
    if (t.dtype !== first.dtype) {
      ctx.dtypeError(
        `argument '${firstName}' has dtype ${first.dtype} but argument '${name}' has dtype ${t.dtype}; insert an astype`,
      );
    }
  }
  return first.dtype;
}

/** Fails when a shape argument that becomes a result shape has a negative constant dim. */
export function requireSizes(ctx: InferContext, name: string, s: ShapeStructInfo): void {
  for (const d of s.values ?? []) {
    const v = constValue(d);
    if (v !== undefined && v < 0) ctx.shapeError(`argument '${name}' ${fmtShape(s)} has the negative size ${v}`);
  }
}

export function requireDtype(
  ctx: InferContext,
  name: string,
  t: { dtype: DataType },
  ok: (d: DataType) => boolean,
  what: string,
): void {
  if (!ok(t.dtype)) ctx.dtypeError(`argument '${name}' has dtype ${t.dtype}, expected ${what}`);
}

// --- broadcasting --------------------------------------------------------------------

export interface ShapeResult {
  /** Undefined when only the rank is known. */
  readonly shape?: readonly PrimExpr[];
  /** -1 when unknown. */
  readonly ndim: number;
}

export function resultTensor(r: ShapeResult, dtype: DataType, like?: TensorStructInfo): TensorStructInfo {
  return outTensor(r.shape ?? r.ndim, dtype, like);
}

/**
 * Numpy broadcasting of several tensors, right-aligned. A dim of 1 stretches;
 * equal dims (as the analyzer proves) stay. Dims that are provably different
 * and provably not 1 are an error; dims that cannot be decided (n vs m) make
 * the result shape unknown with its rank known, as Relax does.
 */
export function broadcast(ctx: InferContext, args: readonly (readonly [string, TensorStructInfo])[]): ShapeResult {
  return broadcastDims(
    ctx,
    args.map(([name, t]) => ({ name, t, dims: t.shape, ndim: t.ndim })),
    'cannot broadcast',
  );
}

/** One operand of a broadcast: the dims that take part (all of them, or matmul's batch dims) of a named tensor. */
export interface BroadcastOperand {
  readonly name: string;
  /** The whole tensor, for messages. */
  readonly t: TensorStructInfo;
  readonly dims: readonly PrimExpr[] | undefined;
  readonly ndim: number;
}

/** The broadcasting rule on explicit dims; `what` starts the error ("cannot broadcast the batch dims of"). */
export function broadcastDims(ctx: InferContext, args: readonly BroadcastOperand[], what: string): ShapeResult {
  if (args.some((a) => a.ndim < 0)) return { ndim: -1 };
  const ndim = Math.max(0, ...args.map((a) => a.ndim));
  const an = ctx.analyzer;
  const one = int(1);
  const out: PrimExpr[] = [];
  let known = args.every((a) => a.dims !== undefined);
  for (let k = 1; k <= ndim; k++) {
    // The current dim, with the operand it came from, for the message.
    let acc: { dim: PrimExpr; from: BroadcastOperand } | undefined;
    for (const a of args) {
      const d = a.dims?.[a.ndim - k];
      if (d === undefined) continue;
      if (acc === undefined || provablyEqual(an, acc.dim, one)) {
        acc = { dim: d, from: a };
        continue;
      }
      if (provablyEqual(an, d, one) || provablyEqual(an, acc.dim, d)) continue;
      if (provablyDifferent(an, acc.dim, d) && provablyDifferent(an, d, one) && provablyDifferent(an, acc.dim, one)) {
        ctx.shapeError(
          `${what} ${argText(acc.from.name, acc.from.t)} with ${argText(a.name, a.t)}: ` +
            `dims ${fmtExpr(acc.dim)} and ${fmtExpr(d)} differ and neither is 1`,
        );
      }
      known = false;
    }
    out.push(acc?.dim ?? one);
  }
  return known ? { shape: out.reverse(), ndim } : { ndim };
}
