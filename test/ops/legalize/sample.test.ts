/**
 * grid_sample's and roi_align's legalizations against float64 references
 * written from the ONNX spec (PyTorch's grid_sample; RoiAlign's bilinear
 * samples). runOp also re-checks each call on the wasm target and WebGPU.
 */
import { describe, test } from 'vitest';
import { expectClose, randomRef, ref, type RefTensor, runOp, tensorArg } from '../../helpers/run-op.ts';

type Padding = 'zeros' | 'border' | 'reflection';

function cubic(d: number): number {
  const a = -0.75;
  const t = Math.abs(d);
  return t <= 1 ? ((a + 2) * t - (a + 3)) * t * t + 1 : t < 2 ? ((a * t - 5 * a) * t + 8 * a) * t - 4 * a : 0;
}

function gridSampleRef(x: RefTensor, g: RefTensor, method: string, padding: Padding, align: boolean): number[] {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [, oh, ow] = g.shape as [number, number, number];
  const unnorm = (v: number, size: number): number => (align ? ((v + 1) / 2) * (size - 1) : ((v + 1) * size - 1) / 2);
  const reflect = (v: number, size: number): number => {
    const lo = align ? 0 : -0.5;
    const span = align ? size - 1 : size;
    if (span <= 0) return 0;
    const d = Math.abs(v - lo);
    const flips = Math.floor(d / span);
    const extra = d - flips * span;
    return Math.min(Math.max(flips % 2 === 0 ? lo + extra : lo + span - extra, 0), size - 1);
  };
  const pad = (v: number, size: number): number =>
    padding === 'border' ? Math.min(Math.max(v, 0), size - 1) : padding === 'reflection' ? reflect(v, size) : v;
  const read = (b: number, ch: number, i: number, j: number): number =>
    i < 0 || i >= h || j < 0 || j >= w ? 0 : x.data[((b * c + ch) * h + i) * w + j]!;
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < oh; p++)
        for (let q = 0; q < ow; q++) {
          const k = ((b * oh + p) * ow + q) * 2;
          let xs = unnorm(g.data[k]!, w);
          let ys = unnorm(g.data[k + 1]!, h);
          if (method !== 'bicubic') [xs, ys] = [pad(xs, w), pad(ys, h)];
          if (method === 'nearest') {
            const even = (v: number): number => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
            out.push(read(b, ch, even(ys), even(xs)));
            continue;
          }
          const taps = method === 'bilinear' ? [0, 1] : [-1, 0, 1, 2];
          const weight = (d: number): number => (method === 'bilinear' ? Math.max(0, 1 - Math.abs(d)) : cubic(d));
          let acc = 0;
          for (const dy of taps)
            for (const dx of taps) {
              const i = Math.floor(ys) + dy;
              const j = Math.floor(xs) + dx;
              const wt = weight(ys - i) * weight(xs - j);
              const [ri, rj] = method === 'bicubic' && padding !== 'zeros' ? [pad(i, h), pad(j, w)] : [i, j];
              acc += wt * read(b, ch, Math.trunc(ri), Math.trunc(rj));
            }
          out.push(acc);
        }
  return out;
}

describe('grid_sample', () => {
  const x = randomRef([2, 2, 4, 5], 'float32', 1);
  const g = randomRef([2, 3, 4, 2], 'float32', 2, -1.3, 1.3);
  for (const method of ['bilinear', 'nearest', 'bicubic'])
    test(method, () => {
      for (const padding of ['zeros', 'border', 'reflection'] as const)
        for (const align of [false, true]) {
          const attrs = { method, padding_mode: padding, align_corners: align };
          const got = runOp('grid_sample', [tensorArg(x, ['n', 2, 'h', 'w']), tensorArg(g, ['n', 3, 4, 2])], attrs);
          expectClose(got.outputs[0]!.data, gridSampleRef(x, g, method, padding, align), { atol: 1e-5 }, JSON.stringify(attrs));
        }
    });
});

function roiAlignRef(
  x: RefTensor,
  rois: number[],
  batch: number[],
  mode: string,
  aligned: boolean,
  oh: number,
  ow: number,
  sr: number,
  scale: number,
): number[] {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const out: number[] = [];
  const at = (b: number, ch: number, i: number, j: number): number => x.data[((b * c + ch) * h + i) * w + j]!;
  for (let r = 0; r < batch.length; r++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < oh; p++)
        for (let q = 0; q < ow; q++) {
          const off = aligned ? 0.5 : 0;
          const [x1, y1, x2, y2] = rois.slice(4 * r, 4 * r + 4).map((v) => v * scale - off) as [number, number, number, number];
          const rh = aligned ? y2 - y1 : Math.max(y2 - y1, 1);
          const rw = aligned ? x2 - x1 : Math.max(x2 - x1, 1);
          const samples: number[] = [];
          for (let iy = 0; iy < sr; iy++)
            for (let ix = 0; ix < sr; ix++) {
              let y = y1 + p * (rh / oh) + ((iy + 0.5) * (rh / oh)) / sr;
              let xx = x1 + q * (rw / ow) + ((ix + 0.5) * (rw / ow)) / sr;
              if (y < -1 || y > h || xx < -1 || xx > w) {
                samples.push(0);
                continue;
              }
              y = Math.min(Math.max(y, 0), h - 1);
              xx = Math.min(Math.max(xx, 0), w - 1);
              const [yl, xl] = [Math.floor(y), Math.floor(xx)];
              const [yh, xh] = [Math.min(yl + 1, h - 1), Math.min(xl + 1, w - 1)];
              const [ly, lx] = [y - yl, xx - xl];
              const terms = [
                (1 - ly) * (1 - lx) * at(batch[r]!, ch, yl, xl),
                (1 - ly) * lx * at(batch[r]!, ch, yl, xh),
                ly * (1 - lx) * at(batch[r]!, ch, yh, xl),
                ly * lx * at(batch[r]!, ch, yh, xh),
              ];
              samples.push(mode === 'max' ? Math.max(...terms) : terms.reduce((a, b) => a + b, 0));
            }
          out.push(mode === 'max' ? Math.max(...samples) : samples.reduce((a, b) => a + b, 0) / samples.length);
        }
  return out;
}

test('roi_align, avg and max, aligned or not', () => {
  const x = randomRef([2, 3, 6, 7], 'float32', 3);
  const rois = [0.5, 1, 5.5, 4, -1, 2.2, 3, 9, 2, 2, 2.3, 2.4];
  const batch = [1, 0, 1];
  for (const mode of ['avg', 'max'])
    for (const aligned of [true, false]) {
      const attrs = {
        mode,
        output_height: 2,
        output_width: 3,
        sampling_ratio: 2,
        spatial_scale: 0.9,
        coordinate_transformation_mode: aligned ? 'half_pixel' : 'output_half_pixel',
      };
      const got = runOp(
        'roi_align',
        [tensorArg(x), tensorArg(ref([3, 4], 'float32', rois)), tensorArg(ref([3], 'int64', batch))],
        attrs,
      );
      expectClose(
        got.outputs[0]!.data,
        roiAlignRef(x, rois, batch, mode, aligned, 2, 3, 2, 0.9),
        { atol: 1e-5 },
        JSON.stringify(attrs),
      );
    }
});
