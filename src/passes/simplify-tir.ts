/**
 * Simplification of PrimFuncs: every prim expression canonicalized by the
 * analyzer, with each loop variable bound to its range and each block
 * iterator to its domain while inside them, so that `i < n` inside
 * `for i in range(n)` is true and `(i*4 + j) // 4` is `i` when j < 4.
 *
 * Control flow folds with it: an `if` on a constant keeps its live branch, a
 * loop that runs no iteration goes, a loop of one iteration is replaced by
 * its body with the loop variable substituted (thread-bound loops stay: they
 * shape the launch), a block whose predicate is false goes, and loops, ifs,
 * lets and allocations left with an empty body go.
 */
import { Analyzer } from '../ir/arith/analyzer.ts';
import { isInt } from '../ir/dtype.ts';
import { le, mapArray, mapPrimChildren, type PrimExpr, type PrimVar, primVars, substitute, visitPrim } from '../ir/prim/expr.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import {
  allocate,
  type Block,
  type BlockRealize,
  blockRealize,
  type BufferRegion,
  evaluate,
  type For,
  ifThenElse,
  type IterVar,
  letStmt,
  type PrimFunc,
  primFunc,
  type Range,
  seq,
  type Stmt,
  store,
} from '../ir/tir/stmt.ts';

/** The empty statement: `seq` splices it away inside sequences. */
const NOP: Stmt = seq([]);

const isNop = (s: Stmt): boolean => s.kind === 'seq' && s.stmts.length === 0;

export interface SimplifyOptions {
  /**
   * Leave values computed from buffer elements as written, simplifying only
   * what indexes and controls (indices, bounds, conditions without loads).
   * Code generation wants this: a canonical form may hold intermediate
   * values the original never did (`max(x, c) == x` as `x - c == max(x - c, 0)`),
   * which overflow where a target computes int64 in 32 bits.
   */
  readonly keepDataExprs?: boolean;
}

export function simplifyPrimFunc(f: PrimFunc, options: SimplifyOptions = {}): PrimFunc {
  const s = new TirSimplifier(options.keepDataExprs ?? false);
  // Buffer shapes and strides are sizes: never negative. Scalar parameters may be anything.
  for (const p of f.params) {
    if (p.kind !== 'buffer') continue;
    for (const e of [...p.shape, ...p.strides]) for (const v of primVars(e)) if (isInt(v.dtype)) s.analyzer.bindNonNegative(v);
  }
  const body = s.stmt(f.body);
  return body === f.body ? f : primFunc(f.params, body, f.attrs);
}

class TirSimplifier {
  readonly analyzer = new Analyzer();

  constructor(private readonly keepDataExprs: boolean) {}

  /** Variables of the one-iteration loops being inlined → their value. */
  private readonly subst = new Map<PrimVar, PrimExpr>();
  /** Allocated buffers whose shape simplified → the buffer with the simpler shape. */
  private readonly buffers = new Map<Buffer, Buffer>();

  private expr(e: PrimExpr): PrimExpr {
    let x = this.subst.size > 0 ? substitute(e, this.subst) : e;
    if (this.buffers.size > 0) x = this.remapLoads(x);
    return this.keepDataExprs ? this.simplifyOutsideData(x) : this.analyzer.simplify(x);
  }

  /** Simplifies `e` unless it reads a buffer; then only its load-free parts and its loads' indices. */
  private simplifyOutsideData(e: PrimExpr): PrimExpr {
    if (!readsBuffer(e)) return this.analyzer.simplify(e);
    return mapPrimChildren(e, (c) => this.simplifyOutsideData(c));
  }

  private remapLoads(e: PrimExpr): PrimExpr {
    const x = mapPrimChildren(e, (c) => this.remapLoads(c));
    const b = x.kind === 'load' ? this.buffers.get(x.buffer) : undefined;
    return b && x.kind === 'load' ? { ...x, buffer: b } : x;
  }

  private buffer(b: Buffer): Buffer {
    return this.buffers.get(b) ?? b;
  }

  private range(r: Range): Range {
    const min = this.expr(r.min);
    const extent = this.expr(r.extent);
    return min === r.min && extent === r.extent ? r : { min, extent };
  }

  private region(r: BufferRegion): BufferRegion {
    const buffer = this.buffer(r.buffer);
    const region = mapArray(r.region, (x) => this.range(x));
    return buffer === r.buffer && region === r.region ? r : { buffer, region };
  }

