/** Helpers shared by the signal converters: scalar inputs that must be known at import time. */
import type { NodeContext } from '../../context.ts';
import { knownNumbers } from '../nn/common.ts';

/** Scalar (or one-element) input `i` as a number; it sizes the output, so it must be known at import time. */
export function knownScalar(ctx: NodeContext, i: number, what: string): number {
  const v = knownNumbers(ctx, i);
  if (!v || v.length !== 1) {
    return ctx.fail(`the ${what} input must be a scalar known at import time (a constant or computed from shapes)`);
  }
  return v[0]!;
}

/** A known integer scalar input at least `min`. */
export function knownCount(ctx: NodeContext, i: number, what: string, min: number): number {
  const n = knownScalar(ctx, i, what);
  if (!Number.isInteger(n) || n < min) return ctx.fail(`the ${what} input is ${n}; it must be an integer of at least ${min}`);
  return n;
}
