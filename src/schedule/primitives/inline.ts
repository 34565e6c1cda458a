/**
 * compute_inline and reverse_compute_inline: fold an elementwise block into
 * the blocks next to it, so the intermediate buffer between them disappears.
 *
 * compute_inline replaces every load of the producer's buffer by the stored
 * expression (its iterators taken from the load's indices); reverse
 * compute_inline makes the producer store the consumer's result directly,
 * which needs the consumer's iterators recovered from the producer's indices.
 * Both refuse whenever a read could see another value than before: another
 * writer of the buffer, or a block in between writing what the moved
 * expression reads.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import { atomKey } from '../../ir/arith/canonical.ts';
import {
  add,
  castIfNeeded,
  ge,
  le,
  mapPrimChildren,
  type PrimExpr,
  type PrimVar,
  primVars,
  sub,
  substitute,
  visitPrim,
} from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import { type BlockRealize, mapStmtChildren, type PrimFunc, type Stmt, type StmtMapper, store } from '../../ir/tir/stmt.ts';
import { type PrimitiveContext, scheduleFail } from '../errors.ts';
import { getBlockRealize, replaceStmt, withBody } from '../tree.ts';
import {
  accessOf,
  type BlockAccess,
  blockAccesses,
  loadedBuffers,
  requireNoLooseAccess,
  requireOutermost,
  sharedLoop,
} from './deps-blocks.ts';
import { elementwiseStore, requireIntermediate, requireSoleWriter, requireVisible } from './deps-elementwise.ts';
import { removeAllocation, removeStmt } from './deps-tree.ts';

/** Inlines the elementwise producer `block` into every block that reads its buffer. */
export function computeInline(f: PrimFunc, blockName: string, ctx: PrimitiveContext): PrimFunc {
  const realize = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, realize, ctx);
  const { store: st, dimOf } = elementwiseStore(f, realize, 'inlined', ctx);
  const buf = st.buffer;
  requireIntermediate(f, buf, blockName, ctx);
  if (loadedBuffers(st.value).has(buf)) scheduleFail(ctx, `block '${blockName}' reads '${buf.name}', the buffer it writes`);
  requireNoLooseAccess(f.body, buf, ctx);
  const all = blockAccesses(f.body);
  const me = accessOf(all, realize);
  requireSoleWriter(all, me, buf, ctx);
  const consumers = all.filter((x) => x !== me && x.reads.has(buf));
  const early = consumers.find((x) => x.order < me.order);
  if (early) scheduleFail(ctx, `block '${early.realize.block.name}' reads '${buf.name}' before block '${blockName}' writes it`);
  // The stored expression will be evaluated where each consumer reads: its inputs must not change in between.
  const inputs = loadedBuffers(st.value);
  const last = Math.max(me.order, ...consumers.map((x) => x.order));
  for (const x of all) {
    if (x.order <= me.order || x.order > last) continue;
    const hit = [...x.writes].find((b) => inputs.has(b));
    if (hit) {
      scheduleFail(
        ctx,
        `block '${x.realize.block.name}' writes '${hit.name}' after block '${blockName}' reads it and before a consumer reads '${buf.name}'; inlined, the consumer would read the new value`,
      );
    }
  }
  // Across iterations of a loop it shares with them, a writer of the inputs also runs between the two.
  for (const x of all) {
    const hit = [...x.writes].find((b) => inputs.has(b));
    if (x === me || !hit) continue;
    for (const y of [me, ...consumers]) {
      const l = sharedLoop(f.body, x.realize, y.realize);
      if (l) {
        scheduleFail(
          ctx,
          `block '${x.realize.block.name}' writes '${hit.name}', which block '${blockName}' reads, inside loop '${l.loopVar.name}' around block '${y.realize.block.name}' too; inlined, a consumer could read a later value`,
        );
      }
    }
  }
  for (const x of consumers) {
    for (const b of inputs) requireVisible(f, b, x.realize, blockName, ctx);
  }
  const iters = realize.block.iterVars;
  const inlineLoad = (indices: readonly PrimExpr[]): PrimExpr =>
    substitute(st.value, new Map(iters.map((iv) => [iv.var, castIfNeeded(iv.var.dtype, indices[dimOf.get(iv.var)!]!)])));
  let body = removeStmt(f.body, realize);
  body = replaceLoads(body, buf, inlineLoad);
  return withBody(f, removeAllocation(body, buf));
}

