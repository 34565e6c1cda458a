/**
 * Legalizations of grid_sample and roi_align: bilinear (or nearest, or
 * bicubic) samples of an NCHW image at fractional coordinates, summed over
 * their taps as a small reduction, as resize2d does (image.ts). Coordinates
 * and weights are float32 (float64 for float64 images).
 */
import { compute, maxOf, reduceAxis, type ReduceAxis, sum, type Tensor } from '../../ir/builder/te.ts';
import type { DataType } from '../../ir/dtype.ts';
import {
  add,
  and,
  call,
  cast,
  constInt,
  div,
  eq,
  ge,
  gt,
  lt,
  max,
  min,
  mul,
  or,
  type PrimExpr,
  select,
  sub,
} from '../../ir/prim/expr.ts';
import { convert, lit } from './common.ts';
import { clampIndex, Coords, kernelAt } from './image.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

type Padding = 'zeros' | 'border' | 'reflection';

/** The coordinate float type of an image. */
const coordsOf = (data: Tensor): Coords => new Coords(data.dtype === 'float64' ? 'float64' : 'float32');

/** An output in the accumulation type `ft`, converted to the out dtype in a stage of its own when they differ. */
function converted(
  c: LegalizeCall,
  ft: DataType,
  name: string,
  body: (idx: PrimExpr[]) => ReturnType<typeof sum> | PrimExpr,
): Tensor {
  if (c.outDtype() === ft) return compute(c.outShape(), body, name);
  const r = compute(c.outShape(), body, `${name}_acc`);
  return compute(c.outShape(), (i) => convert(r.at(...i), c.outDtype()), name);
}

// --- grid_sample --------------------------------------------------------------------

class GridAxis {
  constructor(
    readonly size: PrimExpr,
    readonly co: Coords,
    readonly align: boolean,
  ) {}

  /** The pixel coordinate of normalized g: -1 and 1 are the first and last centres (align) or the outer edges. */
  source(g: PrimExpr): PrimExpr {
    const one = this.co.num(1);
    const s = this.co.of(this.size);
    if (this.align) return mul(div(add(g, one), this.co.num(2)), sub(s, one));
    return div(sub(mul(add(g, one), s), one), this.co.num(2));
  }

  clamp(x: PrimExpr): PrimExpr {
    return min(max(x, this.co.num(0)), this.co.of(sub(this.size, 1)));
  }

  /**
   * x reflected into the image (over the first and last centres with align,
   * over the outer edges without) and clamped there: a reflection has
   * period 2 * span, and odd periods run backwards.
   */
  reflect(x: PrimExpr): PrimExpr {
    const lo = this.co.num(this.align ? 0 : -0.5);
    const span = this.co.of(this.align ? sub(this.size, 1) : this.size);
    const d = call('abs', [sub(x, lo)]);
    const flips = call('floor', [div(d, span)]);
    const extra = sub(d, mul(flips, span));
    const even = eq(mul(call('floor', [mul(flips, this.co.num(0.5))]), this.co.num(2)), flips);
    const reflected = select(even, add(extra, lo), add(sub(span, extra), lo));
    // An aligned axis of one pixel has nothing to reflect over: every coordinate is that pixel.
    const one = this.align ? constInt(this.size) : 2;
    const safe = one === undefined ? select(gt(this.size, 1), reflected, this.co.num(0)) : one > 1 ? reflected : this.co.num(0);
    return this.clamp(safe);
  }

  /** A coordinate with border or reflection padding applied (zeros leaves it). */
  padded(x: PrimExpr, padding: Padding): PrimExpr {
    return padding === 'border' ? this.clamp(x) : padding === 'reflection' ? this.reflect(x) : x;
  }

  inside(i: PrimExpr): PrimExpr[] {
    return [ge(i, 0), lt(i, this.size)];
  }
}

const floorIndex = (x: PrimExpr): PrimExpr => cast('int64', call('floor', [x]));

