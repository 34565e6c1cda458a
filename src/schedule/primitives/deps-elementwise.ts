/**
 * What inlining asks of the blocks involved: an elementwise block (complete,
 * spatial, one store whose indices are its iterators), an intermediate buffer
 * (allocated by the kernel, one writer), and buffers in scope where an
 * expression moves to.
 */
import { type PrimVar, primVars } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { BlockRealize, BufferStore, PrimFunc } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { pathTo } from '../tree.ts';
import { type BlockAccess, findAllocate, isParam } from './deps-blocks.ts';
import { describeStmt } from './nest-utils.ts';

/**
 * The single store of a complete spatial block, `B[v0, v1, ...] = expr` with
 * each index a distinct iterator (every iterator among them unless told
 * otherwise), and which dimension each iterator indexes.
 */
export function elementwiseStore(
  f: PrimFunc,
  realize: BlockRealize,
  role: string,
  ctx: PrimitiveContext,
  options: { requireIndexedByAll?: boolean } = {},
): { store: BufferStore; dimOf: Map<PrimVar, number> } {
  const b = realize.block;
  const name = b.name;
  const reduce = b.iterVars.find((iv) => iv.iterKind === 'reduce');
  if (b.init || reduce) {
    scheduleFail(
      ctx,
      `block '${name}' is a reduction (${b.init ? 'it has an init' : `iterator '${reduce!.var.name}' is reduce`}); only a complete spatial block can be ${role}`,
    );
  }
  if (b.body.kind !== 'store') scheduleFail(ctx, `the body of block '${name}' is ${describeStmt(b.body)}, not a single store`);
  const st = b.body;
  const iters = new Set(b.iterVars.map((iv) => iv.var));
  const dimOf = new Map<PrimVar, number>();
  st.indices.forEach((ix, d) => {
    if (options.requireIndexedByAll === false) return;
    if (ix.kind !== 'var' || !iters.has(ix) || dimOf.has(ix)) {
      scheduleFail(
        ctx,
        `block '${name}' stores to '${st.buffer.name}' at index ${printPrimExpr(ix)}; each index must be a distinct iterator of the block`,
      );
    }
    dimOf.set(ix, d);
  });
  if (options.requireIndexedByAll !== false) {
    const missing = b.iterVars.find((iv) => !dimOf.has(iv.var));
    if (missing) {
      scheduleFail(
        ctx,
        `iterator '${missing.var.name}' of block '${name}' does not index '${st.buffer.name}': the block stores to one element several times`,
      );
    }
  }
  const known = functionVars(f);
  for (const e of [st.value, ...st.indices]) {
    const stray = [...primVars(e)].find((v) => !iters.has(v) && !known.has(v));
    if (stray) scheduleFail(ctx, `block '${name}' uses '${stray.name}', which is neither its iterator nor a kernel parameter`);
  }
  return { store: st, dimOf };
}

/** Scalar parameters and the variables of buffer shapes: what is defined everywhere in the kernel. */
function functionVars(f: PrimFunc): Set<PrimVar> {
  const out = new Set<PrimVar>();
  for (const p of f.params) {
    if (p.kind === 'var') out.add(p);
    else for (const e of [...p.shape, ...p.strides]) primVars(e, out);
  }
  return out;
}

export function requireIntermediate(f: PrimFunc, b: Buffer, blockName: string, ctx: PrimitiveContext): void {
  if (isParam(f, b)) {
    scheduleFail(
      ctx,
      `'${b.name}' is a parameter of the kernel; only a buffer the kernel allocates can be inlined away (block '${blockName}')`,
    );
  }
  if (!findAllocate(f.body, b)) scheduleFail(ctx, `'${b.name}' is not allocated in the kernel`);
}

export function requireSoleWriter(all: readonly BlockAccess[], me: BlockAccess, b: Buffer, ctx: PrimitiveContext): void {
  const other = all.find((x) => x !== me && x.writes.has(b));
  if (other) {
    scheduleFail(ctx, `'${b.name}' is also written by block '${other.realize.block.name}'; inlining needs a single producer`);
  }
}

/** Fails unless buffer `b` (a parameter or an allocation) is in scope at `at`. */
export function requireVisible(f: PrimFunc, b: Buffer, at: BlockRealize, blockName: string, ctx: PrimitiveContext): void {
  if (isParam(f, b)) return;
  const path = pathTo(f.body, at) ?? [];
  if (!path.some((s) => s.kind === 'allocate' && s.buffer === b)) {
    scheduleFail(
      ctx,
      `'${b.name}' is not allocated around block '${at.block.name}', where block '${blockName}' would move its access`,
    );
  }
}
