/** Pad, and DepthToSpace / SpaceToDepth as reshape, transpose, reshape. */
import { floordiv, mul } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { defineConverter } from '../registry.ts';
import { normAxis } from '../shape.ts';
import { knownNumbers, reshape } from './common.ts';

const PAD_MODES: Record<string, string> = { constant: 'constant', reflect: 'reflect', edge: 'replicate', wrap: 'circular' };

defineConverter('Pad', (ctx) => {
  const x = ctx.input(0);
  const rank = ctx.rank(0);
  const mode = ctx.attr.string('mode', 'constant');
  const padMode = PAD_MODES[mode];
  if (!padMode) return ctx.fail(`mode '${mode}' is not one of constant, reflect, edge and wrap`);
  let pads: number[];
  let value = 0;
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (ctx.opset < 11) {
    pads = ctx.attr.ints(ctx.opset < 2 ? 'paddings' : 'pads');
    value = ctx.attr.float('value', 0);
  } else {
    pads = ctx.knownInts(1) ?? ctx.fail('the pads input must be known at import time (a constant or computed from shapes)');
    if (ctx.has(2)) {
      const v = knownNumbers(ctx, 2);
      if (!v) return ctx.fail('the constant_value input must be a constant');
      value = v[0] ?? 0;
    }
    if (ctx.has(3)) {
      const given = ctx.knownInts(3) ?? ctx.fail('the axes input must be a constant');
      axes = given.map((a) => normAxis(ctx, a, rank));
    }
  }
  if (pads.length !== 2 * axes.length) {
    return ctx.fail(`pads has ${pads.length} values; ${axes.length} padded axes need ${2 * axes.length}`);
  }
  // ONNX lists every axis's padding before, then every axis's after; Kiln before and after per axis.
  const width = Array.from({ length: 2 * rank }, () => 0);
  axes.forEach((a, k) => {
    width[2 * a] = pads[k]!;
    width[2 * a + 1] = pads[axes.length + k]!;
  });
  if (width.every((w) => w === 0)) return x;
  return ctx.op('pad', [x], { pad_width: width, pad_mode: padMode, pad_value: value });
});

function blocksize(ctx: NodeContext): number {
  if (ctx.rank(0) !== 4) return ctx.fail(`the input has rank ${ctx.rank(0)}; ${ctx.opType} rearranges NCHW tensors`);
  const b = ctx.attr.int('blocksize');
  if (b < 1) return ctx.fail(`blocksize ${b} must be positive`);
  return b;
}

/**
 * DepthToSpace: the channels split into a b x b block and C / b² channels
 * (DCR: the block first; CRD: the channels first), the block moving next to
 * the height and the width.
 */
defineConverter('DepthToSpace', (ctx) => {
  const b = blocksize(ctx);
  const [n, c, h, w] = ctx.shape(0);
  const mode = ctx.attr.string('mode', 'DCR');
  if (mode !== 'DCR' && mode !== 'CRD') return ctx.fail(`mode '${mode}' is not DCR or CRD`);
  const depth = ctx.simplify(floordiv(c!, b * b));
  const dcr = mode === 'DCR';
  const split = reshape(ctx, ctx.input(0), dcr ? [n!, b, b, depth, h!, w!] : [n!, depth, b, b, h!, w!]);
  const moved = ctx.op('permute_dims', [split], { axes: dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3] });
  return reshape(ctx, moved, [n!, depth, mul(h!, b), mul(w!, b)]);
});

/** SpaceToDepth: each b x b block of pixels becomes b² channels, the block's position before the channel. */
defineConverter('SpaceToDepth', (ctx) => {
  const b = blocksize(ctx);
  const [n, c, h, w] = ctx.shape(0);
  const [hb, wb] = [h!, w!].map((d) => ctx.simplify(floordiv(d, b)));
  const split = reshape(ctx, ctx.input(0), [n!, c!, hb!, b, wb!, b]);
  const moved = ctx.op('permute_dims', [split], { axes: [0, 3, 5, 1, 2, 4] });
  return reshape(ctx, moved, [n!, mul(c!, b * b), hb!, wb!]);
});
