/**
 * Well-formedness of PrimFuncs: every variable and buffer defined where it is
 * used, each variable defined once, blocks that reach the loops around them
 * only through their iterators, types that agree.
 */
import { shortName } from '../dtype.ts';
import { type PrimExpr, type PrimVar, visitPrim } from '../prim/expr.ts';
import type { Buffer } from '../tir/buffer.ts';
import type { PrimFunc, Stmt } from '../tir/stmt.ts';
import { shapeProblems } from './dims.ts';

/** Where a problem is: in words, and the node whose place in the source (when parsed) a message can show. */
export interface Where {
  readonly text: string;
  readonly node?: object;
}

export type Report = (where: Where, problem: string) => void;

/** Where a statement is: its innermost block and its innermost loop inside that block. */
interface Context {
  readonly block?: string;
  readonly loop?: string;
}

export function verifyPrimFunc(name: string, f: PrimFunc, report: Report): void {
  /** A lowered function indexes every buffer with one flat element offset. */
  const flat = f.attrs.lowered === true;
  const rankOk = (b: Buffer, indices: readonly PrimExpr[]): boolean =>
    indices.length === b.shape.length || (flat && indices.length === 1);
  /** Variables in scope. */
  const vars = new Set<PrimVar>();
  /**
   * Every variable a loop, block iterator or let has defined so far. Each
   * needs its own (SSA): structural equality and the text format identify a
   * variable with the one place that defines it.
   */
  const defined = new Set<PrimVar>();
  /** Loop variables in scope, and those hidden by the block being checked (see block_realize). */
  let loopVars = new Set<PrimVar>();
  let hidden = new Set<PrimVar>();
  const buffers = new Set<Buffer>();
  const blockNames = new Set<string>();
  /** The statement being checked, for its place in the source. */
  let current: Stmt | undefined;
  const where = (ctx: Context): Where => ({
    text: [
      `prim_func '${name}'`,
      ...(ctx.block ? [`block '${ctx.block}'`] : []),
      ...(ctx.loop ? [`loop '${ctx.loop}'`] : []),
    ].join(', '),
    node: current ?? f,
  });

  const defineShapeVars = (exprs: readonly PrimExpr[]): void => {
    for (const e of exprs) {
      visitPrim(e, (x) => {
        if (x.kind === 'var') vars.add(x);
      });
    }
  };
  for (const p of f.params) {
    if (p.kind === 'buffer') {
      if (buffers.has(p)) report(where({}), `buffer '${p.name}' is a parameter twice`);
      for (const problem of shapeProblems(p.shape, `buffer '${p.name}'`)) report(where({}), problem);
      buffers.add(p);
      defineShapeVars(p.shape);
      defineShapeVars(p.strides);
    } else {
      if (defined.has(p)) report(where({}), `scalar '${p.name}' is a parameter twice`);
      defined.add(p);
      vars.add(p);
    }
  }

  const checkExpr = (e: PrimExpr, ctx: Context): void => {
    visitPrim(e, (x) => {
      if (x.kind === 'var' && hidden.has(x)) {
        report(
          where(ctx),
          `loop variable '${x.name}' is used inside a block; blocks see the loops around them only through their iterators`,
        );
      } else if (x.kind === 'var' && !vars.has(x)) {
        report(where(ctx), `variable '${x.name}' is used outside the scope that defines it`);
      }
      if (x.kind === 'load') {
        if (!buffers.has(x.buffer))
          report(where(ctx), `buffer '${x.buffer.name}' is read but not declared (a parameter or an alloc)`);
        if (!rankOk(x.buffer, x.indices)) {
          report(
            where(ctx),
            `buffer '${x.buffer.name}' has ${x.buffer.shape.length} dimensions but is read with ${x.indices.length} indices`,
          );
        }
      }
    });
  };

  /** Brings `v` into scope for `body`. */
  const define = (v: PrimVar, ctx: Context): void => {
    if (defined.has(v) || vars.has(v))
      report(where(ctx), `variable '${v.name}' is defined twice (every loop, iterator and let needs a variable of its own)`);
    defined.add(v);
    vars.add(v);
  };

  const walk = (s: Stmt, ctx: Context): void => {
    current = s;
    switch (s.kind) {
      case 'for': {
        const here = { ...ctx, loop: s.loopVar.name };
        checkExpr(s.min, here);
        checkExpr(s.extent, here);
        if ((s.forKind === 'thread_binding') !== (s.thread !== undefined)) {
          report(where(here), 'a thread tag is given exactly for thread_binding loops');
        }
        if (s.min.dtype !== s.loopVar.dtype || s.extent.dtype !== s.loopVar.dtype) {
          report(where(here), `the range has type ${shortName(s.extent.dtype)} but the variable ${shortName(s.loopVar.dtype)}`);
        }
        define(s.loopVar, here);
        loopVars.add(s.loopVar);
        walk(s.body, here);
        vars.delete(s.loopVar);
        loopVars.delete(s.loopVar);
        return;
      }
      case 'block_realize': {
        const b = s.block;
        const here = { block: b.name };
        if (blockNames.has(b.name)) report(where(here), `block name '${b.name}' is used twice (schedules find blocks by name)`);
        blockNames.add(b.name);
        if (s.iterValues.length !== b.iterVars.length) {
          report(where(here), `${b.iterVars.length} iterators but ${s.iterValues.length} bound values`);
        }
        // The iterator values and the predicate are in terms of the loops outside the block.
        for (const v of s.iterValues) checkExpr(v, here);
        checkExpr(s.predicate, here);
        if (s.predicate.dtype !== 'bool')
          report(where(here), `the predicate must be bool, found ${shortName(s.predicate.dtype)}`);
        for (const iv of b.iterVars) {
          checkExpr(iv.dom.min, here);
          checkExpr(iv.dom.extent, here);
        }
        // A block with iterators sees the loops outside it only through them, so that
        // schedules can move and split those loops by rewriting the iterator values alone
        // (TVM's rule; a block without iterators is opaque and exempt).
        const outer = { loopVars, hidden };
        if (b.iterVars.length > 0) {
          hidden = new Set([...hidden, ...loopVars]);
          loopVars = new Set();
        }
        for (const iv of b.iterVars) define(iv.var, here);
        for (const r of [...b.reads, ...b.writes]) {
          if (!buffers.has(r.buffer)) report(where(here), `region of undeclared buffer '${r.buffer.name}'`);
          if (r.region.length !== r.buffer.shape.length) {
            report(
              where(here),
              `region of '${r.buffer.name}' has ${r.region.length} dimensions, the buffer ${r.buffer.shape.length}`,
            );
          }
          for (const rg of r.region) {
            checkExpr(rg.min, here);
            checkExpr(rg.extent, here);
          }
        }
        if (b.init) walk(b.init, here);
        walk(b.body, here);
        for (const iv of b.iterVars) vars.delete(iv.var);
        ({ loopVars, hidden } = outer);
        return;
      }
      case 'store': {
        if (!buffers.has(s.buffer))
          report(where(ctx), `buffer '${s.buffer.name}' is written but not declared (a parameter or an alloc)`);
        if (!rankOk(s.buffer, s.indices)) {
          report(
            where(ctx),
            `buffer '${s.buffer.name}' has ${s.buffer.shape.length} dimensions but is written with ${s.indices.length} indices`,
          );
        }
        for (const i of s.indices) checkExpr(i, ctx);
        checkExpr(s.value, ctx);
        if (s.value.dtype !== s.buffer.dtype) {
          report(
            where(ctx),
            `a ${shortName(s.value.dtype)} value is stored into ${shortName(s.buffer.dtype)} buffer '${s.buffer.name}'`,
          );
        }
        return;
      }
      case 'allocate': {
        for (const d of s.buffer.shape) checkExpr(d, ctx);
        for (const problem of shapeProblems(s.buffer.shape, `buffer '${s.buffer.name}'`)) report(where(ctx), problem);
        if (buffers.has(s.buffer)) report(where(ctx), `buffer '${s.buffer.name}' is allocated twice`);
        buffers.add(s.buffer);
        walk(s.body, ctx);
        buffers.delete(s.buffer);
        return;
      }
      case 'if':
        checkExpr(s.cond, ctx);
        if (s.cond.dtype !== 'bool') report(where(ctx), `an if condition must be bool, found ${shortName(s.cond.dtype)}`);
        walk(s.then, ctx);
        if (s.else) walk(s.else, ctx);
        return;
      case 'let':
        checkExpr(s.value, ctx);
        if (s.value.dtype !== s.var.dtype) {
          report(where(ctx), `let '${s.var.name}' has type ${shortName(s.var.dtype)} but its value ${shortName(s.value.dtype)}`);
        }
        define(s.var, ctx);
        walk(s.body, ctx);
        vars.delete(s.var);
        return;
      case 'seq':
        for (const x of s.stmts) walk(x, ctx);
        return;
      case 'evaluate':
        checkExpr(s.value, ctx);
        return;
    }
  };
  walk(f.body, {});
}
