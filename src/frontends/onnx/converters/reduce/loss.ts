/**
 * The classification losses: NegativeLogLikelihoodLoss, a gather of each
 * target's log-probability and a (weighted) reduction, and
 * SoftmaxCrossEntropyLoss, the same over log_softmax of the scores.
 */
import type { NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { scalar } from './reductions.ts';

/**
 * loss[n, d...] = -logProb[n, target[n, d...], d...] * weight[target[n, d...]],
 * 0 where the target is ignore_index. 'mean' divides the sum by the sum of
 * the weights that applied (the count of targets not ignored, unweighted).
 */
function nllLoss(ctx: NodeContext, logProb: Value, target: Value, weight: Value | undefined): Value {
  const reduction = ctx.attr.string('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) return ctx.fail(`reduction '${reduction}' is not supported`);
  const dtype = ctx.dtype(0);
  const rank = ctx.rank(0);
  if (rank < 2) return ctx.fail(`the input must have a class axis (rank 2 or more), not rank ${rank}`);
  const targetType = ctx.dtype(1);

  // An ignored target may be any number, even out of range: it reads class 0, and its weight is 0.
  let ignored: Value | undefined;
  let safeTarget = target;
  if (ctx.attr.has('ignore_index')) {
    ignored = ctx.op('equal', [target, scalar(ctx, ctx.attr.int('ignore_index'), targetType)]);
    safeTarget = ctx.op('where', [ignored, scalar(ctx, 0, targetType), target]);
  }
  const classIndex = ctx.op('expand_dims', [safeTarget], { axis: [1] });
  const picked = ctx.op('squeeze', [ctx.op('gather_elements', [logProb, classIndex], { axis: 1 })], { axis: [1] });

  let w: Value | undefined = weight && ctx.op('take', [weight, safeTarget], { axis: 0 });
  if (ignored) w = ctx.op('where', [ignored, scalar(ctx, 0, dtype), w ?? scalar(ctx, 1, dtype)]);
  const loss = ctx.op('negative', [w ? ctx.op('multiply', [picked, w]) : picked]);

  if (reduction === 'none') return loss;
  const total = ctx.op('sum', [loss], { axis: null, keepdims: false });
  if (reduction === 'sum') return total;
  if (!w) return ctx.op('mean', [loss], { axis: null, keepdims: false });
  return ctx.op('divide', [total, ctx.op('sum', [w], { axis: null, keepdims: false })]);
}

defineConverter('NegativeLogLikelihoodLoss', (ctx) =>
  nllLoss(ctx, ctx.input(0), ctx.input(1), ctx.has(2) ? ctx.input(2) : undefined),
);

defineConverter('SoftmaxCrossEntropyLoss', (ctx) => {
  const logProb = ctx.op('log_softmax', [ctx.input(0)], { axis: 1 });
  return [nllLoss(ctx, logProb, ctx.input(1), ctx.has(2) ? ctx.input(2) : undefined), logProb];
});
