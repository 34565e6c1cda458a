/**
 * cross_thread_reduction: the GPU reduction. The threads of a workgroup (the
 * threadIdx loop) each reduce their share of the reduce loops into a local
 * accumulator, write it to workgroup memory, and halve the partial results in
 * a tree until thread 0 holds the total, which it stores to the output.
 *
 * Expected shape (what the default reduction rules build):
 *
 *   for bx in thread_binding(..., "blockIdx.x")        spatial, zero or more
 *     for tx in thread_binding(S, "threadIdx.x")       spatial, constant S, zero or more (GEMV)
 *       for ty in thread_binding(T, "threadIdx.y")     reduce, constant T
 *         for k in range(...)                          reduce, serial, zero or more
 *           block B(...) { init { Y[idx] = c }  Y[idx] = combine(Y[idx], value) }
 *
 * (Without spatial thread loops, as the reduction rule builds it, the reduce
 * loop is usually on threadIdx.x.) With spatial thread loops outside, each
 * of their threads reduces its own output: the workgroup buffer holds T
 * partial results per spatial thread, indexed by the reduce thread id and
 * then the spatial ones, so neighbouring spatial threads (threadIdx.x) touch
 * neighbouring words.
 *
 * combine is add, mul, max or min. Each thread's accumulator starts from the
 * init value when that is combine's identity or combine is idempotent (max,
 * min); otherwise from the identity, and the init value joins once, in the
 * final store. The block stays (without init) as the per-thread
 * accumulation, so its iterators and predicate keep their meaning; the new
 * statements around it use the loop variables directly.
 *
 * WGSL accepts a barrier only in uniform control flow, so every barrier is
 * emitted straight in the thread loop's body, never under an `if` on the
 * thread index; only the stores of each tree step are guarded.
 */
import { binary, call, eq, imm, lt, load, type PrimExpr, substitute, usesVar, visitPrim } from '../../ir/prim/expr.ts';
import { type Buffer, buffer } from '../../ir/tir/buffer.ts';
import {
  allocate,
  block,
  type Block,
  type BlockRealize,
  blockRealize,
  type BufferStore,
  evaluate,
  type For,
  ifThenElse,
  type PrimFunc,
  seq,
  type Stmt,
  store,
} from '../../ir/tir/stmt.ts';
import { atomKey } from '../../ir/arith/canonical.ts';
import { simplify } from '../../ir/arith/analyzer.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getBlockRealize, pathTo, replaceStmt, withBody } from '../tree.ts';
import { andPredicate, conjuncts, describeKind, describeStmt, feedsReduce, itersFedBy, mentionsAny } from './nest-utils.ts';

type CombineOp = 'add' | 'mul' | 'max' | 'min';
const COMBINE_OPS: readonly string[] = ['add', 'mul', 'max', 'min'];

/** A block `Y[idx] = combine(Y[idx], value)` (possibly under ifs) with init `Y[idx] = initValue`. */
interface Reduction {
  readonly out: Buffer;
  readonly indices: readonly PrimExpr[];
  readonly op: CombineOp;
  readonly initValue: PrimExpr;
  /** The store `Y[idx] = combine(...)` in the body. */
  readonly update: BufferStore;
  /** What is combined into Y[idx]. */
  readonly value: PrimExpr;
  /** Whether Y[idx] is combine's left operand (kept, so the accumulation reads as written). */
  readonly accFirst: boolean;
}

