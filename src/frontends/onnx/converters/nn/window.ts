/**
 * The sliding-window attributes shared by convolutions and pooling:
 * kernel_shape, strides, dilations, and pads or auto_pad. ONNX and Kiln
 * order pads alike: every dim's padding before, then every dim's after.
 */
import type { PrimExpr } from '../../../../ir/prim/expr.ts';
import type { NodeContext } from '../../context.ts';
import { staticDims } from './common.ts';

/** An attribute with one value per spatial dim. */
export function spatialInts(ctx: NodeContext, name: string, nd: number, def: number): number[] {
  const v = ctx.attr.ints(
    name,
    Array.from({ length: nd }, () => def),
  );
  if (v.length !== nd) return ctx.fail(`${name} has ${v.length} values; the input has ${nd} spatial dims`);
  return v;
}

/** kernel_shape, or the weight's spatial dims when they are static; undefined when neither gives it. */
export function kernelOf(ctx: NodeContext, weightSpatial: readonly PrimExpr[]): number[] | undefined {
  const fromWeight = staticDims(ctx, weightSpatial);
  if (!ctx.attr.has('kernel_shape')) return fromWeight;
  const k = spatialInts(ctx, 'kernel_shape', weightSpatial.length, 1);
  if (fromWeight && k.some((d, i) => d !== fromWeight[i])) {
    return ctx.fail(`kernel_shape [${k.join(', ')}] differs from the weight's spatial dims [${fromWeight.join(', ')}]`);
  }
  return k;
}

const zeros = (n: number): number[] => Array.from({ length: n }, () => 0);

/**
 * The padding of a convolution or pooling window. SAME pads so that the
 * output has ceil(in / stride) elements, the odd one at the end (SAME_UPPER)
 * or the beginning (SAME_LOWER). With stride 1 that is (k - 1) * dilation
 * whatever the input size; other strides need static input sizes.
 */
export function windowPads(
  ctx: NodeContext,
  inDims: readonly PrimExpr[],
  kernel: readonly number[] | undefined,
  strides: readonly number[],
  dilations: readonly number[],
): number[] {
  const nd = inDims.length;
  const autoPad = ctx.attr.string('auto_pad', 'NOTSET');
  switch (autoPad) {
    case 'NOTSET': {
      const pads = ctx.attr.ints('pads', zeros(2 * nd));
      if (pads.length !== 2 * nd) return ctx.fail(`pads has ${pads.length} values; ${nd} spatial dims need ${2 * nd}`);
      if (pads.some((p) => p < 0)) return ctx.fail(`negative pads [${pads.join(', ')}] are not supported`);
      return pads;
    }
    case 'VALID':
      return zeros(2 * nd);
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      if (!kernel) return ctx.fail(`auto_pad ${autoPad} needs kernel_shape or a weight with static spatial dims`);
      const before: number[] = [];
      const after: number[] = [];
      for (let d = 0; d < nd; d++) {
        const s = strides[d]!;
        const extent = (kernel[d]! - 1) * dilations[d]! + 1;
        let total = extent - 1;
        if (s !== 1) {
          const n = staticDims(ctx, [inDims[d]!])?.[0];
          if (n === undefined) {
            return ctx.fail(`auto_pad ${autoPad} with stride ${s} needs a static size of spatial dim ${d}, which is symbolic`);
          }
          total = Math.max(0, (Math.ceil(n / s) - 1) * s + extent - n);
        }
        const half = Math.floor(total / 2);
        before.push(autoPad === 'SAME_UPPER' ? half : total - half);
        after.push(total - before[d]!);
      }
      return [...before, ...after];
    }
    default:
      return ctx.fail(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER and VALID`);
  }
}
