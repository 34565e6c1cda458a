/** conv3d, max_pool3d and avg_pool3d against a direct float64 reference (NCDHW, OIDHW). */
import { expect, test } from 'vitest';
import { expectClose, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';

interface Win {
  readonly k: readonly number[];
  readonly s: readonly number[];
  readonly pad: readonly number[]; // befores then afters
  readonly dil: readonly number[];
}

const out = (i: number, d: number, w: Win): number =>
  Math.floor((i + w.pad[d]! + w.pad[3 + d]! - w.dil[d]! * (w.k[d]! - 1) - 1) / w.s[d]!) + 1;

/** Visits every output position and its in-bounds taps (input coordinates and tap index). */
function windows(
  size: readonly number[],
  w: Win,
  visit: (o: readonly number[], taps: readonly { at: readonly number[]; tap: readonly number[] }[]) => void,
): number[] {
  const os = [0, 1, 2].map((d) => out(size[d]!, d, w));
  for (let a = 0; a < os[0]!; a++)
    for (let b = 0; b < os[1]!; b++)
      for (let c = 0; c < os[2]!; c++) {
        const taps: { at: number[]; tap: number[] }[] = [];
        for (let x = 0; x < w.k[0]!; x++)
          for (let y = 0; y < w.k[1]!; y++)
            for (let z = 0; z < w.k[2]!; z++) {
              const at = [a, b, c].map((o, d) => o * w.s[d]! - w.pad[d]! + [x, y, z][d]! * w.dil[d]!);
              if (at.every((v, d) => v >= 0 && v < size[d]!)) taps.push({ at, tap: [x, y, z] });
            }
        visit([a, b, c], taps);
      }
  return os;
}

function conv3dRef(x: RefTensor, wt: RefTensor, w: Win): number[] {
  const [n, c, ...size] = x.shape as number[];
  const o = wt.shape[0]!;
  const result: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let oc = 0; oc < o; oc++)
      windows(size, w, (_, taps) => {
        let acc = 0;
        for (let ic = 0; ic < c!; ic++)
          for (const t of taps) {
            const xi = (((b * c! + ic) * size[0]! + t.at[0]!) * size[1]! + t.at[1]!) * size[2]! + t.at[2]!;
            const wi = (((oc * c! + ic) * w.k[0]! + t.tap[0]!) * w.k[1]! + t.tap[1]!) * w.k[2]! + t.tap[2]!;
            acc += x.data[xi]! * wt.data[wi]!;
          }
        result.push(acc);
      });
  return result;
}

function pool3dRef(kind: 'max' | 'avg', x: RefTensor, w: Win): number[] {
  const [n, c, ...size] = x.shape as number[];
  const result: number[] = [];
  for (let p = 0; p < n! * c!; p++)
    windows(size, w, (_, taps) => {
      const vals = taps.map((t) => x.data[((p * size[0]! + t.at[0]!) * size[1]! + t.at[1]!) * size[2]! + t.at[2]!]!);
      result.push(kind === 'max' ? Math.max(...vals) : vals.reduce((a, v) => a + v, 0) / vals.length);
    });
  return result;
}

const rand = (shape: number[], seed: number): RefTensor =>
  ref(
    shape,
    'float32',
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  );

test('conv3d with strides, padding and dilation, over a symbolic batch', () => {
  const x = rand([2, 3, 5, 6, 4], 1);
  const wt = rand([4, 3, 2, 3, 2], 2);
  const w: Win = { k: [2, 3, 2], s: [1, 2, 1], pad: [1, 1, 0, 0, 1, 1], dil: [2, 1, 1] };
  const { outputs } = runOp('conv3d', [tensorArg(x, ['n', 3, 5, 6, 4]), tensorArg(wt)], {
    strides: w.s,
    padding: w.pad,
    dilation: w.dil,
  });
  const e = expectClose(outputs[0]!.data, conv3dRef(x, wt, w), { rtol: 1e-5, atol: 1e-5 }, 'conv3d');
  expect(e.abs).toBeLessThan(1e-5);
});

test('max_pool3d and avg_pool3d (padding not counted)', () => {
  const x = rand([1, 2, 5, 4, 7], 3);
  const w: Win = { k: [3, 2, 3], s: [2, 1, 2], pad: [1, 0, 1, 1, 1, 0], dil: [1, 1, 1] };
  const attrs = { pool_size: w.k, strides: w.s, padding: w.pad };
  for (const kind of ['max', 'avg'] as const) {
    const { outputs } = runOp(`${kind}_pool3d`, [tensorArg(x)], attrs);
    expectClose(outputs[0]!.data, pool3dRef(kind, x, w), { rtol: 1e-5, atol: 1e-6 }, `${kind}_pool3d`);
  }
});
