/**
 * Loop annotations: bind (to a GPU thread axis), vectorize, unroll and
 * parallel. Each changes only how a serial loop runs, so each checks that the
 * loop's iterations may run that way: a loop whose iterations accumulate into
 * the same outputs (it drives a reduce iterator) cannot run them at once,
 * except a threadIdx loop, whose partial results cross_thread_reduction
 * combines afterwards. Applying the kind a loop already has is a no-op.
 */
import { eq, type PrimVar } from '../../ir/prim/expr.ts';
import {
  type For,
  type ForKind,
  forLoop,
  MAX_COPIES,
  type PrimFunc,
  THREAD_TAGS,
  type ThreadTag,
  visitStmts,
} from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getLoop, pathTo, replaceStmt, withBody } from '../tree.ts';
import { analyzerAt, blocksUnder, describeKind, describeStmt, feedsReduce, itersFedBy } from './nest-utils.ts';

export function bind(f: PrimFunc, loop: PrimVar, thread: ThreadTag, ctx: PrimitiveContext): PrimFunc {
  if (!THREAD_TAGS.includes(thread)) scheduleFail(ctx, `'${String(thread)}' is not a thread axis (${THREAD_TAGS.join(', ')})`);
  const l = getLoop(f, loop, ctx);
  if (l.forKind === 'thread_binding' && l.thread === thread) return f;
  requireSerialFor(l, `bound to ${thread}`, ctx);
  if (!(l.min.kind === 'int' && l.min.value === 0)) {
    scheduleFail(ctx, `loop '${loop.name}' does not start at 0; a thread axis counts from 0 (split it first)`);
  }
  const isThread = thread.startsWith('threadIdx');
  requireIndependent(f, l, `bound to ${thread}`, isThread, ctx);
  // One loop per axis on a path, and workgroups (blockIdx) outside threads (threadIdx) —
  // except a cooperative stage: a threadIdx loop inside one of the same axis and extent
  // names the same threads, each doing its share (a copy into workgroup memory).
  for (const s of pathTo(f.body, l) ?? []) {
    if (s.kind !== 'for' || s.forKind !== 'thread_binding') continue;
    if (s.thread === thread && !(isThread && cooperative(f, s, l))) {
      scheduleFail(
        ctx,
        `loop '${s.loopVar.name}' around it is bound to ${thread} already` +
          (isThread ? ' (a nested loop may share the axis only with the same extent, driving only spatial iterators)' : ''),
      );
    }
    if (!isThread && s.thread?.startsWith('threadIdx')) {
      scheduleFail(
        ctx,
        `loop '${s.loopVar.name}' around it is bound to ${s.thread}; blockIdx loops must enclose threadIdx loops`,
      );
    }
  }
  visitStmts(l.body, (s) => {
    if (s.kind !== 'for' || s.forKind !== 'thread_binding') return;
    if (s.thread === thread) scheduleFail(ctx, `loop '${s.loopVar.name}' inside it is bound to ${thread} already`);
    if (isThread && s.thread?.startsWith('blockIdx')) {
      scheduleFail(
        ctx,
        `loop '${s.loopVar.name}' inside it is bound to ${s.thread}; blockIdx loops must enclose threadIdx loops`,
      );
    }
  });
  return setKind(f, l, 'thread_binding', thread);
}

export function vectorize(f: PrimFunc, loop: PrimVar, ctx: PrimitiveContext): PrimFunc {
  const l = getLoop(f, loop, ctx);
  if (l.forKind === 'vectorized') return f;
  requireSerialFor(l, 'vectorized', ctx);
  if (l.extent.kind !== 'int')
    scheduleFail(ctx, `loop '${loop.name}' has a symbolic extent; a vectorized loop needs a constant one`);
  requireIndependent(f, l, 'vectorized', false, ctx);
  return setKind(f, l, 'vectorized');
}

export function parallel(f: PrimFunc, loop: PrimVar, ctx: PrimitiveContext): PrimFunc {
  const l = getLoop(f, loop, ctx);
  if (l.forKind === 'parallel') return f;
  requireSerialFor(l, 'parallel', ctx);
  requireIndependent(f, l, 'parallel', false, ctx);
  return setKind(f, l, 'parallel');
}

