/** Errors of schedule primitives: which kernel, which primitive, what precondition failed. */
import { fail, M } from '../support/messages.ts';

export interface PrimitiveContext {
  /** The kernel (PrimFunc's global name) being scheduled. */
  readonly kernel: string;
  /** The primitive being applied, as the trace names it (split, cache_read, ...). */
  readonly primitive: string;
}

export function scheduleFail(ctx: PrimitiveContext, problem: string): never {
  return fail(M.schedule, { kernel: ctx.kernel, primitive: ctx.primitive, problem });
}
