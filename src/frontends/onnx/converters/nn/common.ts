/** Helpers shared by the neural-network converters. */
import { type DataType, INDEX_DTYPE } from '../../../../ir/dtype.ts';
import { intImm, type PrimExpr } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { literal, literalNumber } from '../../context.ts';
import type { KnownValue, Value } from '../../values.ts';

export const idx = (n: number): PrimExpr => intImm(n, INDEX_DTYPE);

/** A scalar of `dtype`, known at import time (Kiln never promotes: scalars take the tensor's dtype). */
export function scalar(ctx: NodeContext, v: number, dtype: DataType): KnownValue {
  return ctx.knownValue(dtype, [], [literal(v, dtype)]);
}

/** Whether output `i` of the node is used (named). */
export function requested(ctx: NodeContext, i: number): boolean {
  return (ctx.node.output[i] ?? '') !== '';
}

/** Fails when any output from `first` on is used. */
export function onlyFirstOutputs(ctx: NodeContext, first: number, why: string): void {
  for (let i = first; i < ctx.node.output.length; i++) {
    if (requested(ctx, i)) ctx.fail(`output ${i} ('${ctx.node.output[i]}') is not supported: ${why}`);
  }
}

/** The literal values of dims, or undefined when one is symbolic. */
export function staticDims(ctx: NodeContext, dims: readonly PrimExpr[]): number[] | undefined {
  const out: number[] = [];
  for (const d of dims) {
    const n = literalNumber(ctx.simplify(d));
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** The elements of known input `i` as numbers (floats or integers), or undefined when it is not known. */
export function knownNumbers(ctx: NodeContext, i: number): number[] | undefined {
  return ctx.has(i) ? ctx.knownInts(i) : undefined;
}

/** `v` reshaped; a known value stays known when the new dims are literals. */
export function reshape(ctx: NodeContext, v: Value, dims: readonly (PrimExpr | number)[]): Value {
  if (v.kind === 'known') {
    const lits = dims.map((d) => (typeof d === 'number' ? d : literalNumber(ctx.simplify(d))));
    if (lits.every((d) => d !== undefined)) return ctx.knownValue(v.dtype, lits, v.values);
  }
  return ctx.op('reshape', [v, ctx.shapeArg(dims)]);
}

/** `v` as `dtype` (a no-op when it already is). */
export function castTo(ctx: NodeContext, v: Value, dtype: DataType): Value {
  if (v.kind === 'known') return v.dtype === dtype ? v : ctx.knownValue(dtype, v.shape, v.values);
  return v.sinfo.dtype === dtype ? v : ctx.op('astype', [v], { dtype });
}

export function dtypeOf(v: Value): DataType {
  return v.kind === 'known' ? v.dtype : v.sinfo.dtype;
}

/** `v` with a unit dim inserted at `axis` (an NCW tensor as NC1W, say). */
export function unsqueezeAt(ctx: NodeContext, v: Value, dims: readonly PrimExpr[], axis: number): Value {
  return reshape(ctx, v, [...dims.slice(0, axis), idx(1), ...dims.slice(axis)]);
}

/** x - zero_point in int32, the zero point reshaped by `zpDims` (a per-channel one) when it is not a scalar. */
export function centered(ctx: NodeContext, i: number, zp: number, zpDims: (n: PrimExpr) => PrimExpr[]): Value {
  const x = castTo(ctx, ctx.input(i), 'int32');
  if (!ctx.has(zp)) return x;
  const z = ctx.shape(zp);
  const point = castTo(ctx, z.length === 1 ? reshape(ctx, ctx.input(zp), zpDims(z[0]!)) : ctx.input(zp), 'int32');
  return ctx.op('subtract', [x, point]);
}
