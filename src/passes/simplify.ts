/**
 * The `simplify` pass: canonicalizes every prim expression of the module
 * with the arithmetic analyzer. PrimFuncs: see `simplify-tir.ts`. Graph
 * functions: shape values, prim values, the struct info of bindings, the
 * return type, and the outputs and tir_vars of call_tir / call_dps_packed,
 * with symbolic shape variables known to be non-negative.
 *
 * Parameters and match_cast targets are left as written: they are where
 * symbolic variables are defined, and `(n*4 - 4*n + m,)` defines `n` even
 * though it simplifies to `(m,)`.
 *
 * Whatever does not change is returned as is, down to the module.
 */
import { z } from 'zod';
import { Analyzer } from '../ir/arith/analyzer.ts';
import { isInt } from '../ir/dtype.ts';
import {
  type Binding,
  callDPSPacked,
  callTIR,
  type Expr,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  mapBindings,
  mapExprChildren,
  matchCast,
  primValue,
  type SeqExpr,
  type ShapeExpr,
  shapeExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import { mapStructInfoExprs, type StructInfo, type TensorStructInfo, type TupleStructInfo } from '../ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import { mapArray, type PrimExpr, primVars } from '../ir/prim/expr.ts';
import { definePass, type Pass } from './registry.ts';
import { simplifyPrimFunc } from './simplify-tir.ts';

export const SIMPLIFY = definePass({
  name: 'simplify',
  description:
    'Canonicalizes prim expressions with the arithmetic analyzer (loop ranges known), folds constant ifs and trivial loops.',
  // 2: floordiv / floormod drop a constant below the common factor (`floordiv(x*8 + 7, 64)` is `floordiv(x, 8)`).
  version: 2,
  options: z.object({}),
  create: () => ({ name: 'simplify', run: (m) => simplifyModule(m) }),
});

export function simplify(): Pass {
  return SIMPLIFY.create();
}

export function simplifyModule(m: IRModule): IRModule {
  let changed = false;
  const functions = new Map<string, ModuleFunction>();
  for (const [name, f] of m.functions) {
    const g = f.kind === 'prim_func' ? simplifyPrimFunc(f) : f.kind === 'func' ? simplifyGraphFunc(f) : f;
    if (g !== f) changed = true;
    functions.set(name, g);
  }
  return changed ? irModule(functions, m.attrs) : m;
}

/** Calls `f` on the dims of tensor shapes and shape values in `s` (not on prim values, which may be negative). */
function visitDims(s: StructInfo, f: (e: PrimExpr) => void): void {
  switch (s.kind) {
    case 'tensor':
      s.shape?.forEach(f);
      return;
    case 'shape':
      s.values?.forEach(f);
      return;
    case 'tuple':
      s.fields.forEach((x) => visitDims(x, f));
      return;
    case 'func':
      s.params?.forEach((x) => visitDims(x, f));
      visitDims(s.ret, f);
      return;
    case 'prim':
    case 'object':
      return;
  }
}

/** Calls `f` on every binding of `s`, those in the branches of ifs included. */
function forEachBinding(s: SeqExpr, f: (b: Binding) => void): void {
  for (const blk of s.blocks) {
    for (const b of blk.bindings) {
      f(b);
      if (b.value.kind === 'if') {
        forEachBinding(b.value.then, f);
        forEachBinding(b.value.else, f);
      }
    }
  }
}

export function simplifyGraphFunc(f: GraphFunc): GraphFunc {
  const analyzer = new Analyzer();
  const nonNegative = (s: StructInfo): void =>
    visitDims(s, (e) => {
      for (const v of primVars(e)) if (isInt(v.dtype)) analyzer.bindNonNegative(v);
    });
  // Symbolic variables are defined by the parameters and by match_casts; those in dims are sizes.
  f.params.forEach((p) => nonNegative(p.sinfo));
  forEachBinding(f.body, (b) => {
    if (b.kind === 'match_cast') nonNegative(b.var.sinfo);
  });

  const prim = (e: PrimExpr): PrimExpr => analyzer.simplify(e);
  const sinfo = <S extends StructInfo>(s: S): S => mapStructInfoExprs(s, prim) as S;
  /** Bound variables whose struct info simplified → the variable with the simpler one. */
  const renamed = new Map<GraphVar, GraphVar>();

  const expr = (e: Expr): Expr => {
    switch (e.kind) {
      case 'graph_var':
        return renamed.get(e) ?? e;
      case 'shape': {
        const values = mapArray(e.values, prim);
        return values === e.values ? e : shapeExpr(values);
      }
      case 'prim_value': {
        const value = prim(e.value);
        return value === e.value ? e : primValue(value);
      }
      case 'call_tir': {
        const args = mapArray(e.args, expr);
        const out: TensorStructInfo | TupleStructInfo = sinfo(e.out);
        const tirVars = e.tirVars && (expr(e.tirVars) as ShapeExpr);
        return args === e.args && out === e.out && tirVars === e.tirVars ? e : callTIR(e.func, args, out, tirVars, e.dst);
      }
      case 'call_dps_packed': {
        const args = mapArray(e.args, expr);
        const out: TensorStructInfo | TupleStructInfo = sinfo(e.out);
        return args === e.args && out === e.out ? e : callDPSPacked(e.func, args, out);
      }
      default:
        return mapExprChildren(e, { expr, seq });
    }
  };

  const seq = (s: SeqExpr): SeqExpr =>
    mapBindings(
      s,
      (b) => {
        const value = expr(b.value);
        let v = b.var;
        if (b.kind === 'bind') {
          const si = sinfo(v.sinfo);
          if (si !== v.sinfo) {
            v = graphVar(v.name, si, v.dataflow);
            renamed.set(b.var, v);
          }
        }
        if (value === b.value && v === b.var) return b;
        return b.kind === 'bind' ? varBinding(v, value) : matchCast(v, value);
      },
      expr,
    );

  const body = seq(f.body);
  const ret = sinfo(f.ret);
  return body === f.body && ret === f.ret ? f : graphFunc(f.params, body, ret, f.attrs);
}
