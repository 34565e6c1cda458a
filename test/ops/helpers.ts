/**
 * Shared test helpers: tensor struct info from short shapes, inference with a
 * fresh analyzer, and shape assertions that compare dims by proof (so they
 * do not depend on how the analyzer happens to spell a simplified dim).
 */
import { expect } from 'vitest';
import { Analyzer } from '../../src/ir/arith/analyzer.ts';
import type { AttrMap } from '../../src/ir/attrs.ts';
import type { DataType } from '../../src/ir/dtype.ts';
import { imm, intImm, type PrimExpr, primVar } from '../../src/ir/prim/expr.ts';
import { primSI, shapeSI, type StructInfo, tensorSI, type TensorStructInfo, tupleSI } from '../../src/ir/graph/struct-info.ts';
import { fmtShape, inferOpCall } from '../../src/ops/index.ts';

export const n = primVar('n');
export const m = primVar('m');
export const h = primVar('h');
export const w = primVar('w');
export const b = primVar('b');

export type Dim = PrimExpr | number;

/** A tensor of the given shape (or rank, or unknown rank) and dtype. */
export function T(shape: readonly Dim[] | number | undefined, dtype: DataType = 'float32'): TensorStructInfo {
  return tensorSI(shape, dtype);
}

export function S(values: readonly Dim[] | number | undefined): StructInfo {
  return shapeSI(values);
}

export function P(value: Dim | undefined, dtype: DataType = 'int64'): StructInfo {
  if (value === undefined) return primSI(dtype);
  return primSI(dtype, typeof value === 'number' ? imm(value, dtype) : value);
}

export function Tup(...fields: StructInfo[]): StructInfo {
  return tupleSI(fields);
}

/** Runs inference with a fresh analyzer; returns the result and the analyzer (which knows the dims are non-negative). */
export function run(op: string, args: readonly StructInfo[], attrs: AttrMap = {}): { out: StructInfo; an: Analyzer } {
  const an = new Analyzer();
  return { out: inferOpCall(op, args, attrs, an), an };
}

export function infer(op: string, args: readonly StructInfo[], attrs: AttrMap = {}): StructInfo {
  return run(op, args, attrs).out;
}

function asTensor(s: StructInfo): TensorStructInfo {
  if (s.kind !== 'tensor') throw new Error(`expected a tensor result, found ${s.kind}`);
  return s;
}

/** Asserts a tensor result with exactly these dims (proven equal by `an`) and dtype. */
export function expectTensor(s: StructInfo, shape: readonly Dim[], dtype: DataType, an: Analyzer = new Analyzer()): void {
  const t = asTensor(s);
  expect(t.dtype).toBe(dtype);
  expect(t.shape, `expected a known shape, found ${fmtShape(t)}`).toBeDefined();
  expect(t.ndim).toBe(shape.length);
  t.shape!.forEach((d, i) => {
    const want = shape[i]!;
    const e = typeof want === 'number' ? intImm(want) : want;
    expect(an.proveEqual(d, e), `dim ${i}: ${fmtShape(t)} vs expected ${fmtShape(tensorSI(shape, dtype))}`).toBe(true);
  });
}

/** Runs inference and asserts the result shape and dtype. */
export function expectInfer(
  op: string,
  args: readonly StructInfo[],
  attrs: AttrMap,
  shape: readonly Dim[],
  dtype: DataType = 'float32',
): void {
  const { out, an } = run(op, args, attrs);
  expectTensor(out, shape, dtype, an);
}

/** Asserts a tensor result whose shape is unknown and whose rank is `ndim` (-1: unknown too). */
export function expectRank(s: StructInfo, ndim: number, dtype: DataType = 'float32'): void {
  const t = asTensor(s);
  expect(t.dtype).toBe(dtype);
  expect(t.shape).toBeUndefined();
  expect(t.ndim).toBe(ndim);
}

/** The result printed as `f32(n, 3)`; for exact expectations where the spelling is part of the point. */
export function show(s: StructInfo): string {
  if (s.kind === 'tuple') return `[${s.fields.map(show).join(', ')}]`;
  if (s.kind === 'tensor' || s.kind === 'shape') return `${s.kind === 'tensor' ? s.dtype : 'shape'}${fmtShape(s)}`;
  return s.kind;
}
