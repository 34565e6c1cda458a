/** Matrix operators: Trilu, EyeLike and Det. */
import { INDEX_DTYPE } from '../../../../ir/dtype.ts';
import { literalNumber } from '../../context.ts';
import { dtypeOfElemType, elemTypeName } from '../../tensor.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { scalar } from './reductions.ts';

defineConverter('Trilu', (ctx) => {
  let k = 0;
  if (ctx.has(1)) {
    const given = ctx.knownInts(1);
    if (!given || given.length !== 1) return ctx.fail('the k input must be a constant with one element');
    k = given[0]!;
  }
  const upper = ctx.attr.int('upper', 1) !== 0;
  return ctx.op(upper ? 'triu' : 'tril', [ctx.input(0)], { k });
});

defineConverter('EyeLike', (ctx) => {
  const dims = ctx.shape(0);
  if (dims.length !== 2) return ctx.fail(`the input must be 2-D, not of rank ${dims.length}`);
  let dtype = ctx.dtype(0);
  if (ctx.attr.has('dtype')) {
    const t = ctx.attr.int('dtype');
    dtype = dtypeOfElemType(t) ?? ctx.fail(`dtype ${elemTypeName(t)} is not supported`);
  }
  return ctx.op('eye', [ctx.primArg(dims[0]!), ctx.primArg(dims[1]!)], { k: ctx.attr.int('k', 0), dtype });
});

/** Matrices up to this size have their determinant expanded: 2^n - 1 minors of up to n terms each. */
const DET_MAX = 4;

/**
 * Det by Laplace expansion along the rows, each minor computed once (a
 * minor is named by the columns it keeps): exact for the small matrices
 * this is meant for, with no pivoting to decide at run time.
 */
defineConverter('Det', (ctx) => {
  const dims = ctx.shape(0);
  const rank = dims.length;
  if (rank < 2) return ctx.fail(`the input must have rank 2 or more, not ${rank}`);
  const n = literalNumber(dims[rank - 1]!);
  if (n === undefined || n !== literalNumber(dims[rank - 2]!)) return ctx.fail('the matrices must be square with a static size');
  if (n < 1 || n > DET_MAX) return ctx.fail(`matrices of size ${n} are not supported (1 to ${DET_MAX} are)`);
  const x = ctx.input(0);
  const take = (v: Value, i: number): Value => ctx.op('take', [v, scalar(ctx, i, INDEX_DTYPE)], { axis: rank - 2 });
  // a[i][j]: one tensor of the batch shape per element.
  const a = Array.from({ length: n }, (_, i) => {
    const row = take(x, i);
    return Array.from({ length: n }, (_, j) => take(row, j));
  });
  const minors = new Map<number, Value>();
  const minor = (cols: number): Value => {
    const cached = minors.get(cols);
    if (cached) return cached;
    const kept = Array.from({ length: n }, (_, j) => j).filter((j) => cols & (1 << j));
    const row = n - kept.length;
    let det: Value | undefined;
    kept.forEach((j, pos) => {
      const term = kept.length === 1 ? a[row]![j]! : ctx.op('multiply', [a[row]![j]!, minor(cols & ~(1 << j))]);
      det = det === undefined ? term : ctx.op(pos % 2 === 0 ? 'add' : 'subtract', [det, term]);
    });
    minors.set(cols, det!);
    return det!;
  };
  return minor((1 << n) - 1);
});
