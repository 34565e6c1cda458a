/**
 * Substitution in statements, and copies of a statement with fresh
 * definitions: what unrolling, partitioning and other duplicating
 * transformations need, since every variable and allocated buffer of a
 * PrimFunc is defined once.
 */
import { mapPrimChildren, primVar, type PrimExpr, type PrimVar, substitute } from '../prim/expr.ts';
import type { Buffer } from './buffer.ts';
import { type Block, mapStmtChildren, type Stmt, type StmtMapper } from './stmt.ts';

/** `s` with every free occurrence of the mapped variables replaced (blocks' domains and regions included). */
export function substituteStmt(s: Stmt, map: ReadonlyMap<PrimVar, PrimExpr>): Stmt {
  if (map.size === 0) return s;
  const m: StmtMapper = { stmt: (x) => mapStmtChildren(x, m), expr: (e) => substitute(e, map) };
  return m.stmt(s);
}

/**
 * A copy of `s` in which every variable `s` defines (loops, lets, block
 * iterators) and every buffer it allocates is a new one, with `map` applied
 * to the free variables: the copy can stand next to the original.
 */
export function copyWithFreshDefs(s: Stmt, map: ReadonlyMap<PrimVar, PrimExpr> = new Map()): Stmt {
  return new FreshCopier(map).stmt(s);
}

class FreshCopier {
  private readonly vars: Map<PrimVar, PrimExpr>;
  private readonly buffers = new Map<Buffer, Buffer>();

  constructor(map: ReadonlyMap<PrimVar, PrimExpr>) {
    this.vars = new Map(map);
  }

  private define(v: PrimVar): PrimVar {
    const fresh = primVar(v.name, v.dtype);
    this.vars.set(v, fresh);
    return fresh;
  }

  private buffer(b: Buffer): Buffer {
    return this.buffers.get(b) ?? b;
  }

  readonly expr = (e: PrimExpr): PrimExpr => {
    if (e.kind === 'var') return this.vars.get(e) ?? e;
    const x = mapPrimChildren(e, this.expr);
    if (x.kind === 'load') {
      const b = this.buffers.get(x.buffer);
      if (b) return { ...x, buffer: b };
    }
    return x;
  };

  readonly stmt = (s: Stmt): Stmt => {
    const m: StmtMapper = { stmt: this.stmt, expr: this.expr };
    switch (s.kind) {
      case 'for': {
        const min = this.expr(s.min);
        const extent = this.expr(s.extent);
        return { ...s, min, extent, loopVar: this.define(s.loopVar), body: this.stmt(s.body) };
      }
      case 'let': {
        const value = this.expr(s.value);
        return { ...s, value, var: this.define(s.var), body: this.stmt(s.body) };
      }
      case 'allocate': {
        const old = s.buffer;
        const b: Buffer = { ...old, shape: old.shape.map(this.expr), strides: old.strides.map(this.expr) };
        this.buffers.set(old, b);
        return { ...s, buffer: b, body: this.stmt(s.body) };
      }
      case 'block_realize': {
        const iterValues = s.iterValues.map(this.expr);
        const predicate = this.expr(s.predicate);
        const iterVars = s.block.iterVars.map((iv) => ({
          ...iv,
          dom: { min: this.expr(iv.dom.min), extent: this.expr(iv.dom.extent) },
          var: this.define(iv.var),
        }));
        const region = (r: Block['reads'][number]): Block['reads'][number] => ({
          buffer: this.buffer(r.buffer),
          region: r.region.map((x) => ({ min: this.expr(x.min), extent: this.expr(x.extent) })),
        });
        const blk: Block = {
          ...s.block,
          iterVars,
          reads: s.block.reads.map(region),
          writes: s.block.writes.map(region),
          ...(s.block.init ? { init: this.stmt(s.block.init) } : {}),
          body: this.stmt(s.block.body),
        };
        return { ...s, iterValues, predicate, block: blk };
      }
      case 'store': {
        const indices = s.indices.map(this.expr);
        return { ...s, buffer: this.buffer(s.buffer), indices, value: this.expr(s.value) };
      }
      default:
        return mapStmtChildren(s, m);
    }
  };
}
