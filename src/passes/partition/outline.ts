/**
 * Outlining a group of bindings into a composite function: its inputs
 * (variables defined outside the group, and constants, which become
 * parameters so that a backend gets weights as arguments and Kiln keeps
 * them among the artifact's parameters) and its outputs (values of the group
 * used outside it; several make a tuple).
 */
import {
  type Binding,
  bindingBlock,
  type Constant,
  constantSinfo,
  type Expr,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  graphVar,
  mapExprChildren,
  seqExpr,
  tuple,
  varBinding,
} from '../../ir/graph/expr.ts';
import { type TensorStructInfo, type TupleStructInfo, tupleSI } from '../../ir/graph/struct-info.ts';
import type { AttrMap } from '../../ir/attrs.ts';

export interface Outlined {
  readonly func: GraphFunc;
  /** What the call site passes, in parameter order: outer variables and constants. */
  readonly inputs: readonly Expr[];
  /** The group's variables used outside it, in the order of the composite's results. */
  readonly outputs: readonly GraphVar[];
  readonly out: TensorStructInfo | TupleStructInfo;
}

/** Calls `f` on every graph variable and constant in `e`, in order. */
export function visitLeaves(e: Expr, f: (leaf: GraphVar | Constant) => void): void {
  if (e.kind === 'graph_var' || e.kind === 'constant') {
    f(e);
    return;
  }
  mapExprChildren(e, {
    expr: (x) => (visitLeaves(x, f), x),
    seq: (s) => {
      for (const b of s.blocks) for (const x of b.bindings) visitLeaves(x.value, f);
      visitLeaves(s.body, f);
      return s;
    },
  });
}

function substitute(e: Expr, map: ReadonlyMap<Expr, Expr>): Expr {
  const hit = map.get(e);
  if (hit) return hit;
  return mapExprChildren(e, { expr: (x) => substitute(x, map), seq: (s) => s });
}

const constantKey = (c: Constant): string => `${c.blob.hash}:${c.dtype}:${c.shape.join('x')}`;

/**
 * The composite of `members` (bindings of one block, in order); `usedOutside(v)` says whether
 * a member's variable is used by anything but the members. Undefined when an output is not a
 * tensor (call_dps_packed writes tensors).
 */
export function outline(
  members: readonly Binding[],
  usedOutside: (v: GraphVar) => boolean,
  attrs: AttrMap,
): Outlined | undefined {
  const defined = new Set(members.map((b) => b.var));
  const map = new Map<Expr, Expr>();
  const inputs: Expr[] = [];
  const params: GraphVar[] = [];
  const constants = new Map<string, GraphVar>();
  for (const b of members) {
    visitLeaves(b.value, (leaf) => {
      if (map.has(leaf) || (leaf.kind === 'graph_var' && defined.has(leaf))) return;
      if (leaf.kind === 'constant') {
        const known = constants.get(constantKey(leaf));
        if (known) {
          map.set(leaf, known);
          return;
        }
      }
      const p = leaf.kind === 'graph_var' ? graphVar(leaf.name, leaf.sinfo) : graphVar(`c${constants.size}`, constantSinfo(leaf));
      if (leaf.kind === 'constant') constants.set(constantKey(leaf), p);
      map.set(leaf, p);
      params.push(p);
      inputs.push(leaf);
    });
  }
  const outputs = members.map((b) => b.var).filter(usedOutside);
  if (outputs.length === 0 || outputs.some((v) => v.sinfo.kind !== 'tensor')) return undefined;
  // Results leave the composite's dataflow block, so they are non-dataflow variables there.
  const results = outputs.map((v) => graphVar(v.name, v.sinfo));
  outputs.forEach((v, i) => map.set(v, results[i]!));
  const bindings = members.map((b) => varBinding((map.get(b.var) as GraphVar | undefined) ?? b.var, substitute(b.value, map)));
  const out =
    outputs.length === 1 ? (outputs[0]!.sinfo as TensorStructInfo) : tupleSI(outputs.map((v) => v.sinfo as TensorStructInfo));
  const body = seqExpr([bindingBlock(bindings, true)], results.length === 1 ? results[0]! : tuple(results));
  return { func: graphFunc(params, body, out, attrs), inputs, outputs, out };
}
