/**
 * What an ONNX value is while a graph is imported: a tensor of the graph
 * function (with a symbolic shape, always known), or a small tensor known at
 * import time — a constant, or the result of a shape subgraph (`Shape →
 * Gather → Concat`), whose elements are symbolic expressions such as `n * 8`.
 * Known values are how shape computations become symbolic shapes instead of
 * run-time data.
 */
import type { DataType } from '../../ir/dtype.ts';
import type { Expr } from '../../ir/graph/expr.ts';
import type { TensorStructInfo } from '../../ir/graph/struct-info.ts';
import type { PrimExpr } from '../../ir/prim/expr.ts';

export interface TensorValue {
  readonly kind: 'tensor';
  readonly expr: Expr;
  readonly sinfo: TensorStructInfo & { readonly shape: readonly PrimExpr[] };
}

export interface KnownValue {
  readonly kind: 'known';
  readonly dtype: DataType;
  readonly shape: readonly number[];
  /** Row-major elements: integer, float or bool literals, or symbolic integer expressions. */
  readonly values: readonly PrimExpr[];
}

export type Value = TensorValue | KnownValue;

/** Tensors up to this many elements are kept known when they are constants (initializers, Constant). */
export const KNOWN_LIMIT = 64;

export function knownSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
