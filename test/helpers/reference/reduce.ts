/**
 * float64 references for the reductions, arg-reductions and scans, with
 * numpy's semantics. They work on flat row-major arrays by grouping element
 * positions, independently of how the legalizations index.
 */

export interface NdArray {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The coordinates of flat position `flat` in `shape`. */
export function coordsOf(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return out;
}

/**
 * Element positions grouped by `key`, groups in order of first appearance and
 * positions in row-major order within a group.
 */
export function groupBy(shape: readonly number[], key: (coords: number[]) => string): number[][] {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < sizeOf(shape); i++) {
    const k = key(coordsOf(i, shape));
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(i);
  }
  return [...groups.values()];
}

/** Groups of the elements that differ only on `axes` (null: all of them), in the order of the reduced output. */
export function lanes(shape: readonly number[], axes: readonly number[] | null): number[][] {
  const set = new Set((axes ?? shape.map((_, d) => d)).map((a) => (a < 0 ? a + shape.length : a)));
  return groupBy(shape, (c) => c.filter((_, d) => !set.has(d)).join(','));
}

/** The shape of a reduction of `shape` over `axes`. */
export function reducedShape(shape: readonly number[], axes: readonly number[] | null, keepdims: boolean): number[] {
  const set = new Set((axes ?? shape.map((_, d) => d)).map((a) => (a < 0 ? a + shape.length : a)));
  return shape.flatMap((d, i) => (!set.has(i) ? [d] : keepdims ? [1] : []));
}

export type Fold = (values: readonly number[]) => number;

export const FOLDS: Readonly<Record<string, Fold>> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  prod: (v) => v.reduce((a, b) => a * b, 1),
  max: (v) => v.reduce((a, b) => (Number.isNaN(a) ? a : Number.isNaN(b) || b > a ? b : a), -Infinity),
  min: (v) => v.reduce((a, b) => (Number.isNaN(a) ? a : Number.isNaN(b) || b < a ? b : a), Infinity),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  variance: (v) => variance(v),
  std: (v) => Math.sqrt(variance(v)),
};

/** Population variance (ddof 0). */
export function variance(v: readonly number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length;
}

export function reduceRef(x: NdArray, axes: readonly number[] | null, fold: Fold): number[] {
  return lanes(x.shape, axes).map((g) => fold(g.map((i) => x.data[i]!)));
}

/** argmax/argmin along `axis` (null: the flattened tensor); ties and NaN go to the first. */
export function argRef(x: NdArray, axis: number | null, isMax: boolean): number[] {
  return lanes(x.shape, axis === null ? null : [axis]).map((g) => {
    let best = 0;
    for (let j = 1; j < g.length; j++) {
      const a = x.data[g[best]!]!;
      const b = x.data[g[j]!]!;
      if (Number.isNaN(a)) break;
      if (Number.isNaN(b) || (isMax ? b > a : b < a)) best = j;
    }
    return best;
  });
}

/** cumsum/cumprod along `axis` (null: the flattened tensor), optionally exclusive; same positions as the input. */
export function scanRef(x: NdArray, axis: number | null, isSum: boolean, exclusive: boolean): number[] {
  const out = new Array<number>(x.data.length);
  for (const g of lanes(x.shape, axis === null ? null : [axis])) {
    let acc = isSum ? 0 : 1;
    for (const i of g) {
      const v = x.data[i]!;
      if (exclusive) out[i] = acc;
      acc = isSum ? acc + v : acc * v;
      if (!exclusive) out[i] = acc;
    }
  }
  return out;
}
