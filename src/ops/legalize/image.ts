/**
 * Legalization of resize2d (NCHW), following ONNX Resize and TVM's resize2d.
 *
 * Each output pixel maps to a fractional input coordinate per the coordinate
 * transformation mode. Nearest reads one pixel; linear and cubic are a small
 * convolution: a sum over 2x2 or 4x4 taps around the coordinate, each weighted
 * by the interpolation kernel (triangle, or Keys' cubic) of its distance in y
 * and in x. Taps outside the image repeat its edge; with cubic_exclude they
 * are skipped and the weights renormalized. tf_crop_and_resize gives
 * extrapolation_value to coordinates outside the image.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { compute, computeMany, reduction, type Reducer, reduceAxis, sum, type Tensor } from '../../ir/builder/te.ts';
import type { DataType } from '../../ir/dtype.ts';
import {
  add,
  and,
  call,
  cast,
  constInt,
  div,
  floatImm,
  ge,
  gt,
  le,
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
import { defineLegalization, type LegalizeCall } from './registry.ts';

const analyzer = new Analyzer();

type Method = 'nearest_neighbor' | 'linear' | 'cubic';

type CoordinateMode =
  'half_pixel' | 'align_corners' | 'asymmetric' | 'pytorch_half_pixel' | 'tf_half_pixel_for_nn' | 'tf_crop_and_resize';

type Rounding = 'round' | 'floor' | 'ceil' | 'round_prefer_floor' | 'round_prefer_ceil';

/** One spatial axis: input size, output size and its region of interest (tf_crop_and_resize). */
interface Axis {
  readonly size: PrimExpr;
  readonly outSize: PrimExpr;
  readonly roiStart: number;
  readonly roiEnd: number;
}

/** Float arithmetic in the coordinate type `ft`. */
export class Coords {
  constructor(readonly ft: DataType) {}

  num(v: number): PrimExpr {
    return floatImm(v, this.ft);
  }

  /** An integer shape value as a float, folded when it is a literal. */
  of(e: PrimExpr): PrimExpr {
    const k = constInt(analyzer.simplify(e));
    return k === undefined ? cast(this.ft, e) : this.num(k);
  }

  /**
   * x * a / b for integer shape values a and b, dividing last: a folded ratio a / b would be
   * rounded to the coordinate type first, and a coordinate that is exactly a tie (k + 0.5)
   * would then land a rounding error beside it, which nearest rounding sees.
   */
  scaled(x: PrimExpr, a: PrimExpr, b: PrimExpr): PrimExpr {
    return div(mul(x, this.of(a)), this.of(b));
  }

  /** `wide()` when `outSize > 1`, else `one()` (chosen now when the size is a literal). */
  ifWide(outSize: PrimExpr, wide: () => PrimExpr, one: () => PrimExpr): PrimExpr {
    const k = constInt(outSize);
    if (k !== undefined) return k > 1 ? wide() : one();
    return select(gt(outSize, 1), wide(), one());
  }
}

/** The input coordinate that output index `o` maps to along `axis` (ONNX Resize's formulas). */
function inputCoordinate(mode: CoordinateMode, o: PrimExpr, axis: Axis, c: Coords): PrimExpr {
  const x = cast(c.ft, o);
  const half = c.num(0.5);
  const scale = (v: PrimExpr): PrimExpr => c.scaled(v, axis.size, axis.outSize);
  // v * (size - 1) / (outSize - 1); an output of one pixel has only index 0, so any divisor will do.
  const span = (v: PrimExpr): PrimExpr => c.scaled(v, sub(axis.size, 1), max(sub(axis.outSize, 1), 1));
  switch (mode) {
    case 'half_pixel':
      return sub(scale(add(x, half)), half);
    case 'pytorch_half_pixel':
      return c.ifWide(
        axis.outSize,
        () => sub(scale(add(x, half)), half),
        () => c.num(0),
      );
    case 'align_corners':
      return span(x);
    case 'asymmetric':
      return scale(x);
    case 'tf_half_pixel_for_nn':
      return scale(add(x, half));
    case 'tf_crop_and_resize': {
      const { roiStart: s, roiEnd: e } = axis;
      const last = c.of(sub(axis.size, 1));
      return c.ifWide(
        axis.outSize,
        () => add(mul(c.num(s), last), span(mul(x, c.num(e - s)))),
        () => mul(c.num(0.5 * (s + e)), last),
      );
    }
  }
}

/**
 * The nearest index to coordinate `x`. floor and ceil move by 1e-5 first,
 * as TVM does, so that a coordinate that is an integer in exact arithmetic
 * but computed a rounding error away from it still lands on that integer.
 */
function nearest(x: PrimExpr, rounding: Rounding, c: Coords): PrimExpr {
  const half = c.num(0.5);
  const eps = c.num(1e-5);
  const rounded = (): PrimExpr => {
    switch (rounding) {
      case 'round':
        return call('round', [x]);
      case 'round_prefer_floor':
        return call('ceil', [sub(x, half)]);
      case 'round_prefer_ceil':
        return call('floor', [add(x, half)]);
      case 'floor':
        return call('floor', [add(x, eps)]);
      case 'ceil':
        return call('ceil', [sub(x, eps)]);
    }
  };
  return cast('int64', rounded());
}

/** The interpolation kernel at distance `d` (|d| < 2): a triangle for linear, Keys' cubic for cubic. */
export function kernelAt(method: 'linear' | 'cubic', d: PrimExpr, alpha: number, c: Coords): PrimExpr {
  const t = call('abs', [d]);
  const n = (v: number): PrimExpr => c.num(v);
  if (method === 'linear') return sub(n(1), t);
  // (a + 2)|d|^3 - (a + 3)|d|^2 + 1 within one pixel, a|d|^3 - 5a|d|^2 + 8a|d| - 4a beyond (Horner form).
  const near = add(mul(mul(sub(mul(n(alpha + 2), t), n(alpha + 3)), t), t), n(1));
  const far = sub(mul(add(mul(sub(mul(n(alpha), t), n(5 * alpha)), t), n(8 * alpha)), t), n(4 * alpha));
  return select(le(t, n(1)), near, far);
}