/** Folds the elementwise consumer `block` into the block producing the one buffer it reads. */
export function reverseComputeInline(f: PrimFunc, blockName: string, ctx: PrimitiveContext): PrimFunc {
  const consumer = getBlockRealize(f, blockName, ctx);
  requireOutermost(f, consumer, ctx);
  const { store: cst } = elementwiseStore(f, consumer, 'inlined', ctx, { requireIndexedByAll: false });
  if (!(consumer.predicate.kind === 'bool' && consumer.predicate.value)) {
    scheduleFail(ctx, `block '${blockName}' has a predicate; reverse_compute_inline needs a block that covers its whole domain`);
  }
  const all = blockAccesses(f.body);
  const me = accessOf(all, consumer);
  const read = new Set<Buffer>();
  for (const e of [cst.value, ...cst.indices]) loadedBuffers(e, read);
  const produced = [...read].filter((b) => all.some((x) => x !== me && x.writes.has(b)));
  if (produced.length !== 1) {
    scheduleFail(
      ctx,
      produced.length === 0
        ? `block '${blockName}' reads no buffer that another block writes; there is no producer to fold it into`
        : `block '${blockName}' reads ${produced.length} buffers other blocks write (${produced.map((b) => `'${b.name}'`).join(', ')}); reverse_compute_inline needs exactly one`,
    );
  }
  const buf = produced[0]!;
  const out = cst.buffer;
  if (out === buf) scheduleFail(ctx, `block '${blockName}' reads and writes '${buf.name}'`);
  requireIntermediate(f, buf, blockName, ctx);
  requireNoLooseAccess(f.body, buf, ctx);
  const writers = all.filter((x) => x !== me && x.writes.has(buf));
  if (writers.length > 1) {
    scheduleFail(
      ctx,
      `'${buf.name}' is written by ${writers.length} blocks (${writers.map((x) => `'${x.realize.block.name}'`).join(', ')}); reverse_compute_inline needs a single producer`,
    );
  }
  const producer = writers[0]!;
  const pname = producer.realize.block.name;
  if (producer.order > me.order) scheduleFail(ctx, `block '${blockName}' reads '${buf.name}' before block '${pname}' writes it`);
  const otherReader = all.find((x) => x !== me && x !== producer && x.reads.has(buf));
  if (otherReader) {
    scheduleFail(
      ctx,
      `block '${otherReader.realize.block.name}' also reads '${buf.name}'; after reverse_compute_inline nothing would write it`,
    );
  }
  const { store: pst, dimOf } = elementwiseStore(f, producer.realize, 'the producer', ctx);
  const loads = loadsOf(cst.value, buf);
  if (loads.length === 0) scheduleFail(ctx, `block '${blockName}' reads '${buf.name}' only in its store indices`);
  const bidx = loads[0]!.indices;
  if (loads.some((l) => l.indices.some((ix, d) => atomKey(ix) !== atomKey(bidx[d]!)))) {
    scheduleFail(ctx, `block '${blockName}' reads '${buf.name}' at different indices; each must be the same element`);
  }
  const inverse = invertIndices(consumer, bidx, buf, ctx);
  checkCovers(f, producer.realize, dimOf, consumer, inverse, buf, ctx);
  requireNothingBetween(all, producer, me, out, read, buf, ctx);
  requireNoSharedHazard(f, all, producer, me, out, read, buf, ctx);
  if (loadedBuffers(pst.value).has(out))
    scheduleFail(ctx, `block '${pname}' reads '${out.name}', which block '${blockName}' writes`);
  requireVisible(f, out, producer.realize, blockName, ctx);
  for (const b of read) if (b !== buf) requireVisible(f, b, producer.realize, blockName, ctx);
  // The consumer's iterators, in terms of the producer's: iterator u at dimension d is the producer's index there minus the offset.
  const a = new Analyzer();
  const map = new Map<PrimVar, PrimExpr>();
  inverse.forEach((m, d) => {
    if (m.iter) map.set(m.iter, castIfNeeded(m.iter.dtype, a.simplify(sub(pst.indices[d]!, m.offset))));
  });
  for (const iv of consumer.block.iterVars) if (!map.has(iv.var) && isUnit(iv.dom.extent)) map.set(iv.var, iv.dom.min);
  const value = substitute(
    replaceLoadsInExpr(cst.value, buf, () => pst.value),
    map,
  );
  const indices = cst.indices.map((ix) => a.simplify(substitute(ix, map)));
  const newProducer: BlockRealize = {
    ...producer.realize,
    block: { ...producer.realize.block, body: store(out, indices, value) },
  };
  let body = replaceStmt(f.body, producer.realize, newProducer);
  body = removeStmt(body, consumer);
  return withBody(f, removeAllocation(body, buf));
}