export function crossThreadReduction(f: PrimFunc, blockName: string, ctx: PrimitiveContext): PrimFunc {
  const realize = getBlockRealize(f, blockName, ctx);
  const b = realize.block;
  if (!b.init) scheduleFail(ctx, `block '${blockName}' has no init; only a reduction block can be reduced across threads`);
  const path = pathTo(f.body, realize) ?? [];
  const at = path.findIndex((s) => s.kind === 'for' && s.forKind === 'thread_binding' && s.thread?.startsWith('threadIdx'));
  if (at < 0) {
    scheduleFail(
      ctx,
      `no loop around block '${blockName}' is bound to a threadIdx axis; bind its outermost reduce loop to threadIdx.x first`,
    );
  }
  // Spatial threadIdx loops may come first: the reduce thread loop is the first one driving a reduce iterator.
  let reduceAt = at;
  while (
    isThreadLoop(path[reduceAt]) &&
    !feedsReduce(realize, (path[reduceAt] as For).loopVar) &&
    isThreadLoop(path[reduceAt + 1])
  ) {
    reduceAt++;
  }
  const tl = path[reduceAt] as For;
  const spatialThreads = path.slice(at, reduceAt) as For[];
  checkThreadLoop(realize, tl, ctx);
  for (const s of path.slice(0, at)) checkOuter(realize, s, ctx);
  const tags = new Map<string, string>();
  for (const s of [...spatialThreads, tl]) {
    const other = tags.get(s.thread!);
    if (other) {
      scheduleFail(
        ctx,
        `loops '${other}' and '${s.loopVar.name}' are both bound to ${s.thread}; each thread loop of a cross-thread reduction needs an axis of its own`,
      );
    }
    tags.set(s.thread!, s.loopVar.name);
  }
  for (const s of spatialThreads) checkSpatialThread(realize, s, ctx);
  const inner = innerLoops(realize, tl, ctx);
  const red = matchReduction(b, ctx);
  const spatial = new Map(b.iterVars.flatMap((iv, i) => (iv.iterKind === 'spatial' ? [[iv.var, realize.iterValues[i]!]] : [])));
  const outGuard = outputGuard(realize, tl, inner, path.slice(0, reduceAt), ctx);
  const T = (tl.extent as { value: number }).value;
  const dtype = red.out.dtype;
  const local = buffer(`${red.out.name}_local`, [1], dtype, { scope: 'local' });
  const rows = spatialThreads.map((l) => l.extent);
  const shared = buffer(`${red.out.name}_shared`, [T, ...rows], dtype, { scope: 'shared' });
  const row = spatialThreads.map((l) => l.loopVar);
  const acc = load(local, [0]);
  const combine = (x: PrimExpr, y: PrimExpr): PrimExpr => binary(red.op, x, y);
  const initValue = substitute(red.initValue, spatial);
  // Every thread starts from the init value: fine when it is the identity or combine is idempotent (max, min).
  const seedIsInit = red.op === 'max' || red.op === 'min' || isIdentity(red.op, initValue);
  const seed = seedIsInit ? initValue : imm(red.op === 'add' ? 0 : 1, dtype);
  const total = load(shared, [0, ...row]);
  const result = seedIsInit ? total : combine(initValue, total);
  const accumulate = store(local, [0], red.accFirst ? combine(acc, red.value) : combine(red.value, acc));
  const updated = blockRealize(
    realize.iterValues,
    withoutInit(b, replaceStmt(b.body, red.update, accumulate)),
    realize.predicate,
  );
  const body = seq([
    store(local, [0], seed),
    replaceStmt(tl.body, realize, updated),
    store(shared, [tl.loopVar, ...row], acc),
    barrier(),
    ...treeSteps(shared, row, tl, T, combine),
    ifThenElse(
      outGuard,
      store(
        red.out,
        red.indices.map((i) => substitute(i, spatial)),
        result,
      ),
    ),
  ]);
  const next: For = { ...tl, body: allocate(shared, allocate(local, body)) };
  return withBody(f, replaceStmt(f.body, tl, next));
}

/**
 * When thread 0 stores the result: also only inside the bounds of a
 * non-dividing split of a spatial loop (the predicate's conditions on the
 * workgroup loops). Conditions on the reduce loops stay on the accumulation.
 */
function outputGuard(
  realize: BlockRealize,
  tl: For,
  inner: readonly For[],
  outer: readonly Stmt[],
  ctx: PrimitiveContext,
): PrimExpr {
  const reduceLoops = new Set([tl.loopVar, ...inner.map((l) => l.loopVar)]);
  const outerLoops = new Set(outer.flatMap((s) => (s.kind === 'for' ? [s.loopVar] : [])));
  let guard: PrimExpr = eq(tl.loopVar, 0);
  for (const c of conjuncts(realize.predicate)) {
    if (!mentionsAny(c, reduceLoops)) guard = andPredicate(guard, c);
    else if (mentionsAny(c, outerLoops)) {
      scheduleFail(ctx, `the predicate of block '${realize.block.name}' mixes spatial and reduce loops in one condition`);
    }
  }
  return guard;
}

