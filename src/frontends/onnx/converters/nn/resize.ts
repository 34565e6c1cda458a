/**
 * Resize (opsets 10 to 19) and Upsample on Kiln's resize2d, which resizes
 * the last two dims of an NCHW tensor. Any input whose size changes along
 * at most two axes fits: the other axes are flattened into N (moved before
 * the resized ones first when they are not already), and a lone resized
 * axis gets a unit height.
 *
 * resize2d maps output to input coordinates with the ratio of the sizes.
 * ONNX maps them with the scale when it is given, which differs when
 * in * scale is not a whole number (4 * 0.8 pixels make 3). Such a resize
 * of static sizes runs as tf_crop_and_resize with the region of interest
 * that gives ONNX's affine map, on the input padded with its edge pixels
 * where coordinates fall outside it. Nearest resizing there (or along more
 * than two axes) gathers along each axis at indices computed at import
 * time instead, which keeps exact ties exact.
 */
import { floordiv, mul, type PrimExpr, product } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { literalNumber } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { normAxis } from '../shape.ts';
import { idx, knownNumbers, reshape } from './common.ts';

/** One axis of the resize: its sizes, the scale ONNX maps coordinates with (undefined: out / in) and its roi. */
interface Axis {
  readonly in: PrimExpr;
  readonly out: PrimExpr;
  readonly scale: number | undefined;
  readonly roi: readonly [number, number];
}

interface Options {
  readonly method: 'nearest_neighbor' | 'linear' | 'cubic';
  /** ONNX's coordinate_transformation_mode. */
  readonly coord: string;
  readonly rounding: string;
  readonly cubicA: number;
  readonly exclude: boolean;
  readonly extrapolation: number;
}

const METHODS: Record<string, Options['method']> = {
  nearest: 'nearest_neighbor',
  linear: 'linear',
  bilinear: 'linear',
  cubic: 'cubic',
};

const COORDINATE_MODES = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
];

const ROUNDINGS = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

const lit = (ctx: NodeContext, e: PrimExpr): number | undefined => literalNumber(ctx.simplify(e));

/** Whether ONNX's map of `a` differs from the identity (the axis must go through resize2d). */
function moves(ctx: NodeContext, a: Axis, o: Options): boolean {
  if (!ctx.analyzer.proveEqual(a.in, a.out)) return true;
  if (lit(ctx, a.in) === 1) return false;
  if (a.scale !== undefined && a.scale !== 1) return true;
  if (o.coord === 'tf_crop_and_resize') return a.roi[0] !== 0 || a.roi[1] !== 1;
  // x + 0.5 rounds up to the next pixel.
  return o.coord === 'tf_half_pixel_for_nn' && o.method === 'nearest_neighbor' && o.rounding.endsWith('ceil');
}

/** Whether resize2d's map (by the sizes' ratio) is ONNX's for `a`: its scale is the ratio. */
function exact(ctx: NodeContext, a: Axis): boolean {
  if (a.scale === undefined) return true;
  const n = lit(ctx, a.in);
  const m = lit(ctx, a.out);
  if (n !== undefined && m !== undefined) return n * a.scale === m || n === 1;
  return Number.isInteger(a.scale) && ctx.analyzer.proveEqual(a.out, mul(a.in, a.scale));
}

/**
 * ONNX's coordinate map of an axis of static sizes n -> m as x_in = start +
 * step * x_out. Every mode divides by the scale, or by the unrounded output
 * size n * s (align_corners and tf_crop_and_resize): that is ONNX's
 * reference and the test data; ONNX Runtime divides by the rounded size.
 */
function affine(ctx: NodeContext, o: Options, n: number, m: number, s: number, roi: readonly [number, number]): [number, number] {
  // A one-pixel output, as the reference computes n * s (in float32).
  const single = Math.fround(n * s) === 1;
  switch (o.coord) {
    case 'half_pixel':
      return [0.5 / s - 0.5, 1 / s];
    case 'pytorch_half_pixel':
      return m > 1 ? [0.5 / s - 0.5, 1 / s] : [0, 0];
    case 'asymmetric':
      return [0, 1 / s];
    case 'tf_half_pixel_for_nn':
      return [0.5 / s, 1 / s];
    case 'half_pixel_symmetric': {
      // Centered: shifted by half the part of a pixel that flooring the output size cut off.
      const adjustment = m / (n * s);
      return [(n / 2) * (1 - adjustment) + 0.5 / s - 0.5, 1 / s];
    }
    case 'align_corners':
      return [0, single ? 0 : (n - 1) / (n * s - 1)];
    case 'tf_crop_and_resize': {
      const [r0, r1] = roi;
      return single ? [((r0 + r1) / 2) * (n - 1), 0] : [r0 * (n - 1), ((r1 - r0) * (n - 1)) / (n * s - 1)];
    }
    default:
      return ctx.fail(`coordinate_transformation_mode '${o.coord}' is not supported`);
  }
}