interface DimInverse {
  /** The consumer iterator indexing this dimension of the produced buffer, if any. */
  readonly iter?: PrimVar;
  /** The index minus the iterator: free of the consumer's iterators. */
  readonly offset: PrimExpr;
}

/**
 * Reads `bidx` as one consumer iterator plus an offset per dimension (or an
 * offset alone), each iterator once: the map from the consumer's iterators to
 * the elements it reads is then invertible.
 */
function invertIndices(consumer: BlockRealize, bidx: readonly PrimExpr[], buf: Buffer, ctx: PrimitiveContext): DimInverse[] {
  const name = consumer.block.name;
  const iters = new Set(consumer.block.iterVars.map((iv) => iv.var));
  const a = new Analyzer();
  const used = new Set<PrimVar>();
  const out = bidx.map((ix, d): DimInverse => {
    const vs = [...primVars(ix)].filter((v) => iters.has(v));
    if (vs.length === 0) return { offset: ix };
    const u = vs[0]!;
    const offset = a.simplify(sub(ix, castIfNeeded(ix.dtype, u)));
    if (vs.length > 1 || [...primVars(offset)].some((v) => iters.has(v)) || used.has(u)) {
      scheduleFail(
        ctx,
        `block '${name}' reads '${buf.name}' at index ${printPrimExpr(ix)} (dimension ${d}); reverse_compute_inline needs each index to be a distinct iterator plus an offset, so the mapping can be inverted`,
      );
    }
    used.add(u);
    return { iter: u, offset };
  });
  // An iterator over one value (a batch of 1) need not index: its single element is the one read.
  const missing = consumer.block.iterVars.find((iv) => !used.has(iv.var) && !isUnit(iv.dom.extent));
  if (missing) {
    scheduleFail(
      ctx,
      `iterator '${missing.var.name}' of block '${name}' does not index '${buf.name}': one element of it feeds several outputs, so the mapping cannot be inverted`,
    );
  }
  return out;
}

/** Fails unless every element the producer writes is one the consumer reads (else the producer would write outputs the consumer never wrote). */
function checkCovers(
  f: PrimFunc,
  producer: BlockRealize,
  dimOf: ReadonlyMap<PrimVar, number>,
  consumer: BlockRealize,
  inverse: readonly DimInverse[],
  buf: Buffer,
  ctx: PrimitiveContext,
): void {
  const a = new Analyzer();
  for (const p of f.params) if (p.kind === 'buffer') for (const e of p.shape) for (const v of primVars(e)) a.bindNonNegative(v);
  const pdom = new Map(producer.block.iterVars.map((iv) => [dimOf.get(iv.var)!, iv.dom]));
  const cdom = new Map(consumer.block.iterVars.map((iv) => [iv.var, iv.dom]));
  inverse.forEach((m, d) => {
    const p = pdom.get(d)!;
    const t = p.min.dtype;
    // The consumer reads [min + offset, min + offset + extent) of this dimension, or the one element `offset`.
    const c = m.iter ? cdom.get(m.iter)! : undefined;
    const lo = c ? add(castIfNeeded(t, c.min), castIfNeeded(t, m.offset)) : castIfNeeded(t, m.offset);
    const hi = c ? add(lo, castIfNeeded(t, c.extent)) : add(lo, 1);
    if (!(a.canProve(ge(p.min, lo)) && a.canProve(le(add(p.min, p.extent), hi)))) {
      scheduleFail(
        ctx,
        `block '${producer.block.name}' writes elements of '${buf.name}' (dimension ${d}) that block '${consumer.block.name}' does not read; the folded producer would write outputs the consumer never wrote`,
      );
    }
  });
}