/**
 * The halving steps over `shared[0:T, row]` (each spatial thread's own
 * partial results): first the part above the largest power of two P <= T
 * folds onto the front, then P halves down to 1. A barrier follows each step
 * but the last, which thread 0 alone reads.
 */
function treeSteps(
  shared: Buffer,
  row: readonly PrimExpr[],
  tl: For,
  T: number,
  combine: (x: PrimExpr, y: PrimExpr) => PrimExpr,
): Stmt[] {
  const tx = tl.loopVar;
  const at = (i: PrimExpr): PrimExpr[] => [i, ...row];
  const step = (count: number, offset: number): Stmt =>
    ifThenElse(lt(tx, count), store(shared, at(tx), combine(load(shared, at(tx)), load(shared, at(binary('add', tx, offset))))));
  const P = 2 ** Math.floor(Math.log2(T));
  const out: Stmt[] = [];
  if (T > P) out.push(step(T - P, P), barrier());
  for (let stride = P / 2; stride >= 1; stride /= 2) out.push(step(stride, stride), ...(stride > 1 ? [barrier()] : []));
  return out;
}

function barrier(): Stmt {
  return evaluate(call('workgroup_barrier', []));
}

function checkThreadLoop(realize: BlockRealize, tl: For, ctx: PrimitiveContext): void {
  const name = tl.loopVar.name;
  // One thread reduces everything itself; more threads that share no reduce iterator would each count it all.
  const once = tl.extent.kind === 'int' && tl.extent.value === 1;
  if (!feedsReduce(realize, tl.loopVar) && !once) {
    scheduleFail(ctx, `loop '${name}' (bound to ${tl.thread}) drives no reduce iterator of block '${realize.block.name}'`);
  }
  const sp = itersFedBy(realize, tl.loopVar).find((iv) => iv.iterKind === 'spatial');
  if (sp) scheduleFail(ctx, `loop '${name}' (bound to ${tl.thread}) also drives spatial iterator '${sp.var.name}'`);
  if (tl.extent.kind !== 'int' || tl.extent.value < 1 || !(tl.min.kind === 'int' && tl.min.value === 0)) {
    scheduleFail(ctx, `loop '${name}' (bound to ${tl.thread}) needs range(T) with a constant T: it sizes the workgroup memory`);
  }
}

function isThreadLoop(s: Stmt | undefined): s is For {
  return s?.kind === 'for' && s.forKind === 'thread_binding' && !!s.thread?.startsWith('threadIdx');
}

/** A threadIdx loop outside the reduce one: over spatial iterators (each thread its own output), with a constant extent. */
function checkSpatialThread(realize: BlockRealize, s: For, ctx: PrimitiveContext): void {
  const name = s.loopVar.name;
  const once = s.extent.kind === 'int' && s.extent.value === 1;
  if (!once && !itersFedBy(realize, s.loopVar).some((iv) => iv.iterKind === 'spatial')) {
    scheduleFail(
      ctx,
      `loop '${name}' (bound to ${s.thread}) drives no iterator of block '${realize.block.name}'; its threads would all compute the same output`,
    );
  }
  if (s.extent.kind !== 'int' || !(s.min.kind === 'int' && s.min.value === 0)) {
    scheduleFail(ctx, `loop '${name}' (bound to ${s.thread}) needs range(S) with a constant S: it sizes the workgroup memory`);
  }
}

/** Outside the thread loop: only workgroup loops over spatial iterators, and nothing that makes control flow non-uniform. */
function checkOuter(realize: BlockRealize, s: Stmt, ctx: PrimitiveContext): void {
  if (s.kind === 'for') {
    const name = s.loopVar.name;
    if (s.forKind !== 'thread_binding' || !s.thread?.startsWith('blockIdx')) {
      scheduleFail(ctx, `loop '${name}' around the thread loop is ${describeKind(s)}; only blockIdx loops may enclose it`);
    }
    if (feedsReduce(realize, s.loopVar)) {
      scheduleFail(
        ctx,
        `loop '${name}' (bound to ${s.thread}) drives a reduce iterator; all reduce loops must be at or inside the thread loop`,
      );
    }
  } else if (s.kind === 'if' || s.kind === 'block_realize') {
    scheduleFail(ctx, `${describeStmt(s)} encloses the thread loop; its barriers need uniform control flow`);
  }
}

