/** Float64 references of the tensor-creating operators (numpy / PyTorch semantics), as plain loops. */
import type { Nd } from './nn.ts';

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** numpy.arange: ceil((end - start) / step) elements (none when negative), start + i * step. */
export function arange(start: number, end: number, step: number): Nd {
  const n = Math.max(Math.ceil((end - start) / step), 0);
  return { shape: [n], data: Float64Array.from({ length: n }, (_, i) => start + i * step) };
}

/** numpy.tril / numpy.triu over the last two axes. */
export function triangle(kind: 'tril' | 'triu', x: Nd, k: number): Nd {
  const rows = x.shape[x.shape.length - 2]!;
  const cols = x.shape[x.shape.length - 1]!;
  const data = x.data.map((v, flat) => {
    const j = flat % cols;
    const i = Math.floor(flat / cols) % rows;
    const keep = kind === 'tril' ? j - i <= k : j - i >= k;
    return keep ? v : 0;
  });
  return { shape: x.shape, data };
}

/** numpy.eye(n, m, k). */
export function eye(n: number, m: number, k: number): Nd {
  const data = new Float64Array(n * m);
  for (let i = 0; i < n; i++) if (i + k >= 0 && i + k < m) data[i * m + i + k] = 1;
  return { shape: [n, m], data };
}

/** one_hot with a new axis of size depth at `axis`; indices outside [0, depth) give off everywhere (TensorFlow). */
export function oneHot(indices: Nd, depth: number, axis: number, on: number, off: number): Nd {
  const a = axis < 0 ? axis + indices.shape.length + 1 : axis;
  const outer = size(indices.shape.slice(0, a));
  const inner = size(indices.shape.slice(a));
  const shape = [...indices.shape.slice(0, a), depth, ...indices.shape.slice(a)];
  const data = new Float64Array(size(shape)).fill(off);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const v = indices.data[o * inner + i]!;
      if (v >= 0 && v < depth) data[(o * depth + v) * inner + i] = on;
    }
  return { shape, data };
}