/** How tf_crop_and_resize follows ONNX's map along one axis: its roi, once the input has `pad` more edge pixels each side. */
interface Crop {
  readonly roi: readonly [number, number];
  readonly pad: number;
}

/**
 * The crop that maps like ONNX's mode with the scale: resize2d computes
 * x_in = roi_start * (n - 1) + x_out * (roi_end - roi_start) * (n - 1) / (m - 1).
 * Coordinates past the edges read the edge pixels in ONNX (but for
 * tf_crop_and_resize itself), where crop-and-resize extrapolates: the input
 * is padded with its edge pixels to reach them (and past an edge that a
 * coordinate comes within rounding error of).
 */
function cropEquivalent(ctx: NodeContext, a: Axis, o: Options): Crop {
  const n = lit(ctx, a.in);
  const m = lit(ctx, a.out);
  if (n === undefined || m === undefined) {
    return ctx.fail(
      `a scale of ${a.scale} maps coordinates differently from the ratio of the output to the input size, ` +
        'which Kiln can follow only for static sizes',
    );
  }
  if (n === 1) return { roi: [0, 0], pad: 0 };
  const [start, step] = affine(ctx, o, n, m, a.scale ?? m / n, a.roi);
  const end = start + step * (m - 1);
  const inside = o.coord === 'tf_crop_and_resize' || (start >= 0 && end <= n - 1 - 1e-4);
  const pad = inside ? 0 : Math.ceil(Math.max(-start, end - (n - 1), 0)) + 1;
  if (pad > 0 && o.exclude) {
    return ctx.fail(`exclude_outside with a scale of ${a.scale} that maps output pixels past the edges of a dim of size ${n}`);
  }
  const last = n + 2 * pad - 1;
  return { roi: [(start + pad) / last, (m === 1 ? start + pad : end + pad) / last], pad };
}

/**
 * The input index ONNX's nearest resize reads for each output index of a
 * static axis, computed as ONNX Runtime does, in float32: a coordinate
 * that is exactly halfway rounds as nearest_mode says, which a coordinate
 * computed another way may miss by a rounding error.
 */
function nearestIndices(ctx: NodeContext, a: Axis, o: Options): number[] {
  const n = lit(ctx, a.in);
  const m = lit(ctx, a.out);
  if (n === undefined || m === undefined) {
    return ctx.fail(
      `a scale of ${a.scale} maps coordinates differently from the ratio of the sizes, which Kiln follows only for static sizes`,
    );
  }
  const f = Math.fround;
  const s = f(a.scale ?? m / n);
  const width = f(n * s);
  const coordinate = (x: number): number => {
    switch (o.coord) {
      case 'half_pixel':
        return f(f(f(x + 0.5) / s) - 0.5);
      case 'pytorch_half_pixel':
        return m > 1 ? f(f(f(x + 0.5) / s) - 0.5) : 0;
      case 'asymmetric':
        return f(x / s);
      case 'tf_half_pixel_for_nn':
        return f(f(x + 0.5) / s);
      case 'align_corners':
        return width === 1 ? 0 : f(f(x * (n - 1)) / f(width - 1));
      case 'half_pixel_symmetric':
        return f(f((n / 2) * f(1 - f(m / width))) + f(f(f(x + 0.5) / s) - 0.5));
      default:
        return ctx.fail(`coordinate_transformation_mode '${o.coord}' is not supported for nearest resizing here`);
    }
  };
  const round = (c: number): number => {
    const below = Math.floor(c);
    const frac = c - below;
    if (frac === 0) return c;
    switch (o.rounding) {
      case 'round_prefer_floor':
        return frac <= 0.5 ? below : below + 1;
      case 'round_prefer_ceil':
        return frac < 0.5 ? below : below + 1;
      case 'floor':
        return below;
      default:
        return below + 1;
    }
  };
  return Array.from({ length: m }, (_, x) => Math.min(Math.max(round(coordinate(x)), 0), n - 1));
}

const UNIT_AXIS: Axis = { in: idx(1), out: idx(1), scale: undefined, roi: [0, 1] };

