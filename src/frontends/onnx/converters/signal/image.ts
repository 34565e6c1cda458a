/** GridSample and RoiAlign on Kiln's grid_sample and roi_align (NCHW). */
import { defineConverter } from '../registry.ts';

/** Opset 20 renamed the interpolation modes (and allows N-D grids, which Kiln does not sample). */
const MODES: Record<string, string> = {
  bilinear: 'bilinear',
  linear: 'bilinear',
  nearest: 'nearest',
  bicubic: 'bicubic',
  cubic: 'bicubic',
};

defineConverter('GridSample', (ctx) => {
  if (ctx.rank(0) !== 4) return ctx.fail(`an input of rank ${ctx.rank(0)} is not supported; Kiln samples 2-D images (rank 4)`);
  const mode = ctx.attr.string('mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
  const method = MODES[mode];
  if (!method) return ctx.fail(`mode '${mode}' is not one of ${Object.keys(MODES).join(', ')}`);
  const padding = ctx.attr.string('padding_mode', 'zeros');
  if (!['zeros', 'border', 'reflection'].includes(padding)) {
    return ctx.fail(`padding_mode '${padding}' is not one of zeros, border and reflection`);
  }
  return ctx.op('grid_sample', [ctx.input(0), ctx.input(1)], {
    method,
    padding_mode: padding,
    align_corners: ctx.attr.int('align_corners', 0) === 1,
  });
});

defineConverter('RoiAlign', (ctx) => {
  const ratio = ctx.attr.int('sampling_ratio', 0);
  if (ratio <= 0) {
    return ctx.fail(
      'sampling_ratio 0 (as many samples as each region has pixels per bin) makes the work per bin depend on the data; Kiln needs a positive sampling_ratio',
    );
  }
  // Opset 16 added the mode, defaulting to half_pixel; opset 10 behaves as output_half_pixel.
  const transform = ctx.opset >= 16 ? ctx.attr.string('coordinate_transformation_mode', 'half_pixel') : 'output_half_pixel';
  if (transform !== 'half_pixel' && transform !== 'output_half_pixel') {
    return ctx.fail(`coordinate_transformation_mode '${transform}' is not one of half_pixel and output_half_pixel`);
  }
  const mode = ctx.attr.string('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') return ctx.fail(`mode '${mode}' is not one of avg and max`);
  return ctx.op('roi_align', [ctx.input(0), ctx.input(1), ctx.input(2)], {
    mode,
    output_height: ctx.attr.int('output_height', 1),
    output_width: ctx.attr.int('output_width', 1),
    sampling_ratio: ratio,
    spatial_scale: ctx.attr.float('spatial_scale', 1),
    coordinate_transformation_mode: transform,
  });
});