/** Fails when a block between producer and consumer touches the consumer's output or writes what it reads. */
function requireNothingBetween(
  all: readonly BlockAccess[],
  producer: BlockAccess,
  consumer: BlockAccess,
  out: Buffer,
  reads: ReadonlySet<Buffer>,
  buf: Buffer,
  ctx: PrimitiveContext,
): void {
  for (const x of all) {
    if (x.order <= producer.order || x.order >= consumer.order) continue;
    const name = x.realize.block.name;
    if (x.reads.has(out) || x.writes.has(out)) {
      scheduleFail(
        ctx,
        `block '${name}', between the producer and block '${consumer.realize.block.name}', accesses '${out.name}', which would be written earlier`,
      );
    }
    const hit = [...x.writes].find((b) => b !== buf && reads.has(b));
    if (hit) {
      scheduleFail(
        ctx,
        `block '${name}', between the producer and block '${consumer.realize.block.name}', writes '${hit.name}', which would be read earlier`,
      );
    }
  }
}

/**
 * Fails when a block touching the consumer's output, or writing what it
 * reads, shares a loop with the producer or the consumer: across iterations
 * it also runs between them.
 */
function requireNoSharedHazard(
  f: PrimFunc,
  all: readonly BlockAccess[],
  producer: BlockAccess,
  consumer: BlockAccess,
  out: Buffer,
  reads: ReadonlySet<Buffer>,
  buf: Buffer,
  ctx: PrimitiveContext,
): void {
  for (const x of all) {
    if (x === producer || x === consumer) continue;
    const touches = x.reads.has(out) || x.writes.has(out) || [...x.writes].some((b) => b !== buf && reads.has(b));
    if (!touches) continue;
    for (const y of [producer, consumer]) {
      const l = sharedLoop(f.body, x.realize, y.realize);
      if (l) {
        scheduleFail(
          ctx,
          `block '${x.realize.block.name}' shares loop '${l.loopVar.name}' with block '${y.realize.block.name}' and accesses what block '${consumer.realize.block.name}' reads or writes; folded, the order between them would change`,
        );
      }
    }
  }
}

function loadsOf(e: PrimExpr, b: Buffer): Extract<PrimExpr, { kind: 'load' }>[] {
  const out: Extract<PrimExpr, { kind: 'load' }>[] = [];
  visitPrim(e, (x) => {
    if (x.kind === 'load' && x.buffer === b) out.push(x);
  });
  return out;
}

function replaceLoadsInExpr(e: PrimExpr, b: Buffer, by: (indices: readonly PrimExpr[]) => PrimExpr): PrimExpr {
  const go = (x: PrimExpr): PrimExpr => {
    const y = mapPrimChildren(x, go);
    return y.kind === 'load' && y.buffer === b ? by(y.indices) : y;
  };
  return go(e);
}

/** `s` with every load of `b` replaced by `by(indices)`. */
function replaceLoads(s: Stmt, b: Buffer, by: (indices: readonly PrimExpr[]) => PrimExpr): Stmt {
  const m: StmtMapper = { stmt: (x) => mapStmtChildren(x, m), expr: (e) => replaceLoadsInExpr(e, b, by) };
  return m.stmt(s);
}

function isUnit(e: PrimExpr): boolean {
  return e.kind === 'int' && e.value === 1;
}
