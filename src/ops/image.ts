/**
 * Image operators in NCHW: resize2d (the coordinate and interpolation
 * options of ONNX Resize), grid_sample (sampling at the coordinates of a
 * flow field) and roi_align (pooling bilinear samples over regions).
 */
import { z } from 'zod';
import { isFloat, isInt } from '../ir/dtype.ts';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import {
  argText,
  fmtExpr,
  fmtShape,
  int,
  outTensor,
  provablyDifferent,
  requireDtype,
  requireRank,
  requireSizes,
} from './shape.ts';

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

/**
 * grid_sample(data, grid): output pixel (n, c, h, w) samples data[n, c] at
 * grid[n, h, w] = (x, y), each in [-1, 1] across the image (the pixels'
 * centres with align_corners, their outer edges without), as ONNX
 * GridSample and PyTorch's grid_sample do.
 */
defineOp({
  name: 'grid_sample',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'grid', kind: 'tensor' },
  ],
  attrs: z.object({
    method: A.choice(['bilinear', 'nearest', 'bicubic'], 'bilinear'),
    padding_mode: A.choice(['zeros', 'border', 'reflection'], 'zeros'),
    align_corners: A.flag(false),
  }),
  infer: ({ data, grid }, _attrs, ctx) => {
    requireRank(ctx, 'data', data, 4);
    requireRank(ctx, 'grid', grid, 4);
    requireDtype(ctx, 'data', data, isFloat, 'a float type');
    requireDtype(ctx, 'grid', grid, isFloat, 'a float type');
    if (!data.shape || !grid.shape) return outTensor(4, data.dtype, data);
    const [n, c] = data.shape;
    const [gn, h, w, two] = grid.shape;
    if (provablyDifferent(ctx.analyzer, two!, int(2))) {
      ctx.shapeError(`${argText('grid', grid)} must end in 2 (x and y), not ${fmtExpr(two!)}`);
    }
    if (provablyDifferent(ctx.analyzer, gn!, n!))
      ctx.shapeError(`${argText('grid', grid)} and ${argText('data', data)} differ in batch`);
    return outTensor([n!, c!, h!, w!], data.dtype, data);
  },
});

/**
 * roi_align(data, rois, batch_indices): for each region r (x1, y1, x2, y2
 * in input pixels times spatial_scale) of image batch_indices[r], an
 * [output_height, output_width] grid of bins, each the average (or max) of
 * sampling_ratio x sampling_ratio bilinear samples: [R, C, oh, ow], as ONNX
 * RoiAlign. half_pixel shifts the region by half a pixel (aligned);
 * output_half_pixel does not, and stretches regions to at least a pixel.
 */
defineOp({
  name: 'roi_align',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'rois', kind: 'tensor' },
    { name: 'batch_indices', kind: 'tensor' },
  ],
  attrs: z.object({
    mode: A.choice(['avg', 'max'], 'avg'),
    output_height: z.int().min(1).default(1),
    output_width: z.int().min(1).default(1),
    sampling_ratio: z.int().min(1).default(2),
    spatial_scale: A.num(1),
    coordinate_transformation_mode: A.choice(['half_pixel', 'output_half_pixel'], 'half_pixel'),
  }),
  infer: ({ data, rois, batch_indices }, attrs, ctx) => {
    requireRank(ctx, 'data', data, 4);
    requireRank(ctx, 'rois', rois, 2);
    requireRank(ctx, 'batch_indices', batch_indices, 1);
    requireDtype(ctx, 'data', data, isFloat, 'a float type');
    requireDtype(ctx, 'rois', rois, isFloat, 'a float type');
    requireDtype(ctx, 'batch_indices', batch_indices, isInt, 'an integer type');
    if (!data.shape || !rois.shape) return outTensor(4, data.dtype, data);
    const [r, four] = rois.shape;
    if (provablyDifferent(ctx.analyzer, four!, int(4))) {
      ctx.shapeError(`${argText('rois', rois)} must have 4 columns (x1, y1, x2, y2), not ${fmtExpr(four!)}`);
    }
    if (batch_indices.shape && provablyDifferent(ctx.analyzer, batch_indices.shape[0]!, r!)) {
      ctx.shapeError(`${argText('batch_indices', batch_indices)} needs one index per region of ${argText('rois', rois)}`);
    }
    return outTensor([r!, data.shape[1]!, int(attrs.output_height), int(attrs.output_width)], data.dtype, data);
  },
});
