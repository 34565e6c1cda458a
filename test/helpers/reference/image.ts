/**
 * A float64 reference of resize2d following the ONNX Resize specification
 * (and its reference implementation): coordinate transformations, nearest
 * modes, linear and cubic interpolation with edge padding, exclude_outside,
 * extrapolation for tf_crop_and_resize. Written independently of the
 * legalization; 'round' rounds half to even (TVM's round).
 */
import type { Nd } from './nn.ts';

export interface ResizeOptions {
  readonly method: 'nearest_neighbor' | 'linear' | 'cubic';
  readonly mode: string;
  readonly rounding?: string;
  readonly cubicAlpha?: number;
  readonly excludeOutside?: boolean;
  readonly extrapolation?: number;
  /** [start_h, start_w, end_h, end_w]. */
  readonly roi?: readonly number[];
}

/** The original coordinate of resized index x (ONNX's formulas, with scale = out / in). */
function original(mode: string, x: number, lengthIn: number, lengthOut: number, start: number, end: number): number {
  const scale = lengthOut / lengthIn;
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return lengthOut > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return lengthOut === 1 ? 0 : (x * (lengthIn - 1)) / (lengthOut - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize':
      return lengthOut > 1
        ? start * (lengthIn - 1) + (x * (end - start) * (lengthIn - 1)) / (lengthOut - 1)
        : 0.5 * (start + end) * (lengthIn - 1);
    default:
      throw new Error(`unknown coordinate transformation mode ${mode}`);
  }
}

function roundNearest(x: number, rounding: string): number {
  const f = Math.floor(x);
  const tie = x - f === 0.5;
  switch (rounding) {
    case 'round':
      return tie ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
    case 'round_prefer_floor':
      return tie ? f : Math.round(x);
    case 'round_prefer_ceil':
      return tie ? f + 1 : Math.round(x);
    case 'floor':
      return f;
    case 'ceil':
      return Math.ceil(x);
    default:
      throw new Error(`unknown rounding method ${rounding}`);
  }
}

/** Keys' cubic convolution kernel at distance d. */
function keys(d: number, a: number): number {
  const t = Math.abs(d);
  if (t <= 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
  if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
  return 0;
}

/** The input indices (not yet clamped) and weights that make up resized coordinate x along one axis. */
function taps(x: number, length: number, o: ResizeOptions): [number, number][] {
  switch (o.method) {
    case 'nearest_neighbor':
      return [[roundNearest(x, o.rounding ?? 'round'), 1]];
    case 'linear': {
      const f = Math.floor(x);
      return [
        [f, 1 - (x - f)],
        [f + 1, x - f],
      ];
    }
    case 'cubic': {
      const f = Math.floor(x);
      const a = o.cubicAlpha ?? -0.75;
      let t: [number, number][] = [-1, 0, 1, 2].map((d) => [f + d, keys(x - (f + d), a)]);
      if (o.excludeOutside) {
        t = t.map(([i, w]) => [i, i < 0 || i >= length ? 0 : w]);
        const total = t.reduce((s, [, w]) => s + w, 0);
        t = t.map(([i, w]) => [i, w / total]);
      }
      return t;
    }
  }
}

/** resize2d of an NCHW tensor to outH x outW. */
export function resize2d(x: Nd, outH: number, outW: number, o: ResizeOptions): Nd {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const roi = o.roi ?? [0, 0, 1, 1];
  const out = new Float64Array(N * C * outH * outW);
  const clamp = (i: number, n: number): number => Math.min(Math.max(i, 0), n - 1);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const y = original(o.mode, oy, H, outH, roi[0]!, roi[2]!);
        const xx = original(o.mode, ox, W, outW, roi[1]!, roi[3]!);
        let v = 0;
        if (o.mode === 'tf_crop_and_resize' && (y < 0 || y > H - 1 || xx < 0 || xx > W - 1)) v = o.extrapolation ?? 0;
        else {
          for (const [iy, wy] of taps(y, H, o))
            for (const [ix, wx] of taps(xx, W, o)) v += wy * wx * x.data[(nc * H + clamp(iy, H)) * W + clamp(ix, W)]!;
        }
        out[(nc * outH + oy) * outW + ox] = v;
      }
  return { shape: [N, C, outH, outW], data: out };
}
