/**
 * Plain reference implementations of the manipulation operators (numpy
 * semantics), written from the definitions rather than from the
 * legalizations, plus what the other references and the tests share: n-d
 * index helpers, random tensors and an exact comparison.
 */
import { expect } from 'vitest';
import type { DataType } from '../../../src/ir/dtype.ts';
import { expectClose, type RefTensor } from '../run-op.ts';
import { mulberry32, randomArray } from '../tir-interpreter.ts';

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The multi-index of row-major offset `offset`. */
export function indexOf(offset: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = offset % shape[k]!;
    offset = Math.floor(offset / shape[k]!);
  }
  return idx;
}

/** The row-major offset of a multi-index. */
export function offsetOf(idx: readonly number[], shape: readonly number[]): number {
  let off = 0;
  for (let k = 0; k < shape.length; k++) {
    if (idx[k]! < 0 || idx[k]! >= shape[k]!) throw new Error(`index [${idx.join(', ')}] is outside [${shape.join(', ')}]`);
    off = off * shape[k]! + idx[k]!;
  }
  return off;
}

/** The element of `t` at a multi-index. */
export function get(t: RefTensor, idx: readonly number[]): number {
  return t.data[offsetOf(idx, t.shape)]!;
}

/** A tensor whose element at each index is `f(index)`. */
export function generate(shape: readonly number[], dtype: DataType, f: (idx: number[]) => number): RefTensor {
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = f(indexOf(i, shape));
  return { shape: [...shape], dtype, data };
}

const norm = (axis: number, ndim: number): number => (axis < 0 ? axis + ndim : axis);

/** Same elements, new shape; one dim may be -1. */
export function reshape(x: RefTensor, shape: readonly number[]): RefTensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = shape.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
  if (sizeOf(out) !== sizeOf(x.shape)) throw new Error('reshape: element counts differ');
  return { shape: out, dtype: x.dtype, data: x.data.slice() };
}

export function permuteDims(x: RefTensor, axes?: readonly number[]): RefTensor {
  const ndim = x.shape.length;
  const perm = axes ? axes.map((a) => norm(a, ndim)) : x.shape.map((_, i) => ndim - 1 - i);
  const shape = perm.map((a) => x.shape[a]!);
  return generate(shape, x.dtype, (o) => {
    const idx = new Array<number>(ndim);
    perm.forEach((a, k) => (idx[a] = o[k]!));
    return get(x, idx);
  });
}

export function expandDims(x: RefTensor, axes: readonly number[]): RefTensor {
  const ndim = x.shape.length + axes.length;
  const at = new Set(axes.map((a) => norm(a, ndim)));
  const rest = [...x.shape];
  return reshape(
    x,
    Array.from({ length: ndim }, (_, i) => (at.has(i) ? 1 : rest.shift()!)),
  );
}

export function squeeze(x: RefTensor, axes?: readonly number[]): RefTensor {
  const drop = axes ? new Set(axes.map((a) => norm(a, x.shape.length))) : undefined;
  return reshape(
    x,
    x.shape.filter((d, i) => (drop ? !drop.has(i) : d !== 1)),
  );
}

export function flatten(x: RefTensor, start = 0, end = -1): RefTensor {
  if (x.shape.length === 0) return reshape(x, [1]);
  const s = norm(start, x.shape.length);
  const e = norm(end, x.shape.length);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function concat(xs: readonly RefTensor[], axis = 0): RefTensor {
  const a = norm(axis, xs[0]!.shape.length);
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((acc, t) => acc + t.shape[a]!, 0);
  return generate(shape, xs[0]!.dtype, (o) => {
    let i = o[a]!;
    for (const t of xs) {
      if (i < t.shape[a]!)
        return get(
          t,
          o.map((v, k) => (k === a ? i : v)),
        );
      i -= t.shape[a]!;
    }
    throw new Error('concat: index past the end');
  });
}

export function broadcastTo(x: RefTensor, shape: readonly number[]): RefTensor {
  const lead = shape.length - x.shape.length;
  return generate(shape, x.dtype, (o) =>
    get(
      x,
      x.shape.map((d, k) => (d === 1 ? 0 : o[lead + k]!)),
    ),
  );
}

export function tile(x: RefTensor, reps: readonly number[]): RefTensor {
  const ndim = Math.max(x.shape.length, reps.length);
  const dims = [...new Array<number>(ndim - x.shape.length).fill(1), ...x.shape];
  const r = [...new Array<number>(ndim - reps.length).fill(1), ...reps];
  const lifted = reshape(x, dims);
  return generate(
    dims.map((d, i) => d * r[i]!),
    x.dtype,
    (o) =>
      get(
        lifted,
        o.map((v, i) => v % dims[i]!),
      ),
  );
}

export function repeat(x: RefTensor, repeats: number, axis?: number): RefTensor {
  if (axis === undefined) return repeat(flatten(x), repeats, 0);
  const a = norm(axis, x.shape.length);
  const shape = x.shape.map((d, i) => (i === a ? d * repeats : d));
  return generate(shape, x.dtype, (o) =>
    get(
      x,
      o.map((v, i) => (i === a ? Math.floor(v / repeats) : v)),
    ),
  );
}

export function flip(x: RefTensor, axis: number): RefTensor {
  const a = norm(axis, x.shape.length);
  return generate(x.shape, x.dtype, (o) =>
    get(
      x,
      o.map((v, i) => (i === a ? x.shape[i]! - 1 - v : v)),
    ),
  );
}

/** Deterministic random integers in [lo, hi) (bool data: lo 0, hi 2). */
export function randomInts(length: number, seed: number, lo: number, hi: number): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length }, () => lo + Math.floor(next() * (hi - lo)));
}

/** A random tensor: floats in [-4, 4), integers in [-50, 50), bools 0/1. */
export function randomTensor(shape: readonly number[], dtype: DataType, seed: number): RefTensor {
  const n = sizeOf(shape);
  const data =
    dtype === 'bool'
      ? randomInts(n, seed, 0, 2)
      : dtype.startsWith('float')
        ? randomArray(n, seed, -4, 4)
        : randomInts(n, seed, -50, 50);
  return { shape: [...shape], dtype, data };
}

/** Data movement is exact: same shape, same dtype, the same values (NaN matching NaN). */
export function expectSame(actual: RefTensor | undefined, expected: RefTensor, what: string): void {
  expect(actual, what).toBeDefined();
  expect(actual!.shape, `${what}: shape`).toEqual(expected.shape);
  expect(actual!.dtype, `${what}: dtype`).toBe(expected.dtype);
  expectClose(actual!.data, expected.data, { rtol: 0, atol: 0 }, what);
}
