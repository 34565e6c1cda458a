/**
 * float64 references for softmax and the normalizations, computed per group
 * of element positions (see groupBy), in the textbook formulas.
 */
import { coordsOf, groupBy, type NdArray, variance } from './reduce.ts';

const norm = (a: number, ndim: number): number => (a < 0 ? a + ndim : a);

/** Positions of the elements that share every coordinate outside `axes`. */
function lanesOver(shape: readonly number[], axes: readonly number[]): number[][] {
  const set = new Set(axes.map((a) => norm(a, shape.length)));
  return groupBy(shape, (c) => c.map((v, d) => (set.has(d) ? '*' : v)).join(','));
}

export function softmaxRef(x: NdArray, axis: number, log: boolean): number[] {
  const out = new Array<number>(x.data.length);
  for (const g of lanesOver(x.shape, [axis])) {
    const v = g.map((i) => x.data[i]!);
    const m = Math.max(...v);
    const s = v.reduce((a, b) => a + Math.exp(b - m), 0);
    g.forEach((i, j) => (out[i] = log ? v[j]! - m - Math.log(s) : Math.exp(v[j]! - m) / s));
  }
  return out;
}

export interface Affine {
  readonly epsilon: number;
  readonly center?: boolean;
  readonly scale?: boolean;
}

/**
 * Normalizes each group of positions by its own mean and variance, then
 * scales and shifts element i by gamma/beta at param(i).
 */
function normalizeGroups(
  x: NdArray,
  groups: readonly number[][],
  gamma: NdArray,
  beta: NdArray,
  param: (coords: number[]) => number,
  opts: Affine,
): number[] {
  const out = new Array<number>(x.data.length);
  for (const g of groups) {
    const v = g.map((i) => x.data[i]!);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(variance(v) + opts.epsilon);
    g.forEach((i, j) => {
      const p = param(coordsOf(i, x.shape));
      let y = (v[j]! - m) / sd;
      if (opts.scale ?? true) y *= gamma.data[p]!;
      if (opts.center ?? true) y += beta.data[p]!;
      out[i] = y;
    });
  }
  return out;
}

/** Flat position in a tensor of dims `x.shape[axes[j]]` of the coordinates on `axes`, in their given order. */
function paramIndex(shape: readonly number[], axes: readonly number[]): (coords: number[]) => number {
  const ax = axes.map((a) => norm(a, shape.length));
  return (c) => ax.reduce((acc, a) => acc * shape[a]! + c[a]!, 0);
}

export function layerNormRef(x: NdArray, gamma: NdArray, beta: NdArray, axes: readonly number[], opts: Affine): number[] {
  return normalizeGroups(x, lanesOver(x.shape, axes), gamma, beta, paramIndex(x.shape, axes), opts);
}

export function rmsNormRef(x: NdArray, weight: NdArray, axes: readonly number[], epsilon: number): number[] {
  const out = new Array<number>(x.data.length);
  const p = paramIndex(x.shape, axes);
  for (const g of lanesOver(x.shape, axes)) {
    const ms = g.reduce((a, i) => a + x.data[i]! ** 2, 0) / g.length;
    for (const i of g) out[i] = (x.data[i]! / Math.sqrt(ms + epsilon)) * weight.data[p(coordsOf(i, x.shape))]!;
  }
  return out;
}

/**
 * group_norm (groups: the number of groups) and instance_norm (groups null):
 * statistics over `axes` (null: all but 0 and the channel axis) and the
 * channels of a group.
 */
export function groupNormRef(
  x: NdArray,
  gamma: NdArray,
  beta: NdArray,
  groups: number | null,
  channelAxis: number,
  axes: readonly number[] | null,
  opts: Affine,
): number[] {
  const ch = norm(channelAxis, x.shape.length);
  const reduced = new Set(
    (axes ?? x.shape.map((_, d) => d).filter((d) => d !== 0 && d !== ch)).map((a) => norm(a, x.shape.length)),
  );
  const perGroup = groups === null ? 1 : x.shape[ch]! / groups;
  const key = (c: number[]): string =>
    c.map((v, d) => (reduced.has(d) ? '*' : d === ch ? Math.floor(v / perGroup) : v)).join(',');
  return normalizeGroups(x, groupBy(x.shape, key), gamma, beta, (c) => c[ch]!, opts);
}

export function batchNormRef(
  x: NdArray,
  gamma: NdArray,
  beta: NdArray,
  mean: NdArray,
  vars: NdArray,
  axis: number,
  opts: Affine,
): number[] {
  const a = norm(axis, x.shape.length);
  return Array.from(x.data, (v, i) => {
    const c = coordsOf(i, x.shape)[a]!;
    let y = (v - mean.data[c]!) / Math.sqrt(vars.data[c]! + opts.epsilon);
    if (opts.scale ?? true) y *= gamma.data[c]!;
    if (opts.center ?? true) y += beta.data[c]!;
    return y;
  });
}
