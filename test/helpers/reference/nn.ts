/**
 * Float64 references of convolutions, pooling and pad (PyTorch / ONNX / numpy
 * semantics), written as plain loops over row-major arrays, independently of
 * the legalizations they check.
 */

export interface Nd {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface Window2d {
  /** [h, w] each. */
  readonly strides: readonly number[];
  readonly dilation: readonly number[];
  /** [top, left, bottom, right]. */
  readonly pads: readonly number[];
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Output length of a sliding window (Relax's formula; ceil_mode rounds the window count up). */
export function windowOut(
  n: number,
  k: number,
  stride: number,
  before: number,
  after: number,
  dilation: number,
  ceil = false,
): number {
  const span = n + before + after - dilation * (k - 1) - 1;
  return Math.floor((span + (ceil ? stride - 1 : 0)) / stride) + 1;
}

/** conv2d, NCHW x OIHW with groups. */
export function conv2d(x: Nd, w: Nd, win: Window2d, groups = 1): Nd {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, CG, KH, KW] = w.shape as [number, number, number, number];
  const [sh, sw] = win.strides as [number, number];
  const [dh, dw] = win.dilation as [number, number];
  const [pt, pl, pb, pr] = win.pads as [number, number, number, number];
  const OH = windowOut(H, KH, sh, pt, pb, dh);
  const OW = windowOut(W, KW, sw, pl, pr, dw);
  const out = new Float64Array(N * O * OH * OW);
  const opg = O / groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / opg);
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < CG; c++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const ci = g * CG + c;
                acc += x.data[((n * C + ci) * H + iy) * W + ix]! * w.data[((o * CG + c) * KH + ky) * KW + kx]!;
              }
          out[((n * O + o) * OH + oy) * OW + ox] = acc;
        }
    }
  return { shape: [N, O, OH, OW], data: out };
}

/** conv1d as conv2d over a height of 1. */
export function conv1d(x: Nd, w: Nd, stride: number, pads: readonly [number, number], dilation: number, groups = 1): Nd {
  const [N, C, W] = x.shape as [number, number, number];
  const [O, CG, K] = w.shape as [number, number, number];
  const r = conv2d(
    { shape: [N, C, 1, W], data: x.data },
    { shape: [O, CG, 1, K], data: w.data },
    { strides: [1, stride], dilation: [1, dilation], pads: [0, pads[0], 0, pads[1]] },
    groups,
  );
  return { shape: [N, O, r.shape[3]!], data: r.data };
}

/**
 * conv2d_transpose, NCHW x IOHW (weight [C, O / groups, KH, KW]), as a scatter:
 * input (iy, ix) adds into output (iy * stride - pad + ky * dilation, ...).
 */
export function conv2dTranspose(x: Nd, w: Nd, win: Window2d, outputPadding: readonly number[], groups = 1): Nd {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [, OG, KH, KW] = w.shape as [number, number, number, number];
  const [sh, sw] = win.strides as [number, number];
  const [dh, dw] = win.dilation as [number, number];
  const [pt, pl, pb, pr] = win.pads as [number, number, number, number];
  const OH = (H - 1) * sh - pt - pb + dh * (KH - 1) + outputPadding[0]! + 1;
  const OW = (W - 1) * sw - pl - pr + dw * (KW - 1) + outputPadding[1]! + 1;
  const O = OG * groups;
  const cpg = C / groups;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / cpg);
      for (let iy = 0; iy < H; iy++)
        for (let ix = 0; ix < W; ix++) {
          const v = x.data[((n * C + c) * H + iy) * W + ix]!;
          for (let oc = 0; oc < OG; oc++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const oy = iy * sh - pt + ky * dh;
                const ox = ix * sw - pl + kx * dw;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                const o = g * OG + oc;
                out[((n * O + o) * OH + oy) * OW + ox]! += v * w.data[((c * OG + oc) * KH + ky) * KW + kx]!;
              }
        }
    }
  return { shape: [N, O, OH, OW], data: out };
}

export interface Pool2d extends Window2d {
  readonly kernel: readonly number[];
  readonly ceil?: boolean;
  readonly countIncludePad?: boolean;
  /** Integer average: truncate the quotient. */
  readonly truncate?: boolean;
}

/**
 * max / avg pooling, NCHW. Max ignores the padding; avg divides by the taps
 * inside the input, or with countIncludePad inside the padded input (a ceil_mode
 * window's overhang past the padding never counts), as PyTorch does.
 */
