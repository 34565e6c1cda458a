/**
 * ONNX If as a graph-level `if`: both branch subgraphs become the branches'
 * sequences, reading the enclosing graph's values by name. Where the branches'
 * results differ in shape the if's type keeps only the rank, and a match_cast
 * after it names the dims with fresh symbolic variables bound at run time.
 * A condition known at import time converts only the branch it takes.
 */
import { type Expr, ifExpr, tupleGet } from '../../../ir/graph/expr.ts';
import { type StructInfo, tensorSI, tupleSI } from '../../../ir/graph/struct-info.ts';
import { primVar } from '../../../ir/prim/expr.ts';
import { primExprEqual } from '../../../ir/structural.ts';
import { literalNumber, type NodeContext, sanitize } from '../context.ts';
import type { TensorValue, Value } from '../values.ts';
import { defineConverter } from './registry.ts';

defineConverter('If', (ctx) => {
  const thenGraph = ctx.attr.graph('then_branch') ?? ctx.fail("attribute 'then_branch' is required");
  const elseGraph = ctx.attr.graph('else_branch') ?? ctx.fail("attribute 'else_branch' is required");
  const known = ctx.known(0);
  if (known) {
    if (known.values.length !== 1) ctx.fail(`the condition must hold one element, it has shape [${known.shape.join(', ')}]`);
    const c = literalNumber(known.values[0]!);
    if (c !== undefined) return ctx.subgraph(c !== 0 ? thenGraph : elseGraph, []);
  }
  let cond = ctx.tensor(0);
  if (cond.sinfo.dtype !== 'bool') ctx.fail(`the condition must be a bool tensor, it is ${cond.sinfo.dtype}`);
  if (cond.sinfo.shape.length !== 0) cond = ctx.op('reshape', [cond, ctx.shapeArg([])]);
  if (thenGraph.output.length !== elseGraph.output.length) {
    ctx.fail(`the then branch has ${thenGraph.output.length} outputs, the else branch ${elseGraph.output.length}`);
  }
  const bb = ctx.builder;
  const results: TensorValue[][] = [];
  const branch = (g: typeof thenGraph): ReturnType<typeof bb.scope> =>
    bb.scope(() => {
      const outs = ctx.subgraph(g, []).map((v) => ctx.materialize(v));
      results.push(outs);
      return outs.length === 1 ? outs[0]!.expr : { kind: 'tuple', fields: outs.map((o) => o.expr) };
    });
  const then = branch(thenGraph);
  const otherwise = branch(elseGraph);
  const [a, b] = results as [TensorValue[], TensorValue[]];
  const joined = a.map((x, i) => join(ctx, x, b[i]!, i));
  const sinfo: StructInfo = joined.length === 1 ? joined[0]! : tupleSI(joined);
  const r = bb.emit(ifExpr(cond.expr, then, otherwise), 'lv', sinfo);
  return joined.map((s, i) => {
    const item: Expr = joined.length === 1 ? r : bb.emit(tupleGet(r, i), 'lv', s);
    return named(ctx, item, s);
  });
});

/**
 * The type of output `i` of both branches: their shape where the two agree dim by dim
 * (the same expression is over variables both see, those of the enclosing scope), else the rank.
 */
function join(ctx: NodeContext, x: TensorValue, y: TensorValue, i: number): StructInfo {
  const sx = x.sinfo;
  const sy = y.sinfo;
  if (sx.dtype !== sy.dtype) ctx.fail(`output ${i} is ${sx.dtype} in the then branch and ${sy.dtype} in the else branch`);
  if (sx.shape.length !== sy.shape.length) {
    // ONNX allows it, but Kiln needs every value's rank.
    ctx.fail(`output ${i} has rank ${sx.shape.length} in the then branch and ${sy.shape.length} in the else branch`);
  }
  const same = sx.shape.every((d, k) => primExprEqual(d, sy.shape[k]!));
  return same ? tensorSI(sx.shape, sx.dtype) : tensorSI(sx.shape.length, sx.dtype);
}

/** A result whose type keeps only its rank gets fresh symbolic dims, bound at run time. */
function named(ctx: NodeContext, e: Expr, s: StructInfo): Value {
  if (s.kind !== 'tensor') return ctx.fail('a branch output is not a tensor');
  if (s.shape) return { kind: 'tensor', expr: e, sinfo: s as TensorValue['sinfo'] };
  const dims = Array.from({ length: s.ndim }, (_, k) => primVar(ctx.freshSymbol(`${sanitize(ctx.name)}_d${k}`)));
  const sinfo = tensorSI(dims, s.dtype) as TensorValue['sinfo'];
  return { kind: 'tensor', expr: ctx.builder.matchCast(e, sinfo, 'lv'), sinfo };
}