  stmt(s: Stmt): Stmt {
    switch (s.kind) {
      case 'for':
        return this.forLoop(s);
      case 'block_realize':
        return this.realize(s);
      case 'store': {
        const buffer = this.buffer(s.buffer);
        const indices = mapArray(s.indices, (e) => this.expr(e));
        const value = this.expr(s.value);
        return buffer === s.buffer && indices === s.indices && value === s.value ? s : store(buffer, indices, value);
      }
      case 'allocate': {
        const old = s.buffer;
        const shape = mapArray(old.shape, (e) => this.expr(e));
        const strides = mapArray(old.strides, (e) => this.expr(e));
        const b = shape === old.shape && strides === old.strides ? old : { ...old, shape, strides };
        if (b !== old) this.buffers.set(old, b);
        const body = this.stmt(s.body);
        this.buffers.delete(old);
        if (isNop(body)) return NOP;
        return b === old && body === s.body ? s : allocate(b, body);
      }
      case 'if': {
        const cond = this.expr(s.cond);
        if (cond.kind === 'bool') return cond.value ? this.stmt(s.then) : s.else ? this.stmt(s.else) : NOP;
        const then = this.stmt(s.then);
        const otherwise = s.else && this.stmt(s.else);
        const keptElse = otherwise && !isNop(otherwise) ? otherwise : undefined;
        if (isNop(then) && !keptElse) return NOP;
        return cond === s.cond && then === s.then && keptElse === s.else ? s : ifThenElse(cond, then, keptElse);
      }
      case 'let': {
        const value = this.expr(s.value);
        // Constant bounds of the value narrow what the body can prove; the variable itself stays.
        const body = isInt(s.var.dtype)
          ? this.analyzer.withBinding(s.var, this.analyzer.constIntBound(value), () => this.stmt(s.body))
          : this.stmt(s.body);
        if (isNop(body)) return NOP;
        return value === s.value && body === s.body ? s : letStmt(s.var, value, body);
      }
      case 'seq': {
        const stmts = mapArray(s.stmts, (x) => this.stmt(x));
        return stmts === s.stmts ? s : seq(stmts);
      }
      case 'evaluate': {
        const value = this.expr(s.value);
        return value === s.value ? s : evaluate(value);
      }
    }
  }

  private forLoop(s: For): Stmt {
    const min = this.expr(s.min);
    const extent = this.expr(s.extent);
    if (this.analyzer.canProve(le(extent, 0))) return NOP;
    if (extent.kind === 'int' && extent.value === 1 && s.forKind !== 'thread_binding') {
      this.subst.set(s.loopVar, min);
      try {
        return this.stmt(s.body);
      } finally {
        this.subst.delete(s.loopVar);
      }
    }
    const body = this.analyzer.withBinding(s.loopVar, { min, extent }, () => this.stmt(s.body));
    if (isNop(body)) return NOP;
    return min === s.min && extent === s.extent && body === s.body ? s : { ...s, min, extent, body };
  }

  private realize(s: BlockRealize): Stmt {
    const iterValues = mapArray(s.iterValues, (e) => this.expr(e));
    const predicate = this.expr(s.predicate);
    if (predicate.kind === 'bool' && !predicate.value) return NOP;
    const b = this.block(s.block);
    return iterValues === s.iterValues && predicate === s.predicate && b === s.block ? s : blockRealize(iterValues, b, predicate);
  }

  private block(b: Block): Block {
    const iterVars = mapArray(b.iterVars, (iv) => {
      const dom = this.range(iv.dom);
      return dom === iv.dom ? iv : { ...iv, dom };
    });
    // Inside the block its iterators range over their domains.
    return this.withIterators(iterVars, 0, () => {
      const reads = mapArray(b.reads, (r) => this.region(r));
      const writes = mapArray(b.writes, (r) => this.region(r));
      const newInit = b.init && this.stmt(b.init);
      const init = newInit && !isNop(newInit) ? newInit : undefined;
      const body = this.stmt(b.body);
      if (iterVars === b.iterVars && reads === b.reads && writes === b.writes && init === b.init && body === b.body) return b;
      return { ...b, iterVars, reads, writes, ...(init ? { init } : {}), body };
    });
  }

  private withIterators<T>(ivs: readonly IterVar[], i: number, f: () => T): T {
    const iv = ivs[i];
    if (!iv) return f();
    return this.analyzer.withBinding(iv.var, iv.dom, () => this.withIterators(ivs, i + 1, f));
  }
}

function readsBuffer(e: PrimExpr): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x.kind === 'load') found = true;
  });
  return found;
}