export function clampIndex(i: PrimExpr, size: PrimExpr): PrimExpr {
  return min(max(i, 0), analyzer.simplify(sub(size, 1)));
}

/** Sums of two values at once: the weighted pixels and the weights. */
const SUM2: Reducer = {
  identity: (dtypes) => dtypes.map((t) => lit(0, t)),
  combine: (acc, v) => acc.map((a, i) => add(a, v[i]!)),
};

interface Resize {
  readonly c: LegalizeCall;
  readonly data: Tensor;
  readonly method: Method;
  readonly mode: CoordinateMode;
  readonly coords: Coords;
  readonly axes: readonly [Axis, Axis];
}

/** The input coordinates (y, x) of output pixel (oy, ox). */
function coordinates(r: Resize, oy: PrimExpr, ox: PrimExpr): [PrimExpr, PrimExpr] {
  return [inputCoordinate(r.mode, oy, r.axes[0], r.coords), inputCoordinate(r.mode, ox, r.axes[1], r.coords)];
}

/**
 * Linear or cubic interpolation: the sum over the taps, or with cubic_exclude
 * the sums of the weighted pixels and of the weights over the taps inside.
 */
function interpolation(r: Resize, method: 'linear' | 'cubic', name: string): Tensor[] {
  const taps = method === 'linear' ? 2 : 4;
  const exclude = method === 'cubic' && r.c.attr<number>('cubic_exclude') === 1;
  const alpha = r.c.attr<number>('cubic_alpha');
  const ry = reduceAxis(taps, 'ry');
  const rx = reduceAxis(taps, 'rx');
  const ft = r.coords.ft;
  return computeMany(
    r.c.outShape(),
    ([n, ch, oy, ox]) => {
      const inside: PrimExpr[] = [];
      // The taps run from floor(coordinate) - (taps / 2 - 1) on.
      const tap = (coord: PrimExpr, rv: PrimExpr, axis: Axis): { idx: PrimExpr; weight: PrimExpr } => {
        const floor = call('floor', [coord]);
        const idx = add(cast('int64', floor), taps === 2 ? rv : sub(rv, 1));
        if (exclude) inside.push(ge(idx, 0), lt(idx, axis.size));
        return { idx: clampIndex(idx, axis.size), weight: kernelAt(method, sub(coord, cast(ft, idx)), alpha, r.coords) };
      };
      const [y, x] = coordinates(r, oy!, ox!);
      const ty = tap(y, ry.var, r.axes[0]);
      const tx = tap(x, rx.var, r.axes[1]);
      const weight = mul(ty.weight, tx.weight);
      const pixel = convert(r.data.at(n!, ch!, ty.idx, tx.idx), ft);
      if (!exclude) return sum(mul(pixel, weight), [ry, rx]);
      return reduction(
        SUM2,
        [mul(pixel, weight), weight],
        [ry, rx],
        inside.reduce((a, b) => and(a, b)),
      );
    },
    exclude ? [`${name}_sum`, `${name}_weight`] : [name],
  );
}

defineLegalization('resize2d', (c) => {
  const data = c.tensor('data');
  const outShape = c.outShape();
  const roi = c.attr<number[]>('roi');
  const [, , h, w] = data.shape;
  const r: Resize = {
    c,
    data,
    method: c.attr<Method>('method'),
    mode: c.attr<CoordinateMode>('coordinate_transformation_mode'),
    // Coordinates and interpolation in float32, or float64 for float64 images.
    coords: new Coords(data.dtype === 'float64' ? 'float64' : 'float32'),
    axes: [
      { size: h!, outSize: outShape[2]!, roiStart: roi[0]!, roiEnd: roi[2]! },
      { size: w!, outSize: outShape[3]!, roiStart: roi[1]!, roiEnd: roi[3]! },
    ],
  };
  const outDtype = c.outDtype();
  const crop = r.mode === 'tf_crop_and_resize';
  const exclude = r.method === 'cubic' && c.attr<number>('cubic_exclude') === 1;
  const ft = r.coords.ft;

  // The sum over the taps is the result when nothing is left to do with it.
  const method = r.method;
  if (method !== 'nearest_neighbor' && !crop && !exclude && outDtype === ft) return interpolation(r, method, 'resize2d')[0]!;
  const sums = method === 'nearest_neighbor' ? [] : interpolation(r, method, 'resize2d_taps');

  return compute(
    outShape,
    (idx) => {
      const [n, ch, oy, ox] = idx;
      const [y, x] = coordinates(r, oy!, ox!);
      let value: PrimExpr;
      if (r.method === 'nearest_neighbor') {
        const rounding = c.attr<Rounding>('rounding_method');
        value = data.at(n!, ch!, clampIndex(nearest(y, rounding, r.coords), h!), clampIndex(nearest(x, rounding, r.coords), w!));
      } else value = exclude ? div(sums[0]!.at(...idx), sums[1]!.at(...idx)) : sums[0]!.at(...idx);
      if (crop) {
        const outside = (v: PrimExpr, size: PrimExpr): PrimExpr => or(lt(v, r.coords.num(0)), gt(v, r.coords.of(sub(size, 1))));
        value = select(or(outside(y, h!), outside(x, w!)), lit(c.attr<number>('extrapolation_value'), value.dtype), value);
      }
      return convert(value, outDtype);
    },
    'resize2d',
  );
});
