/**
 * Legalizations: how each operator becomes a loop-level tensor program.
 *
 * A legalization receives the call with its arguments as tensor-expression
 * placeholders (shapes in the graph's symbolic variables) and returns the
 * output tensors, computed with the TE DSL (`compute`, `reduceAxis`, ...), or,
 * for what the DSL cannot say (sorting, scatter), a hand-written loop nest.
 * The legalize pass turns the result into a PrimFunc, works out which
 * symbolic variables the kernel must be passed, and shares identical kernels.
 */
import type { AttrMap, AttrValue } from '../../ir/attrs.ts';
import type { Tensor } from '../../ir/builder/te.ts';
import type { DataType } from '../../ir/dtype.ts';
import type { StructInfo, TensorStructInfo } from '../../ir/graph/struct-info.ts';
import type { PrimExpr } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { Stmt } from '../../ir/tir/stmt.ts';

export interface LegalizeCall {
  readonly op: string;
  /** The attributes, validated and with defaults filled in. */
  readonly attrs: AttrMap;
  /** The inferred result of the call: a tensor, or a tuple of tensors. */
  readonly out: StructInfo;
  /** An attribute's value; the op's schema has checked its type, so the cast is the caller's claim. */
  attr<T extends AttrValue>(name: string): T;
  /** An optional attribute: undefined when absent or null. */
  optionalAttr<T extends AttrValue>(name: string): T | undefined;
  /** The placeholder of a tensor argument. */
  tensor(name: string): Tensor;
  /** The placeholders of a tuple-of-tensors argument. */
  tensors(name: string): readonly Tensor[];
  /** The values of a shape argument (known at compile time, possibly symbolic). */
  shape(name: string): readonly PrimExpr[];
  /** The value of a prim argument: its symbolic value, or a scalar the kernel is passed. */
  prim(name: string): PrimExpr;
  /** A scalar argument: a prim value, or the element of a 0-d tensor. */
  scalar(name: string): PrimExpr;
  /** Whether an optional argument was given. */
  has(name: string): boolean;
  /** Result `i` (0 for a single tensor) as a tensor struct info with a known shape. */
  result(i?: number): TensorStructInfo & { readonly shape: readonly PrimExpr[] };
  /** Shorthands for result(i).shape and result(i).dtype. */
  outShape(i?: number): readonly PrimExpr[];
  outDtype(i?: number): DataType;
}

/**
 * A loop nest written by hand: it writes `outputs` (buffers the legalization
 * created with the result shapes) and reads the placeholders' buffers.
 */
export interface HandWritten {
  readonly kind: 'tir';
  readonly outputs: readonly Buffer[];
  readonly body: Stmt;
}

export type LegalizeResult = Tensor | readonly Tensor[] | HandWritten;

export type LegalizeFn = (call: LegalizeCall) => LegalizeResult;

const TABLE = new Map<string, LegalizeFn>();

/** Declares the legalization of one or several operators. Declaring one twice is a bug in Kiln. */
export function defineLegalization(ops: string | readonly string[], fn: LegalizeFn): void {
  for (const op of typeof ops === 'string' ? [ops] : ops) {
    if (TABLE.has(op)) throw new Error(`operator '${op}' is legalized twice`);
    TABLE.set(op, fn);
  }
}

export function getLegalization(op: string): LegalizeFn | undefined {
  return TABLE.get(op);
}

export function legalizedOps(): string[] {
  return [...TABLE.keys()].sort();
}

export function isHandWritten(r: LegalizeResult): r is HandWritten {
  return !Array.isArray(r) && (r as HandWritten).kind === 'tir';
}