/**
 * Unrolling keeps the order of iterations, so any serial loop may be unrolled.
 * Lowering writes an unrolled loop out only while the copies of its body (its
 * unrolled inner loops' included) stay within a budget; `maxCopies` gives this
 * loop its own (annotation `max_copies`), for a register tile larger than the
 * default allows.
 */
export function unroll(f: PrimFunc, loop: PrimVar, ctx: PrimitiveContext, maxCopies?: number): PrimFunc {
  const l = getLoop(f, loop, ctx);
  if (maxCopies !== undefined && !(Number.isInteger(maxCopies) && maxCopies >= 1)) {
    scheduleFail(ctx, `max_copies must be a whole number >= 1, not ${maxCopies}`);
  }
  const annotations = maxCopies === undefined ? l.annotations : { ...l.annotations, [MAX_COPIES]: maxCopies };
  if (l.forKind === 'unrolled' && annotations === l.annotations) return f;
  if (l.forKind !== 'unrolled') requireSerialFor(l, 'unrolled', ctx);
  return withBody(f, replaceStmt(f.body, l, forLoop(l.loopVar, l.min, l.extent, l.body, { forKind: 'unrolled', annotations })));
}

/**
 * Whether `inner` may be bound to the axis `outer` is bound to: equal constant extents, and
 * its iterations write distinct elements (only spatial iterators), so that running them
 * once per thread — what the GPU does — computes what running them all in every thread does.
 */
function cooperative(f: PrimFunc, outer: For, inner: For): boolean {
  const a = analyzerAt(f, inner);
  const { blocks, loose } = blocksUnder(inner);
  return (
    a.proveEqual(outer.extent, inner.extent) &&
    blocks.length > 0 &&
    loose.length === 0 &&
    blocks.every((b) => !feedsReduce(b, inner.loopVar) && !b.block.init)
  );
}

function setKind(f: PrimFunc, l: For, forKind: ForKind, thread?: ThreadTag): PrimFunc {
  const next = forLoop(l.loopVar, l.min, l.extent, l.body, {
    forKind,
    ...(thread ? { thread } : {}),
    annotations: l.annotations,
  });
  return withBody(f, replaceStmt(f.body, l, next));
}

function requireSerialFor(l: For, what: string, ctx: PrimitiveContext): void {
  if (l.forKind !== 'serial')
    scheduleFail(ctx, `loop '${l.loopVar.name}' is ${describeKind(l)} already; only a serial loop can be ${what}`);
}

/**
 * The iterations of `l` must be independent: everything under it is in
 * blocks, and it drives only spatial iterators of them (reduce ones too when
 * `allowReduce`). A reduction block it does not drive at all would be
 * updated by every iteration at once, unless the loop runs once.
 */
function requireIndependent(f: PrimFunc, l: For, what: string, allowReduce: boolean, ctx: PrimitiveContext): void {
  const name = l.loopVar.name;
  const { blocks, loose } = blocksUnder(l.body);
  if (loose.length > 0) {
    scheduleFail(
      ctx,
      `${describeStmt(loose[0]!)} under loop '${name}' is not in a block with iterators; ` +
        `a loop can be ${what} only when blocks show its iterations are independent`,
    );
  }
  const runsOnce = analyzerAt(f, l).canProve(eq(l.extent, 1));
  for (const r of blocks) {
    const fed = itersFedBy(r, l.loopVar);
    if (!allowReduce && feedsReduce(r, l.loopVar)) {
      const iv = fed.find((x) => x.iterKind === 'reduce')!;
      scheduleFail(
        ctx,
        `loop '${name}' drives reduce iterator '${iv.var.name}' of block '${r.block.name}': its iterations accumulate into the same outputs, so it cannot be ${what}`,
      );
    }
    const isReduction = r.block.init !== undefined || r.block.iterVars.some((iv) => iv.iterKind === 'reduce');
    if (fed.length === 0 && isReduction && !runsOnce) {
      scheduleFail(
        ctx,
        `loop '${name}' drives no iterator of reduction block '${r.block.name}': every iteration would update the same outputs, so it cannot be ${what}`,
      );
    }
  }
}
