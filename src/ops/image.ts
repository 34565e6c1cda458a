/** Image operators: resize2d in NCHW, with the coordinate and interpolation options of ONNX Resize. */
import { z } from 'zod';
import { isFloat } from '../ir/dtype.ts';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import { argText, fmtShape, outTensor, requireDtype, requireRank, requireSizes } from './shape.ts';

/** resize2d(data, size): the spatial dims become `size` (one value resizes both). */
defineOp({
  name: 'resize2d',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'size', kind: 'shape' },
  ],
  attrs: z.object({
    roi: z.array(z.number()).length(4).default([0, 0, 0, 0]),
    layout: A.choice(['NCHW'], 'NCHW'),
    method: A.choice(['nearest_neighbor', 'linear', 'cubic'], 'linear'),
    coordinate_transformation_mode: A.choice(
      ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'],
      'half_pixel',
    ),
    rounding_method: A.choice(['round', 'floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'], 'round'),
    cubic_alpha: A.num(-0.75),
    cubic_exclude: z.int().min(0).max(1).default(0),
    extrapolation_value: A.num(0),
    out_dtype: A.optionalDtype(),
  }),
  infer: ({ data, size }, attrs, ctx) => {
    requireRank(ctx, 'data', data, 4);
    const dtype = attrs.out_dtype ?? data.dtype;
    if (attrs.method !== 'nearest_neighbor')
      requireDtype(ctx, 'data', data, isFloat, `a float type for ${attrs.method} interpolation`);
    if (size.ndim >= 0 && size.ndim !== 1 && size.ndim !== 2) {
      ctx.shapeError(`argument 'size' ${fmtShape(size)} must give 1 or 2 spatial sizes for ${argText('data', data)}`);
    }
    requireSizes(ctx, 'size', size);
    if (!data.shape || !size.values) return outTensor(4, dtype, data);
    const [h, w] = size.values.length === 1 ? [size.values[0]!, size.values[0]!] : size.values;
    return outTensor([data.shape[0]!, data.shape[1]!, h!, w!], dtype, data);
  },
});