defineLegalization('grid_sample', (c) => {
  const data = c.tensor('data');
  const grid = c.tensor('grid');
  const method = c.attr<'bilinear' | 'nearest' | 'bicubic'>('method');
  const padding = c.attr<Padding>('padding_mode');
  const align = c.attr<boolean>('align_corners');
  const co = coordsOf(data);
  const ft = co.ft;
  const [, , h, w] = data.shape;
  const axes = [new GridAxis(h!, co, align), new GridAxis(w!, co, align)] as const;
  const pixel = (n: PrimExpr, ch: PrimExpr, y: PrimExpr, x: PrimExpr): PrimExpr => convert(data.at(n, ch, y, x), ft);
  return converted(c, ft, 'grid_sample', ([n, ch, oy, ox]) => {
    // Bicubic pads each tap's index; the others pad the coordinate.
    const at = (k: number): PrimExpr => {
      const s = axes[k]!.source(convert(grid.at(n!, oy!, ox!, 1 - k), ft));
      return method === 'bicubic' ? s : axes[k]!.padded(s, padding);
    };
    const [y, x] = [at(0), at(1)];
    if (method === 'nearest') {
      const [iy, ix] = [y, x].map((v) => cast('int64', call('round', [v])));
      const v = pixel(n!, ch!, clampIndex(iy!, h!), clampIndex(ix!, w!));
      if (padding !== 'zeros') return v;
      return select(
        [...axes[0].inside(iy!), ...axes[1].inside(ix!)].reduce((a, b) => and(a, b)),
        v,
        lit(0, ft),
      );
    }
    const taps = method === 'bilinear' ? 2 : 4;
    const r = [reduceAxis(taps, 'ry'), reduceAxis(taps, 'rx')] as const;
    const conds: PrimExpr[] = [];
    const tap = (k: number, coord: PrimExpr): { idx: PrimExpr; weight: PrimExpr } => {
      const a = axes[k]!;
      const i = add(floorIndex(coord), taps === 2 ? r[k]!.var : sub(r[k]!.var, 1));
      const weight = kernelAt(taps === 2 ? 'linear' : 'cubic', sub(coord, cast(ft, i)), -0.75, co);
      if (padding === 'zeros') conds.push(...a.inside(i));
      // A bicubic tap's index is padded as a coordinate; a bilinear tap past the edge has weight 0.
      const read = taps === 4 && padding !== 'zeros' ? cast('int64', a.padded(cast(ft, i), padding)) : i;
      return { idx: clampIndex(read, a.size), weight };
    };
    const ty = tap(0, y);
    const tx = tap(1, x);
    const term = mul(pixel(n!, ch!, ty.idx, tx.idx), mul(ty.weight, tx.weight));
    return sum(term, [...r], conds.length ? conds.reduce((a, b) => and(a, b)) : undefined);
  });
});

// --- roi_align ----------------------------------------------------------------------

defineLegalization('roi_align', (c) => {
  const data = c.tensor('data');
  const rois = c.tensor('rois');
  const batch = c.tensor('batch_indices');
  const co = coordsOf(data);
  const ft = co.ft;
  const [, , h, w] = data.shape;
  const [oh, ow] = [c.attr<number>('output_height'), c.attr<number>('output_width')];
  const ratio = c.attr<number>('sampling_ratio');
  const scale = c.attr<number>('spatial_scale');
  const aligned = c.attr<string>('coordinate_transformation_mode') === 'half_pixel';
  const isMax = c.attr<string>('mode') === 'max';
  const samples: ReduceAxis[] = [reduceAxis(ratio, 'iy'), reduceAxis(ratio, 'ix')];
  const num = (v: number): PrimExpr => co.num(v);
  return converted(c, ft, 'roi_align', ([r, ch, py, px]) => {
    const corner = (k: number): PrimExpr => sub(mul(convert(rois.at(r!, k), ft), num(scale)), num(aligned ? 0.5 : 0));
    // One axis: the sample's coordinate, clamped into the image, its two pixels and their weights.
    const axis = (start: PrimExpr, end: PrimExpr, bins: number, p: PrimExpr, i: PrimExpr, size: PrimExpr) => {
      let extent = sub(end, start);
      if (!aligned) extent = max(extent, num(1));
      const bin = div(extent, num(bins));
      const v = add(add(start, mul(cast(ft, p), bin)), div(mul(add(cast(ft, i), num(0.5)), bin), num(ratio)));
      const last = sub(size, 1);
      const clamped = min(max(v, num(0)), co.of(last));
      const lo = floorIndex(clamped);
      const frac = sub(clamped, cast(ft, lo));
      return {
        out: or(lt(v, num(-1)), gt(v, co.of(size))),
        lo,
        hi: min(add(lo, 1), last),
        wLo: sub(num(1), frac),
        wHi: frac,
      };
    };
    const y = axis(corner(1), corner(3), oh, py!, samples[0]!.var, h!);
    const x = axis(corner(0), corner(2), ow, px!, samples[1]!.var, w!);
    const b = batch.at(r!);
    const terms = [
      mul(mul(y.wLo, x.wLo), convert(data.at(b, ch!, y.lo, x.lo), ft)),
      mul(mul(y.wLo, x.wHi), convert(data.at(b, ch!, y.lo, x.hi), ft)),
      mul(mul(y.wHi, x.wLo), convert(data.at(b, ch!, y.hi, x.lo), ft)),
      mul(mul(y.wHi, x.wHi), convert(data.at(b, ch!, y.hi, x.hi), ft)),
    ];
    const outside = or(y.out, x.out);
    // Max mode takes the largest weighted corner of each sample (as onnxruntime and ONNX's reference do).
    if (isMax)
      return maxOf(
        select(
          outside,
          num(0),
          terms.reduce((a, t) => max(a, t)),
        ),
        samples,
      );
    return sum(
      select(
        outside,
        num(0),
        div(
          terms.reduce((a, t) => add(a, t)),
          num(ratio * ratio),
        ),
      ),
      samples,
    );
  });
});