export function pool2d(kind: 'max' | 'avg', x: Nd, p: Pool2d): Nd {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [KH, KW] = p.kernel as [number, number];
  const [sh, sw] = p.strides as [number, number];
  const [dh, dw] = p.dilation as [number, number];
  const [pt, pl, pb, pr] = p.pads as [number, number, number, number];
  const OH = windowOut(H, KH, sh, pt, pb, dh, p.ceil);
  const OW = windowOut(W, KW, sw, pl, pr, dw, p.ceil);
  const out = new Float64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let best = -Infinity;
        let acc = 0;
        let inside = 0;
        let padded = 0;
        for (let ky = 0; ky < KH; ky++)
          for (let kx = 0; kx < KW; kx++) {
            const iy = oy * sh - pt + ky * dh;
            const ix = ox * sw - pl + kx * dw;
            if (iy >= -pt && iy < H + pb && ix >= -pl && ix < W + pr) padded++;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const v = x.data[(nc * H + iy) * W + ix]!;
            best = Math.max(best, v);
            acc += v;
            inside++;
          }
        const divisor = Math.max(p.countIncludePad ? padded : inside, 1);
        const avg = p.truncate ? Math.trunc(acc / divisor) : acc / divisor;
        out[(nc * OH + oy) * OW + ox] = kind === 'max' ? best : avg;
      }
  return { shape: [N, C, OH, OW], data: out };
}

/** 1-D pooling as 2-D pooling over a height of 1. */
export function pool1d(
  kind: 'max' | 'avg',
  x: Nd,
  p: {
    kernel: number;
    stride: number;
    dilation: number;
    pads: readonly [number, number];
    ceil?: boolean;
    countIncludePad?: boolean;
  },
): Nd {
  const [N, C, W] = x.shape as [number, number, number];
  const r = pool2d(
    kind,
    { shape: [N, C, 1, W], data: x.data },
    {
      kernel: [1, p.kernel],
      strides: [1, p.stride],
      dilation: [1, p.dilation],
      pads: [0, p.pads[0], 0, p.pads[1]],
      ceil: p.ceil ?? false,
      countIncludePad: p.countIncludePad ?? false,
    },
  );
  return { shape: [N, C, r.shape[3]!], data: r.data };
}

/** Adaptive average pooling over the trailing spatial dims (PyTorch's windows: [floor(o*in/out), ceil((o+1)*in/out))). */
export function adaptiveAvgPool(x: Nd, outSizes: readonly number[]): Nd {
  const lead = x.shape.slice(0, 2);
  const inSizes = x.shape.slice(2);
  const nd = inSizes.length;
  const outShape = [...lead, ...outSizes];
  const out = new Float64Array(size(outShape));
  const inPlane = size(inSizes);
  const outPlane = size(outSizes);
  const inStrides = inSizes.map((_, d) => size(inSizes.slice(d + 1)));
  for (let nc = 0; nc < size(lead); nc++)
    for (let p = 0; p < outPlane; p++) {
      // Per dim: the window's [start, end).
      let rest = p;
      const ranges: [number, number][] = [];
      for (let d = nd - 1; d >= 0; d--) {
        const o = rest % outSizes[d]!;
        rest = Math.floor(rest / outSizes[d]!);
        ranges[d] = [Math.floor((o * inSizes[d]!) / outSizes[d]!), Math.ceil(((o + 1) * inSizes[d]!) / outSizes[d]!)];
      }
      let acc = 0;
      let count = 0;
      const visit = (d: number, offset: number): void => {
        if (d === nd) {
          acc += x.data[nc * inPlane + offset]!;
          count++;
          return;
        }
        for (let i = ranges[d]![0]; i < ranges[d]![1]; i++) visit(d + 1, offset + i * inStrides[d]!);
      };
      visit(0, 0);
      out[nc * outPlane + p] = acc / count;
    }
  return { shape: outShape, data: out };
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** numpy.pad: constant, reflect, edge (replicate) and wrap (circular); negative widths crop. */
export function pad(x: Nd, width: readonly number[], mode: PadMode, value = 0): Nd {
  const nd = x.shape.length;
  const outShape = x.shape.map((n, a) => n + width[2 * a]! + width[2 * a + 1]!);
  const out = new Float64Array(size(outShape));
  const source = (i: number, n: number): number | undefined => {
    if (i >= 0 && i < n) return i;
    switch (mode) {
      case 'constant':
        return undefined;
      case 'replicate':
        return i < 0 ? 0 : n - 1;
      case 'circular':
        return ((i % n) + n) % n;
      case 'reflect': {
        if (n === 1) return 0;
        // Bounce off either end until inside.
        let j = i;
        while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
        return j;
      }
    }
  };
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let offset = 0;
    let stride = 1;
    let inside = true;
    for (let a = nd - 1; a >= 0; a--) {
      const o = rest % outShape[a]!;
      rest = Math.floor(rest / outShape[a]!);
      const i = source(o - width[2 * a]!, x.shape[a]!);
      if (i === undefined) inside = false;
      else offset += i * stride;
      stride *= x.shape[a]!;
    }
    out[flat] = inside ? x.data[offset]! : value;
  }
  return { shape: outShape, data: out };
}