function resize(ctx: NodeContext, x: Value, axes: readonly Axis[], o: Options): Value {
  const rank = axes.length;
  const moved = axes.flatMap((a, i) => (moves(ctx, a, o) ? [i] : []));
  if (moved.length === 0) return x;
  const gather = moved.length > 2 || !moved.every((i) => exact(ctx, axes[i]!));
  if (o.method === 'nearest_neighbor' && o.coord !== 'tf_crop_and_resize' && gather) {
    // Nearest resizing reads whole pixels: a gather along each resized axis, of indices known now.
    return moved.reduce<Value>((y, i) => {
      const picks = nearestIndices(ctx, axes[i]!, o);
      return ctx.op('take', [y, ctx.constant('int64', [picks.length], picks)], { axis: i });
    }, x);
  }
  if (moved.length > 2) {
    return ctx.fail(`the size changes along ${moved.length} axes (${moved.join(', ')}); Kiln's resize2d resizes two`);
  }
  const kept = axes.flatMap((_, i) => (moved.includes(i) ? [] : [i]));
  const perm = [...kept, ...moved];
  const inOrder = perm.every((p, i) => p === i);
  const plane: Axis[] = moved.length === 2 ? moved.map((i) => axes[i]!) : [UNIT_AXIS, axes[moved[0]!]!];

  let coord = o.coord === 'half_pixel_symmetric' ? 'half_pixel' : o.coord;
  let roi = [plane[0]!.roi[0], plane[1]!.roi[0], plane[0]!.roi[1], plane[1]!.roi[1]];
  let edge = [0, 0];
  if (!plane.every((a) => exact(ctx, a))) {
    const [h, w] = plane.map((a) => cropEquivalent(ctx, a, o)) as [Crop, Crop];
    coord = 'tf_crop_and_resize';
    roi = [h.roi[0], w.roi[0], h.roi[1], w.roi[1]];
    edge = [h.pad, w.pad];
  } else if (o.coord === 'half_pixel_symmetric') {
    // With the sizes' ratio as the scale, nothing is cut off: it is half_pixel.
    coord = 'half_pixel';
  }

  const permuted = inOrder ? x : ctx.op('permute_dims', [x], { axes: perm });
  // An NCHW input resized along H and W goes as it is; anything else as (kept axes) x 1 x H x W.
  const direct = rank === 4 && inOrder && moved[0] === 2;
  let view = direct ? permuted : reshape(ctx, permuted, [product(kept.map((i) => axes[i]!.in)), 1, plane[0]!.in, plane[1]!.in]);
  if (edge.some((p) => p > 0)) {
    view = ctx.op('pad', [view], { pad_width: [0, 0, 0, 0, edge[0]!, edge[0]!, edge[1]!, edge[1]!], pad_mode: 'replicate' });
  }
  const y = ctx.op('resize2d', [view, ctx.shapeArg([plane[0]!.out, plane[1]!.out])], {
    roi,
    method: o.method,
    coordinate_transformation_mode: coord,
    rounding_method: o.rounding,
    cubic_alpha: o.cubicA,
    cubic_exclude: o.exclude ? 1 : 0,
    extrapolation_value: o.extrapolation,
  });
  if (direct) return y;
  const out = reshape(
    ctx,
    y,
    perm.map((i) => axes[i]!.out),
  );
  if (inOrder) return out;
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return ctx.op('permute_dims', [out], { axes: inverse });
}

/** floor(in * scale): symbolic sizes take whole scales and their inverses. */
function scaledSize(ctx: NodeContext, d: PrimExpr, s: number): PrimExpr {
  const n = lit(ctx, d);
  if (n !== undefined) return idx(Math.floor(n * s));
  if (Number.isInteger(s)) return ctx.simplify(mul(d, s));
  if (Number.isInteger(1 / s)) return ctx.simplify(floordiv(d, 1 / s));
  return ctx.fail(`a scale of ${s} needs a static size of the dim it scales, which is symbolic`);
}

/**
 * Before opset 11, nearest picks floor(x) when upsampling and ceil(x) when
 * downsampling (ONNX Runtime's reading of the old spec).
 */
function oldRounding(ctx: NodeContext, method: Options['method'], scales: readonly number[]): string {
  if (method !== 'nearest_neighbor') return 'floor';
  const up = scales.some((s) => s > 1);
  const down = scales.some((s) => s < 1);
  if (up && down) return ctx.fail('nearest resizing up along one axis and down along another is not supported before opset 11');
  return down ? 'ceil' : 'floor';
}

function methodOf(ctx: NodeContext): Options['method'] {
  const mode = ctx.attr.string('mode', 'nearest');
  return METHODS[mode] ?? ctx.fail(`mode '${mode}' is not one of nearest, linear and cubic`);
}