/** The serial reduce loops from the thread loop's body down to the block, each the whole body of the one above. */
function innerLoops(realize: BlockRealize, tl: For, ctx: PrimitiveContext): For[] {
  const out: For[] = [];
  for (let s = tl.body; s !== realize; s = s.body) {
    if (s.kind !== 'for') {
      scheduleFail(
        ctx,
        `${describeStmt(s)} is between the thread loop '${tl.loopVar.name}' and block '${realize.block.name}'; only its serial reduce loops may be`,
      );
    }
    if (s.forKind !== 'serial' && s.forKind !== 'unrolled')
      scheduleFail(ctx, `loop '${s.loopVar.name}' inside the thread loop is ${describeKind(s)}; it must be serial or unrolled`);
    const sp = itersFedBy(realize, s.loopVar).find((iv) => iv.iterKind === 'spatial');
    if (sp) {
      scheduleFail(
        ctx,
        `loop '${s.loopVar.name}' inside the thread loop drives spatial iterator '${sp.var.name}'; each thread must reduce into one output`,
      );
    }
    out.push(s);
  }
  return out;
}

function matchReduction(b: Block, ctx: PrimitiveContext): Reduction {
  const init = b.init!;
  if (init.kind !== 'store') scheduleFail(ctx, `the init of block '${b.name}' must be one store, found ${describeStmt(init)}`);
  const out = init.buffer;
  const indices = init.indices;
  const reads = (e: PrimExpr): boolean => readsBuffer(e, out);
  if (reads(init.value)) scheduleFail(ctx, `the init of block '${b.name}' reads '${out.name}'`);
  let s: Stmt = b.body;
  while (s.kind === 'if' && !s.else) {
    if (reads(s.cond)) scheduleFail(ctx, `a condition in block '${b.name}' reads '${out.name}'`);
    s = s.then;
  }
  const shape = `${out.name}[...] = combine(${out.name}[...], value), possibly under ifs`;
  if (s.kind !== 'store') scheduleFail(ctx, `the body of block '${b.name}' must be ${shape}; found ${describeStmt(s)}`);
  const sameIdx = (xs: readonly PrimExpr[]): boolean =>
    xs.length === indices.length && xs.every((x, i) => atomKey(x) === atomKey(indices[i]!));
  if (s.buffer !== out || !sameIdx(s.indices)) {
    scheduleFail(
      ctx,
      `block '${b.name}' updates ${s.buffer.name}[...] but its init writes ${out.name}[...] (it must be the same element)`,
    );
  }
  const v = s.value;
  const isAcc = (e: PrimExpr): boolean => e.kind === 'load' && e.buffer === out && sameIdx(e.indices);
  if (v.kind !== 'binary' || !COMBINE_OPS.includes(v.op) || (!isAcc(v.a) && !isAcc(v.b))) {
    scheduleFail(ctx, `the body of block '${b.name}' must be ${shape}, with combine one of ${COMBINE_OPS.join(', ')}`);
  }
  const accFirst = isAcc(v.a);
  const value = accFirst ? v.b : v.a;
  if (reads(value)) scheduleFail(ctx, `block '${b.name}' reads '${out.name}' in the value it combines`);
  const reduceIter = b.iterVars.find(
    (iv) => iv.iterKind === 'reduce' && (indices.some((i) => usesVar(i, iv.var)) || usesVar(init.value, iv.var)),
  );
  if (reduceIter) scheduleFail(ctx, `the output of block '${b.name}' depends on reduce iterator '${reduceIter.var.name}'`);
  return { out, indices, op: v.op as CombineOp, initValue: init.value, update: s, value, accFirst };
}

function readsBuffer(e: PrimExpr, buf: Buffer): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'load' && x.buffer === buf) found = true;
  });
  return found;
}

function isIdentity(op: CombineOp, value: PrimExpr): boolean {
  const v = simplify(value);
  const want = op === 'add' ? 0 : op === 'mul' ? 1 : undefined;
  return want !== undefined && (v.kind === 'int' || v.kind === 'float') && v.value === want;
}

function withoutInit(b: Block, body: Stmt): Block {
  return block({ name: b.name, iterVars: b.iterVars, reads: b.reads, writes: b.writes, body, annotations: b.annotations });
}
