/** Matrix products: Gemm, MatMul (numpy semantics, as Kiln's matmul) and MatMulInteger. */
import { defineConverter } from '../registry.ts';
import type { Value } from '../../values.ts';
import type { NodeContext } from '../../context.ts';
import { centered, idx, scalar } from './common.ts';

/** Input `i`, transposed when attribute `flag` is set (Gemm's operands are matrices). */
function operand(ctx: NodeContext, i: number, flag: string): Value {
  const v = ctx.input(i);
  if (ctx.rank(i) !== 2) return ctx.fail(`input ${i} has rank ${ctx.rank(i)}; Gemm multiplies matrices`);
  return ctx.attr.int(flag, 0) === 1 ? ctx.op('permute_dims', [v], { axes: [1, 0] }) : v;
}

/** alpha * A' B' + beta * C, C broadcasting to the result. */
defineConverter('Gemm', (ctx) => {
  const dtype = ctx.dtype(0);
  const alpha = ctx.attr.float('alpha', 1);
  const beta = ctx.attr.float('beta', 1);
  let y: Value = ctx.op('matmul', [operand(ctx, 0, 'transA'), operand(ctx, 1, 'transB')]);
  if (alpha !== 1) y = ctx.op('multiply', [y, scalar(ctx, alpha, dtype)]);
  if (!ctx.has(2) || beta === 0) return y;
  const c = beta === 1 ? ctx.input(2) : ctx.op('multiply', [ctx.input(2), scalar(ctx, beta, dtype)]);
  return ctx.op('add', [y, c]);
});

defineConverter('MatMul', (ctx) => ctx.op('matmul', [ctx.input(0), ctx.input(1)]));

/** (A - a_zero_point)(B - b_zero_point) in int32; A's zero point may be per row, B's per column. */
defineConverter('MatMulInteger', (ctx) => {
  const a = centered(ctx, 0, 2, (m) => [m, idx(1)]);
  const b = centered(ctx, 1, 3, (n) => [n]);
  return ctx.op('matmul', [a, b]);
});