defineConverter('Resize', (ctx) => {
  const dims = ctx.shape(0);
  const rank = dims.length;
  const method = methodOf(ctx);
  if (ctx.attr.int('antialias', 0) !== 0) return ctx.fail('antialias is not supported');
  const old = ctx.opset < 11;
  const coord = old ? 'asymmetric' : ctx.attr.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORDINATE_MODES.includes(coord)) return ctx.fail(`coordinate_transformation_mode '${coord}' is not supported`);
  const axisList = ctx.attr.has('axes')
    ? ctx.attr.ints('axes').map((a) => normAxis(ctx, a, rank))
    : Array.from({ length: rank }, (_, i) => i);

  const scalesAt = old ? 1 : 2;
  const scales = knownNumbers(ctx, scalesAt);
  if (ctx.has(scalesAt) && !scales) return ctx.fail('the scales input must be a constant');
  const sizesKnown = ctx.has(3) ? ctx.known(3) : undefined;
  if (ctx.has(3) && !sizesKnown)
    return ctx.fail('the sizes input must be known at import time (a constant or computed from shapes)');
  const sizes = sizesKnown?.values.length ? sizesKnown.values : undefined;
  const givenScales = scales?.length ? scales : undefined;
  if (!sizes === !givenScales) return ctx.fail('exactly one of scales and sizes must be given');
  const count = (sizes ?? givenScales)!.length;
  if (count !== axisList.length) return ctx.fail(`${count} ${sizes ? 'sizes' : 'scales'} for ${axisList.length} axes`);

  let roi: number[] | undefined;
  if (coord === 'tf_crop_and_resize') {
    roi = knownNumbers(ctx, 1);
    if (!roi) return ctx.fail('the roi input must be a constant');
    if (roi.length !== 2 * axisList.length) return ctx.fail(`roi has ${roi.length} values for ${axisList.length} axes`);
  }

  // The scale ONNX maps each resized axis with; keep_aspect_ratio_policy makes one scale of all the sizes.
  let axisScales = givenScales;
  let outSizes: PrimExpr[] | undefined = sizes ? [...sizes] : undefined;
  const policy = ctx.attr.string('keep_aspect_ratio_policy', 'stretch');
  if (sizes && policy !== 'stretch') {
    if (policy !== 'not_larger' && policy !== 'not_smaller')
      return ctx.fail(`keep_aspect_ratio_policy '${policy}' is not supported`);
    const ratios = axisList.map((a, k) => {
      const n = lit(ctx, dims[a]!);
      const m = lit(ctx, sizes[k]!);
      if (n === undefined || m === undefined) return ctx.fail(`keep_aspect_ratio_policy ${policy} needs static sizes`);
      return m / n;
    });
    const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axisScales = axisList.map(() => s);
    outSizes = axisList.map((a) => idx(Math.round(s * lit(ctx, dims[a]!)!)));
  }

  const axes: Axis[] = dims.map((d) => ({ in: d, out: d, scale: undefined, roi: [0, 1] as const }));
  axisList.forEach((a, k) => {
    const r: [number, number] = roi ? [roi[k]!, roi[axisList.length + k]!] : [0, 1];
    const s = axisScales?.[k];
    const out = outSizes?.[k] ?? scaledSize(ctx, dims[a]!, s!);
    axes[a] = { in: dims[a]!, out, scale: s, roi: r };
  });

  const rounding = old ? oldRounding(ctx, method, givenScales!) : ctx.attr.string('nearest_mode', 'round_prefer_floor');
  if (!ROUNDINGS.includes(rounding)) return ctx.fail(`nearest_mode '${rounding}' is not supported`);
  return resize(ctx, ctx.input(0), axes, {
    method,
    coord,
    rounding,
    cubicA: ctx.attr.float('cubic_coeff_a', -0.75),
    exclude: ctx.attr.int('exclude_outside', 0) === 1,
    extrapolation: ctx.attr.float('extrapolation_value', 0),
  });
});

/** Upsample (opsets 7 to 9): Resize with scales, asymmetric coordinates. */
defineConverter('Upsample', (ctx) => {
  const dims = ctx.shape(0);
  let scales: number[] | undefined;
  if (ctx.opset >= 9) scales = knownNumbers(ctx, 1) ?? ctx.fail('the scales input must be a constant');
  else if (ctx.attr.has('scales')) scales = ctx.attr.floats('scales');
  else scales = [1, 1, ctx.attr.float('height_scale'), ctx.attr.float('width_scale')];
  if (scales.length !== dims.length) return ctx.fail(`${scales.length} scales for an input of rank ${dims.length}`);
  const axes = dims.map((d, i) => ({ in: d, out: scaledSize(ctx, d, scales[i]!), scale: scales[i]!, roi: [0, 1] as const }));
  const method = methodOf(ctx);
  return resize(ctx, ctx.input(0), axes, {
    method,
    coord: 'asymmetric',
    rounding: oldRounding(ctx, method, scales),
    cubicA: -0.75,
    exclude: false,
    extrapolation: 0,
  });
});
