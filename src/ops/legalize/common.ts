/**
 * Helpers shared by legalizations: broadcasting indices, literals of a
 * tensor's dtype, casts with the IR's conventions, axis normalization.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { type DataType, isBool, isFloat } from '../../ir/dtype.ts';
import type { Tensor } from '../../ir/builder/te.ts';
import { cast, imm, intImm, ne, type PrimExpr, type PrimLike } from '../../ir/prim/expr.ts';

const analyzer = new Analyzer();

/** Whether a dimension is 1 for every value of its variables. */
export function isOne(d: PrimExpr): boolean {
  return analyzer.proveEqual(d, intImm(1, d.dtype));
}

/**
 * The element of `t` that numpy broadcasting pairs with output index `idx`
 * (right-aligned; a dimension of 1 stretches).
 */
export function broadcastAt(t: Tensor, idx: readonly PrimExpr[]): PrimExpr {
  const offset = idx.length - t.shape.length;
  return t.at(...t.shape.map((d, k) => (isOne(d) ? intImm(0, d.dtype) : idx[offset + k]!)));
}

/** A literal of `dtype` (bool: non-zero is true). */
export function lit(value: number, dtype: DataType): PrimExpr {
  return imm(isFloat(dtype) || isBool(dtype) ? value : Math.trunc(value), dtype);
}

/** `e` as `dtype`: to bool means "not zero", as numpy and ONNX cast. */
export function convert(e: PrimExpr, dtype: DataType): PrimExpr {
  if (e.dtype === dtype) return e;
  if (isBool(dtype)) return ne(e, lit(0, e.dtype));
  return cast(dtype, e);
}

/** A negative axis counted from the end. */
export function normAxis(axis: number, ndim: number): number {
  return axis < 0 ? axis + ndim : axis;
}

export function normAxes(axes: readonly number[] | null | undefined, ndim: number): number[] {
  if (axes === null || axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  return axes.map((a) => normAxis(a, ndim)).sort((a, b) => a - b);
}

/** The number `x` as a literal of the other operand's dtype. */
export function like(x: PrimLike, other: PrimExpr): PrimExpr {
  return typeof x === 'number' ? lit(x, other.dtype) : x;
}
