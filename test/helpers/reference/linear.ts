/** float64 reference of numpy's matmul: 1-D operands promoted and their dim dropped again, batch dims broadcast. */
import { coordsOf, type NdArray, sizeOf } from './reduce.ts';

export interface RefResult {
  readonly shape: number[];
  readonly data: number[];
}

/** Flat position of `coords` (right-aligned against `shape`'s dims; dims of 1 stay at 0). */
function flatAt(shape: readonly number[], coords: readonly number[]): number {
  const offset = coords.length - shape.length;
  return shape.reduce((acc, d, j) => acc * d + (d === 1 ? 0 : coords[offset + j]!), 0);
}

export function matmulRef(a: NdArray, b: NdArray): RefResult {
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs[bs.length - 1]!;
  if (bs[bs.length - 2] !== k) throw new Error(`inner dims differ: ${k} and ${bs[bs.length - 2]}`);
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: rank }, (_, j) => {
    const x = ab[j - (rank - ab.length)] ?? 1;
    const y = bb[j - (rank - bb.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`batch dims ${x} and ${y} do not broadcast`);
    return Math.max(x, y);
  });
  const data: number[] = [];
  for (let t = 0; t < sizeOf(batch); t++) {
    const bc = coordsOf(t, batch);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[flatAt(as, [...bc, i, p])]! * b.data[flatAt(bs, [...bc, p, j])]!;
        data.push(s);
      }
    }
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  return { shape, data };
}
