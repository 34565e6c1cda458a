/**
 * resize2d's legalization against a float64 reference of ONNX Resize: every
 * method, coordinate transformation mode and rounding method.
 *
 * Sizes are chosen so that the kernel's float32 coordinates are exact where a
 * rounding decision depends on them (scales in/out with a power-of-two
 * denominator, or no ties at all), so nearest neighbours match exactly, ties
 * included; the TVM-style 1e-5 nudge of floor and ceil then never matters.
 */
import { afterAll, describe, expect, test } from 'vitest';
import type { AttrMap } from '../../../src/ir/attrs.ts';
import type { DataType } from '../../../src/ir/dtype.ts';
import { expectClose, ref, type RefTensor, runOp, shapeArg, tensorArg } from '../../helpers/run-op.ts';
import { resize2d, type ResizeOptions } from '../../helpers/reference/image.ts';
import { randomArray } from '../../helpers/tir-interpreter.ts';

const MODES = [
  'half_pixel',
  'align_corners',
  'asymmetric',
  'pytorch_half_pixel',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
] as const;
const ROUNDINGS = ['round', 'floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'] as const;

interface Sizes {
  readonly in: readonly [number, number];
  readonly out: readonly [number, number];
  /** Symbolic input h and w. */
  readonly symbolic?: boolean;
}

/** Up, down and to one pixel; scales 3/4, 5/8, 3/2, 5/2, 4 and 1. */
const GENERAL: readonly Sizes[] = [
  { in: [3, 5], out: [4, 8] },
  { in: [6, 5], out: [4, 2], symbolic: true },
  { in: [4, 3], out: [1, 3] },
];
/** tf_crop_and_resize scales by (in - 1) / (out - 1). */
const CROP: readonly Sizes[] = [
  { in: [3, 5], out: [5, 9] },
  { in: [5, 7], out: [3, 4], symbolic: true },
  { in: [4, 3], out: [1, 3] },
];
const ROI = [0.25, -0.5, 0.75, 1.25];

const worst = { abs: 0, rel: 0 };
afterAll(() => console.log(`resize2d: max abs error ${worst.abs.toExponential(2)}, max rel error ${worst.rel.toExponential(2)}`));

let seed = 100;
function image(shape: readonly number[], dtype: DataType = 'float32'): RefTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randomArray(n, seed++, -1, 1);
  return ref(shape, dtype, dtype === 'float32' ? v : v.map((x) => Math.round(x * 100)));
}

function check(
  opts: ResizeOptions,
  attrs: AttrMap,
  sizes: Sizes,
  tol: { rtol: number; atol: number },
  dtype: DataType = 'float32',
): void {
  const x = image([1, 2, ...sizes.in], dtype);
  const dims = sizes.symbolic ? ['n', 2, 'h', 'w'] : undefined;
  const { outputs } = runOp('resize2d', [tensorArg(x, dims), shapeArg([...sizes.out])], attrs);
  const expected = resize2d(x, sizes.out[0], sizes.out[1], opts);
  expect(outputs[0]!.shape).toEqual(expected.shape);
  const e = expectClose(outputs[0]!.data, expected.data, tol, `resize2d ${JSON.stringify(attrs)} ${JSON.stringify(sizes)}`);
  worst.abs = Math.max(worst.abs, e.abs);
  worst.rel = Math.max(worst.rel, e.rel);
}

const sizesOf = (mode: string): readonly Sizes[] => (mode === 'tf_crop_and_resize' ? CROP : GENERAL);

describe('resize2d nearest_neighbor', () => {
  for (const mode of MODES) {
    for (const rounding of ROUNDINGS) {
      test(`${mode}, ${rounding}`, () => {
        const attrs = {
          method: 'nearest_neighbor',
          coordinate_transformation_mode: mode,
          rounding_method: rounding,
          roi: ROI,
          extrapolation_value: 9,
        };
        const opts = { method: 'nearest_neighbor', mode, rounding, roi: ROI, extrapolation: 9 } as const;
        for (const sizes of sizesOf(mode)) check(opts, attrs, sizes, { rtol: 0, atol: 0 });
      });
    }
  }

  test('integers, exactly; to float32 with out_dtype', () => {
    const attrs = { method: 'nearest_neighbor', coordinate_transformation_mode: 'asymmetric', rounding_method: 'floor' };
    const opts = { method: 'nearest_neighbor', mode: 'asymmetric', rounding: 'floor' } as const;
    check(opts, attrs, GENERAL[0]!, { rtol: 0, atol: 0 }, 'int32');
    const x = image([1, 2, 3, 5], 'int32');
    const { outputs } = runOp('resize2d', [tensorArg(x), shapeArg([4, 8])], { ...attrs, out_dtype: 'float32' });
    expect(outputs[0]!.dtype).toBe('float32');
    expectClose(outputs[0]!.data, resize2d(x, 4, 8, opts).data, { rtol: 0, atol: 0 }, 'int32 -> float32');
  });
});

describe('resize2d linear', () => {
  for (const mode of MODES) {
    test(mode, () => {
      const attrs = { method: 'linear', coordinate_transformation_mode: mode, roi: ROI, extrapolation_value: -2 };
      const opts = { method: 'linear', mode, roi: ROI, extrapolation: -2 } as const;
      for (const sizes of sizesOf(mode)) check(opts, attrs, sizes, { rtol: 1e-5, atol: 1e-6 });
    });
  }
});

describe('resize2d cubic', () => {
  for (const mode of MODES) {
    for (const exclude of [0, 1]) {
      test(`${mode}${exclude ? ', excluding the outside' : ''}`, () => {
        const attrs = { method: 'cubic', coordinate_transformation_mode: mode, cubic_exclude: exclude, roi: ROI };
        const opts = { method: 'cubic', mode, excludeOutside: exclude === 1, roi: ROI } as const;
        for (const sizes of sizesOf(mode)) check(opts, attrs, sizes, { rtol: 1e-5, atol: 1e-6 });
      });
    }
  }

  test('cubic_alpha -0.5 (TensorFlow / PIL), align_corners', () => {
    const attrs = { method: 'cubic', coordinate_transformation_mode: 'align_corners', cubic_alpha: -0.5 };
    const opts = { method: 'cubic', mode: 'align_corners', cubicAlpha: -0.5 } as const;
    check(opts, attrs, GENERAL[0]!, { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('resize2d sizes', () => {
  test('one size resizes both dims; an output size that is a symbolic input dim', () => {
    const x = image([2, 3, 4, 6]);
    const opts = { method: 'linear', mode: 'half_pixel' } as const;
    const square = runOp('resize2d', [tensorArg(x, ['n', 3, 'h', 'w']), shapeArg([8])], {});
    expectClose(square.outputs[0]!.data, resize2d(x, 8, 8, opts).data, { rtol: 1e-5, atol: 1e-6 }, 'size [8]');
    const keepWidth = runOp('resize2d', [tensorArg(x, ['n', 3, 'h', 'w']), shapeArg([2, 'w'])], {
      coordinate_transformation_mode: 'pytorch_half_pixel',
    });
    const expected = resize2d(x, 2, 6, { method: 'linear', mode: 'pytorch_half_pixel' });
    expectClose(keepWidth.outputs[0]!.data, expected.data, { rtol: 1e-5, atol: 1e-6 }, 'size [2, w]');
  });
});
