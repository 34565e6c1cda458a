/**
 * softmax and the normalizations. Each returns a tensor of its input's shape;
 * the work is checking that the parameters (gamma, beta, running statistics)
 * have the dims of the axes they scale.
 */
import { z } from 'zod';
import { isFloat } from '../ir/dtype.ts';
import { floormod, ne, type PrimExpr } from '../ir/prim/expr.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { argText, fmtDims, fmtExpr, normAxes, normAxis, provablyDifferent, requireDtype, sameDtype, sameShape } from './shape.ts';

for (const name of ['softmax', 'log_softmax']) {
  defineOp({
    name,
    args: [{ name: 'data', kind: 'tensor' }],
    attrs: z.object({ axis: A.axis(-1) }),
    infer: ({ data }, attrs, ctx) => {
      requireDtype(ctx, 'data', data, isFloat, 'a float type');
      if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
      return sameShape(data);
    },
  });
}

/**
 * Fails unless `param` has exactly the dims `want` (those of `data` on the
 * normalized axes), up to what the analyzer can tell apart.
 */
function checkParam(
  ctx: InferContext,
  name: string,
  param: TensorStructInfo,
  want: readonly PrimExpr[] | undefined,
  rank: number,
  data: TensorStructInfo,
): void {
  const wantText = want ? fmtDims(want) : `rank ${rank}`;
  if (param.ndim >= 0 && param.ndim !== rank) {
    ctx.shapeError(`${argText(name, param)} must have shape ${wantText} to match ${argText('data', data)}`);
  }
  if (!want || !param.shape) return;
  param.shape.forEach((d, i) => {
    if (provablyDifferent(ctx.analyzer, d, want[i]!)) {
      ctx.shapeError(`${argText(name, param)} must have shape ${wantText} to match ${argText('data', data)}`);
    }
  });
}

/** The dims of `data` on `axes`, or undefined when its shape is unknown. */
function dimsAt(data: TensorStructInfo, axes: readonly number[]): PrimExpr[] | undefined {
  return data.shape ? axes.map((a) => data.shape![a]!) : undefined;
}

function floatParams(ctx: InferContext, data: TensorStructInfo, params: readonly (readonly [string, TensorStructInfo])[]): void {
  requireDtype(ctx, 'data', data, isFloat, 'a float type');
  sameDtype(ctx, [['data', data], ...params]);
}

defineOp({
  name: 'layer_norm',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'gamma', kind: 'tensor' },
    { name: 'beta', kind: 'tensor' },
  ],
  attrs: z.object({ axes: A.axes([-1]), epsilon: A.num(1e-5), center: A.flag(true), scale: A.flag(true) }),
  infer: ({ data, gamma, beta }, attrs, ctx) => {
    floatParams(ctx, data, [
      ['gamma', gamma],
      ['beta', beta],
    ]);
    if (data.ndim >= 0) {
      const axes = normAxes(ctx, attrs.axes, data.ndim, 'data');
      const want = dimsAt(data, axes);
      checkParam(ctx, 'gamma', gamma, want, axes.length, data);
      checkParam(ctx, 'beta', beta, want, axes.length, data);
    }
    return sameShape(data);
  },
});

defineOp({
  name: 'rms_norm',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'weight', kind: 'tensor' },
  ],
  attrs: z.object({ axes: A.axes([-1]), epsilon: A.num(1e-5) }),
  infer: ({ data, weight }, attrs, ctx) => {
    floatParams(ctx, data, [['weight', weight]]);
    if (data.ndim >= 0) {
      const axes = normAxes(ctx, attrs.axes, data.ndim, 'data');
      checkParam(ctx, 'weight', weight, dimsAt(data, axes), axes.length, data);
    }
    return sameShape(data);
  },
});

/**
 * group_norm and instance_norm normalize over `axes` per group of channels
 * (instance_norm: one channel per group); gamma and beta have one value per
 * channel. No axes means every axis but the batch (0) and the channel axis,
 * the NCHW convention.
 */
const GROUP_NORM_ARGS = [
  { name: 'data', kind: 'tensor' },
  { name: 'gamma', kind: 'tensor' },
  { name: 'beta', kind: 'tensor' },
] as const;

const groupNormAttrs = {
  channel_axis: A.axis(1),
  axes: A.optionalAxes(),
  epsilon: A.num(1e-5),
  center: A.flag(true),
  scale: A.flag(true),
};

interface GroupNormAttrs {
  readonly channel_axis: number;
  readonly axes: readonly number[] | null;
}

function inferGroupNorm(
  ctx: InferContext,
  data: TensorStructInfo,
  gamma: TensorStructInfo,
  beta: TensorStructInfo,
  attrs: GroupNormAttrs,
  groups: number | undefined,
): TensorStructInfo {
  floatParams(ctx, data, [
    ['gamma', gamma],
    ['beta', beta],
  ]);
  if (data.ndim < 0) return sameShape(data);
  const ch = normAxis(ctx, attrs.channel_axis, data.ndim, 'data');
  const axes = attrs.axes ?? Array.from({ length: data.ndim }, (_, i) => i).filter((i) => i !== 0 && i !== ch);
  if (normAxes(ctx, axes, data.ndim, 'data').includes(ch)) {
    ctx.shapeError(`the channel axis ${attrs.channel_axis} of ${argText('data', data)} cannot also be a normalized axis`);
  }
  const c = data.shape?.[ch];
  if (c && groups !== undefined && ctx.analyzer.canProve(ne(floormod(c, groups), 0))) {
    ctx.shapeError(`${groups} groups do not divide the ${fmtExpr(c)} channels of ${argText('data', data)}`);
  }
  const want = c ? [c] : undefined;
  checkParam(ctx, 'gamma', gamma, want, 1, data);
  checkParam(ctx, 'beta', beta, want, 1, data);
  return sameShape(data);
}

defineOp({
  name: 'group_norm',
  args: GROUP_NORM_ARGS,
  attrs: z.object({ num_groups: z.int().min(1), ...groupNormAttrs }),
  infer: ({ data, gamma, beta }, attrs, ctx) => inferGroupNorm(ctx, data, gamma, beta, attrs, attrs.num_groups),
});

defineOp({
  name: 'instance_norm',
  args: GROUP_NORM_ARGS,
  attrs: z.object(groupNormAttrs),
  infer: ({ data, gamma, beta }, attrs, ctx) => inferGroupNorm(ctx, data, gamma, beta, attrs, undefined),
});

/**
 * batch_norm in inference form: normalizes with the running statistics and
 * returns one tensor (Relax returns a tuple with the updated statistics,
 * which inference never reads).
 */
defineOp({
  name: 'batch_norm',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'gamma', kind: 'tensor' },
    { name: 'beta', kind: 'tensor' },
    { name: 'moving_mean', kind: 'tensor' },
    { name: 'moving_var', kind: 'tensor' },
  ],
  attrs: z.object({ axis: A.axis(1), epsilon: A.num(1e-5), center: A.flag(true), scale: A.flag(true) }),
  infer: ({ data, gamma, beta, moving_mean, moving_var }, attrs, ctx) => {
    const params = [
      ['gamma', gamma],
      ['beta', beta],
      ['moving_mean', moving_mean],
      ['moving_var', moving_var],
    ] as const;
    floatParams(ctx, data, params);
    if (data.ndim >= 0) {
      const axis = normAxis(ctx, attrs.axis, data.ndim, 'data');
      const want = dimsAt(data, [axis]);
      for (const [name, p] of params) checkParam(ctx, name, p, want, 1, data);
    }
    return sameShape(data);
  },
});
