/**
 * Plain reference implementations of sort, argsort and topk: each row along
 * the axis sorted by JavaScript's stable Array.prototype.sort. NaN is larger
 * than every number (numpy puts it last in ascending order; PyTorch's
 * descending sort and topk put it first); ties keep their original order.
 */
import type { DataType } from '../../../src/ir/dtype.ts';
import type { RefTensor } from '../run-op.ts';
import { generate, get } from './manipulate.ts';

const norm = (axis: number, ndim: number): number => (axis < 0 ? axis + ndim : axis);

/** Ascending order with NaN last; descending is its mirror, NaN first. */
function compare(a: number, b: number, descending: boolean): number {
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  const asc = na || nb ? Number(na) - Number(nb) : a < b ? -1 : a > b ? 1 : 0;
  return descending ? -asc : asc;
}

/** The positions of row `rowIdx` (any value at the axis) in stably sorted order. */
function rowOrder(x: RefTensor, axis: number, rowIdx: readonly number[], descending: boolean): number[] {
  const at = (k: number): number =>
    get(
      x,
      rowIdx.map((v, i) => (i === axis ? k : v)),
    );
  const positions = Array.from({ length: x.shape[axis]! }, (_, k) => k);
  return positions.sort((p, q) => compare(at(p), at(q), descending));
}

/** The first `k` sorted positions of every row, gathered by `pick(rowIdx, position)`. */
function sortedRows(
  x: RefTensor,
  axis: number,
  descending: boolean,
  k: number,
  dtype: DataType,
  pick: (rowIdx: number[], position: number) => number,
): RefTensor {
  const a = norm(axis, x.shape.length);
  const shape = x.shape.map((d, i) => (i === a ? k : d));
  return generate(shape, dtype, (o) => pick(o, rowOrder(x, a, o, descending)[o[a]!]!));
}

export function sort(x: RefTensor, axis = -1, descending = false): RefTensor {
  const a = norm(axis, x.shape.length);
  return sortedRows(x, a, descending, x.shape[a]!, x.dtype, (o, p) =>
    get(
      x,
      o.map((v, i) => (i === a ? p : v)),
    ),
  );
}

export function argsort(x: RefTensor, axis = -1, descending = false, dtype: DataType = 'int32'): RefTensor {
  const a = norm(axis, x.shape.length);
  return sortedRows(x, a, descending, x.shape[a]!, dtype, (_, p) => p);
}

/** The k largest (or smallest) along the axis, in order; k < 1 keeps them all. */
export function topk(
  x: RefTensor,
  k: number,
  axis = -1,
  largest = true,
  dtype: DataType = 'int32',
): { values: RefTensor; indices: RefTensor } {
  const a = norm(axis, x.shape.length);
  const count = k < 1 ? x.shape[a]! : k;
  return {
    values: sortedRows(x, a, largest, count, x.dtype, (o, p) =>
      get(
        x,
        o.map((v, i) => (i === a ? p : v)),
      ),
    ),
    indices: sortedRows(x, a, largest, count, dtype, (_, p) => p),
  };
}
