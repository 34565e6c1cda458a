/**
 * Recognizing a reduction block's combiner (TVM's commutative reducers):
 * `B[idx] = B[idx] ⊕ rhs` with ⊕ one of +, *, max, min (either operand order,
 * possibly under one `if`), and an init storing the identity of ⊕ to the
 * same element. Primitives that split a reduction into partial ones (rfactor)
 * need the identity: each partial result starts from it.
 */
import { atomKey } from '../../ir/arith/canonical.ts';
import { intRange, isFloat, isInt } from '../../ir/dtype.ts';
import { floatImm, intImm, type PrimExpr, visitPrim } from '../../ir/prim/expr.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { Block, Stmt } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { describeStmt } from './nest-utils.ts';

export type CombineOp = 'add' | 'mul' | 'max' | 'min';

/** `B[idx] = B[idx] ⊕ rhs`, possibly under one `if`, with init `B[idx] = identity`. */
export interface Reducer {
  readonly buffer: Buffer;
  readonly indices: readonly PrimExpr[];
  readonly op: CombineOp;
  readonly identity: PrimExpr;
  readonly rhs: PrimExpr;
  readonly cond?: PrimExpr;
}

/** The reduction pattern of `b`, or a schedule error saying what does not fit. */
export function matchReducer(b: Block, ctx: PrimitiveContext): Reducer {
  const name = b.name;
  if (!b.init || !b.iterVars.some((iv) => iv.iterKind === 'reduce')) {
    scheduleFail(ctx, `block '${name}' is not a reduction (it needs an init and a reduce iterator)`);
  }
  if (b.init.kind !== 'store') scheduleFail(ctx, `the init of block '${name}' is ${describeStmt(b.init)}, not a single store`);
  let update: Stmt = b.body;
  let cond: PrimExpr | undefined;
  if (update.kind === 'if' && !update.else) {
    cond = update.cond;
    update = update.then;
  }
  if (update.kind !== 'store')
    scheduleFail(ctx, `the body of block '${name}' is ${describeStmt(b.body)}, not a reduction update`);
  const init = b.init;
  const same = (xs: readonly PrimExpr[]): boolean =>
    xs.length === update.indices.length && xs.every((x, i) => atomKey(x) === atomKey(update.indices[i]!));
  if (init.buffer !== update.buffer || !same(init.indices)) {
    scheduleFail(ctx, `the init of block '${name}' writes another element than its update`);
  }
  const v = update.value;
  const isAcc = (e: PrimExpr): boolean => e.kind === 'load' && e.buffer === update.buffer && same(e.indices);
  if (v.kind !== 'binary' || !['add', 'mul', 'max', 'min'].includes(v.op) || isAcc(v.a) === isAcc(v.b)) {
    scheduleFail(
      ctx,
      `block '${name}' updates '${update.buffer.name}' with ${printPrimExpr(v)}; rfactor recognizes ${update.buffer.name}[...] combined with a value by +, *, max or min`,
    );
  }
  const op = v.op as CombineOp;
  const rhs = isAcc(v.a) ? v.b : v.a;
  let readsOut = false;
  visitPrim(rhs, (x) => (readsOut ||= x.kind === 'load' && x.buffer === update.buffer));
  if (readsOut || (cond && primReads(cond, update.buffer))) {
    scheduleFail(ctx, `block '${name}' reads '${update.buffer.name}' other than as its accumulator`);
  }
  const identity = identityOf(op, update.buffer.dtype);
  if (!identity || atomKey(identity) !== atomKey(init.value)) {
    scheduleFail(
      ctx,
      `the init value ${printPrimExpr(init.value)} of block '${name}' is not the identity of ${op}${identity ? ` (${printPrimExpr(identity)})` : ''}; partial results would each start from it`,
    );
  }
  return { buffer: update.buffer, indices: update.indices, op, identity, rhs, ...(cond ? { cond } : {}) };
}

function primReads(e: PrimExpr, b: Buffer): boolean {
  let found = false;
  visitPrim(e, (x) => (found ||= x.kind === 'load' && x.buffer === b));
  return found;
}

function identityOf(op: CombineOp, dtype: Buffer['dtype']): PrimExpr | undefined {
  if (isFloat(dtype)) {
    const v = op === 'add' ? 0 : op === 'mul' ? 1 : op === 'max' ? -Infinity : Infinity;
    return floatImm(v, dtype);
  }
  if (!isInt(dtype)) return undefined;
  const r = intRange(dtype);
  return intImm(op === 'add' ? 0 : op === 'mul' ? 1 : op === 'max' ? r.min : r.max, dtype);
}
