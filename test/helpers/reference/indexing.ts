/**
 * Plain reference implementations of the indexing operators, after numpy
 * (split, slicing, take) and ONNX (GatherElements, GatherND, ScatterElements;
 * negative indices count from the end).
 */
import type { RefTensor } from '../run-op.ts';
import { flatten, generate, get, offsetOf, indexOf, sizeOf } from './manipulate.ts';

const norm = (axis: number, ndim: number): number => (axis < 0 ? axis + ndim : axis);
const fromEnd = (i: number, size: number): number => (i < 0 ? i + size : i);

/** numpy.array_split's parts for a section count (ceil-sized, the last the rest) or numpy.split at cut points. */
export function split(x: RefTensor, sectionsOrCuts: number | readonly number[], axis = 0): RefTensor[] {
  const a = norm(axis, x.shape.length);
  const size = x.shape[a]!;
  let bounds: [number, number][];
  if (typeof sectionsOrCuts === 'number') {
    const len = Math.ceil(size / sectionsOrCuts);
    bounds = Array.from({ length: sectionsOrCuts }, (_, k) => [k * len, k === sectionsOrCuts - 1 ? size : (k + 1) * len]);
  } else {
    const cuts = [0, ...sectionsOrCuts, size];
    // Python slicing a[c0:c1]: both ends clamp to the size, an end before the start is empty.
    bounds = cuts.slice(1).map((c, k) => [Math.min(cuts[k]!, size), Math.min(c, size)]);
  }
  return bounds.map(([lo, hi]) => {
    const shape = x.shape.map((d, i) => (i === a ? Math.max(hi - lo, 0) : d));
    return generate(shape, x.dtype, (o) =>
      get(
        x,
        o.map((v, i) => (i === a ? v + lo : v)),
      ),
    );
  });
}

/** The positions Python's slice(start, stop, step) takes from a sequence of `length` (slice.indices). */
export function slicePositions(start: number, stop: number, step: number, length: number): number[] {
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? length : length - 1;
  const clamp = (v: number): number => (v < 0 ? Math.max(v + length, lower) : Math.min(v, upper));
  const out: number[] = [];
  for (let i = clamp(start); step > 0 ? i < clamp(stop) : i > clamp(stop); i += step) out.push(i);
  return out;
}

/** x[begin:end:step] on `axes` (all leading axes by default), numpy's clamping. */
export function stridedSlice(
  x: RefTensor,
  begin: readonly number[],
  end: readonly number[],
  strides?: readonly number[],
  axes?: readonly number[],
): RefTensor {
  const ax = (axes ?? begin.map((_, i) => i)).map((a) => norm(a, x.shape.length));
  const positions = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
  ax.forEach((a, i) => (positions[a] = slicePositions(begin[i]!, end[i]!, strides?.[i] ?? 1, x.shape[a]!)));
  return generate(
    positions.map((p) => p.length),
    x.dtype,
    (o) =>
      get(
        x,
        o.map((v, i) => positions[i]![v]!),
      ),
  );
}

/** numpy.take with mode raise (negative from the end), clip (into [0, n - 1]) or wrap (modulo n). */
export function take(
  x: RefTensor,
  indices: RefTensor,
  axis: number | undefined,
  mode: 'fast' | 'clip' | 'wrap' = 'fast',
): RefTensor {
  const src = axis === undefined ? flatten(x) : x;
  const a = axis === undefined ? 0 : norm(axis, x.shape.length);
  const n = src.shape[a]!;
  const fix = (i: number): number => {
    if (mode === 'clip') return Math.min(Math.max(i, 0), n - 1);
    if (mode === 'wrap') return ((i % n) + n) % n;
    if (i < -n || i >= n) throw new Error(`take: index ${i} out of range for size ${n}`);
    return fromEnd(i, n);
  };
  const r = indices.shape.length;
  const shape = [...src.shape.slice(0, a), ...indices.shape, ...src.shape.slice(a + 1)];
  return generate(shape, x.dtype, (o) => get(src, [...o.slice(0, a), fix(get(indices, o.slice(a, a + r))), ...o.slice(a + r)]));
}

export function gatherElements(x: RefTensor, indices: RefTensor, axis = 0): RefTensor {
  const a = norm(axis, x.shape.length);
  return generate(indices.shape, x.dtype, (o) =>
    get(
      x,
      o.map((v, i) => (i === a ? fromEnd(get(indices, o), x.shape[a]!) : v)),
    ),
  );
}

/** ONNX GatherND: the last axis of `indices` addresses the axes of `data` after the batch dims. */
export function gatherNd(x: RefTensor, indices: RefTensor, batchDims = 0): RefTensor {
  const m = indices.shape.length - 1;
  const depth = indices.shape[m]!;
  const shape = [...indices.shape.slice(0, m), ...x.shape.slice(batchDims + depth)];
  return generate(shape, x.dtype, (o) => {
    const tuple = Array.from({ length: depth }, (_, j) => fromEnd(get(indices, [...o.slice(0, m), j]), x.shape[batchDims + j]!));
    return get(x, [...o.slice(0, batchDims), ...tuple, ...o.slice(m)]);
  });
}

export type ScatterReduction = 'update' | 'add' | 'mul' | 'mean' | 'max' | 'min';

/**
 * ONNX ScatterElements, updates applied in row-major order; mean is PyTorch's
 * scatter_reduce(include_self=True): each element's original value and its
 * updates averaged (floored for integers). bool combines as numpy's bool
 * arithmetic: add (and mean) is `or`, mul is `and`.
 */
export function scatterElements(
  x: RefTensor,
  indices: RefTensor,
  updates: RefTensor,
  axis = 0,
  reduction: ScatterReduction = 'update',
): RefTensor {
  const a = norm(axis, x.shape.length);
  const out = x.data.slice();
  const count = new Float64Array(out.length).fill(1);
  const isFloat = x.dtype.startsWith('float');
  for (let p = 0; p < sizeOf(indices.shape); p++) {
    const idx = indexOf(p, indices.shape);
    const target = idx.map((v, i) => (i === a ? fromEnd(get(indices, idx), x.shape[a]!) : v));
    const t = offsetOf(target, x.shape);
    const u = get(updates, idx);
    switch (reduction) {
      case 'update':
        out[t] = u;
        break;
      case 'add':
      case 'mean':
        out[t] = out[t]! + u;
        count[t] = count[t]! + 1;
        break;
      case 'mul':
        out[t] = out[t]! * u;
        break;
      case 'max':
        out[t] = Math.max(out[t]!, u);
        break;
      case 'min':
        out[t] = Math.min(out[t]!, u);
        break;
    }
    if (x.dtype === 'float32') out[t] = Math.fround(out[t]);
    // numpy's bool arithmetic: a sum is `or`, a product `and`.
    if (x.dtype === 'bool') out[t] = out[t] !== 0 ? 1 : 0;
  }
  // A mean of bools is non-zero when any is true: the `or` the sums already hold.
  if (reduction === 'mean' && x.dtype !== 'bool') {
    for (let i = 0; i < out.length; i++) {
      const v = out[i]! / count[i]!;
      out[i] = isFloat ? (x.dtype === 'float32' ? Math.fround(v) : v) : Math.floor(v);
    }
  }
  return { shape: [...x.shape], dtype: x.dtype, data: out };
}
