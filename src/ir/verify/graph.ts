/**
 * Well-formedness of graph functions: variables defined before use and bound
 * once, dataflow variables kept inside their block, A-normal form, symbolic
 * variables defined by the parameters or a match_cast, struct info that
 * agrees with what each binding computes, and calls that fit their callee.
 */
import { KilnError } from '../../support/diagnostics.ts';
import { Analyzer } from '../arith/analyzer.ts';
import { type Expr, type GraphFunc, type GraphVar, intrinsicSinfo, isLeaf, type SeqExpr } from '../graph/expr.ts';
import { type StructInfo, visitStructInfoExprs } from '../graph/struct-info.ts';
import { isBaseOf } from '../graph/subtype.ts';
import type { IRModule } from '../module.ts';
import { shortName } from '../dtype.ts';
import { binary, type PrimExpr, type PrimVar, visitPrim } from '../prim/expr.ts';
import type { PrimFunc } from '../tir/stmt.ts';
import { printPrimExpr, printStructInfo } from '../text/printer.ts';
import { structInfoShapeProblems } from './dims.ts';
import type { Report, Where } from './tir.ts';

import type { InferOp } from '../graph/op-hooks.ts';

const LEAVES = 'variables, constants, shapes, prim values, strings or tuples of those';

/** A leaf, or a tuple (whose fields are checked on their own, so a bad field is reported once). */
const leafOrTuple = (e: Expr): boolean => e.kind === 'tuple' || isLeaf(e);

export function verifyGraphFunc(m: IRModule, name: string, f: GraphFunc, report: Report, inferOp?: InferOp): void {
  /** Variables in scope; the bindings of an if's branch leave it after the branch. */
  let defined = new Set<GraphVar>();
  /** Every variable bound so far, in any scope: each binding needs a variable of its own. */
  const bound = new Set<GraphVar>();
  let symbolic = new Set<PrimVar>();
  const analyzer = new Analyzer();
  /** The binding being checked: named in messages, and its place in the source (when parsed) given. */
  let current: GraphVar | undefined;
  const where = (): Where => ({ text: `function '${name}'${current ? `, binding '${current.name}'` : ''}`, node: current ?? f });
  let openDataflow: Set<GraphVar> | undefined;

  const defineSymbolic = (s: StructInfo): void =>
    visitStructInfoExprs(s, (e) =>
      visitPrim(e, (x) => {
        if (x.kind === 'var') {
          symbolic.add(x);
          analyzer.bindNonNegative(x);
        }
      }),
    );
  const checkPrim = (e: PrimExpr): void =>
    visitPrim(e, (x) => {
      if (x.kind === 'var' && !symbolic.has(x))
        report(where(), `symbolic variable '${x.name}' is not defined by a parameter or a match_cast`);
      if (x.kind === 'load') report(where(), 'a buffer load appears in a graph function');
    });
  const checkShapes = (s: StructInfo): void => {
    for (const problem of structInfoShapeProblems(s, (x) => printStructInfo(x))) report(where(), problem);
  };
  const checkSinfo = (s: StructInfo): void => {
    visitStructInfoExprs(s, checkPrim);
    checkShapes(s);
  };

  for (const p of f.params) {
    if (p.dataflow) report(where(), `parameter '${p.name}' is a dataflow variable`);
    if (defined.has(p)) report(where(), `parameter '${p.name}' appears twice`);
    defined.add(p);
    bound.add(p);
    defineSymbolic(p.sinfo);
    checkShapes(p.sinfo);
  }
  checkSinfo(f.ret);

  const use = (v: GraphVar): void => {
    if (!defined.has(v)) report(where(), `variable '${v.name}' is used before it is defined`);
    else if (v.dataflow && !openDataflow?.has(v))
      report(where(), `dataflow variable '${v.name}' is used outside its dataflow block`);
  };

  const leaves = (args: readonly Expr[], what: string): void => {
    for (const a of args) {
      if (!leafOrTuple(a)) report(where(), `${what} must be ${LEAVES}`);
      expr(a);
    }
  };

  const expr = (e: Expr): void => {
    switch (e.kind) {
      case 'graph_var':
        use(e);
        return;
      case 'constant':
      case 'string':
        return;
      case 'tuple':
        leaves(e.fields, 'the fields of a tuple');
        return;
      case 'tuple_get': {
        if (!leafOrTuple(e.tuple)) report(where(), `the tuple of a tuple index must be one of ${LEAVES}`);
        expr(e.tuple);
        const t = intrinsicSinfo(e.tuple);
        if (t && t.kind !== 'tuple') report(where(), `tuple index [${e.index}] of a value that is not a tuple`);
        if (t?.kind === 'tuple' && (e.index < 0 || e.index >= t.fields.length)) {
          report(where(), `tuple index ${e.index} is out of range for a tuple of ${t.fields.length}`);
        }
        return;
      }
      case 'shape':
        e.values.forEach(checkPrim);
        return;
      case 'prim_value':
        checkPrim(e.value);
        return;
      case 'call':
        leaves(e.args, `arguments of ${e.op}`);
        return;
      case 'call_global': {
        leaves(e.args, `arguments of @${e.func}`);
        const callee = m.functions.get(e.func);
        if (!callee) report(where(), `call of unknown function '@${e.func}'`);
        else if (callee.kind === 'prim_func') report(where(), `'@${e.func}' is a prim_func; call it with call_tir`);
        else {
          const params = callee.kind === 'func' ? callee.params.length : callee.sinfo.params?.length;
          if (params !== undefined && params !== e.args.length) {
            report(where(), `'@${e.func}' takes ${params} arguments, ${e.args.length} given`);
          }
        }
        return;
      }
      case 'call_tir': {
        leaves(e.args, 'arguments of call_tir');
        checkSinfo(e.out);
        if (e.dst) {
          expr(e.dst);
          const d = e.dst.sinfo;
          if (e.out.kind !== 'tensor' || d.kind !== 'tensor' || isBaseOf(e.out, d) !== 'yes' || isBaseOf(d, e.out) !== 'yes') {
            report(where(), `the dst of call_tir ('${e.dst.name}') must be a tensor of the call's output type`);
          }
        }
        if (e.tirVars) e.tirVars.values.forEach(checkPrim);
        const callee = m.functions.get(e.func);
        if (!callee || callee.kind !== 'prim_func') {
          report(where(), `call_tir of '${e.func}', which is not a prim_func of the module`);
          return;
        }
        const outs = e.out.kind === 'tuple' ? e.out.fields.length : 1;
        const expected = e.args.length + outs + (e.tirVars?.values.length ?? 0);
        if (callee.params.length !== expected) {
          report(
            where(),
            `call_tir of '${e.func}' passes ${e.args.length} inputs, ${outs} outputs and ${e.tirVars?.values.length ?? 0} tir_vars, but it has ${callee.params.length} parameters`,
          );
        }
        if (e.out.kind === 'tuple' && !e.out.fields.every((x) => x.kind === 'tensor')) {
          report(where(), 'the outputs of call_tir must be tensors');
        }
        checkCallTirArgs(e.func, callee, e.args, e.out.kind === 'tuple' ? e.out.fields : [e.out], e.tirVars?.values ?? []);
        return;
      }
      case 'call_dps_packed':
        leaves(e.args, 'arguments of call_dps_packed');
        checkSinfo(e.out);
        return;
      case 'if': {
        if (!isLeaf(e.cond)) report(where(), 'the condition of if must be a variable or constant');
        expr(e.cond);
        const c = intrinsicSinfo(e.cond);
        const boolScalar =
          (c?.kind === 'prim' && c.dtype === 'bool') ||
          (c?.kind === 'tensor' && c.dtype === 'bool' && (c.ndim === 0 || c.ndim < 0));
        if (c && !boolScalar) report(where(), `the condition of if must be a bool scalar, found ${printStructInfo(c)}`);
        if (openDataflow) report(where(), 'an if cannot be in a dataflow block');
        branch(e.then);
        branch(e.else);
        return;
      }
    }
  };

  /** A branch of an if: what it binds and the symbolic variables its match_casts define stay inside. */
  const branch = (s: SeqExpr): void => {
    const outer = { defined, symbolic, current, openDataflow };
    defined = new Set(defined);
    symbolic = new Set(symbolic);
    seq(s);
    ({ defined, symbolic, current, openDataflow } = outer);
  };

  const seq = (s: SeqExpr): void => {
    for (const b of s.blocks) {
      openDataflow = b.dataflow ? new Set() : undefined;
      for (const x of b.bindings) {
        current = x.var;
        expr(x.value);
        if (bound.has(x.var)) report(where(), `variable '${x.var.name}' is bound twice`);
        if (x.var.dataflow && !b.dataflow) report(where(), `dataflow variable '${x.var.name}' is bound outside a dataflow block`);
        if (x.kind === 'match_cast') {
          defineSymbolic(x.var.sinfo);
          checkShapes(x.var.sinfo);
        } else {
          checkSinfo(x.var.sinfo);
          checkBindingSinfo(x.var, x.value);
        }
        defined.add(x.var);
        bound.add(x.var);
        if (x.var.dataflow) openDataflow?.add(x.var);
      }
      current = undefined;
      openDataflow = undefined;
    }
    if (!leafOrTuple(s.body)) report(where(), `the result of a sequence must be one of ${LEAVES}`);
    expr(s.body);
  };

  /**
   * The tensors call_tir passes (inputs, then outputs) against the prim_func's buffer
   * parameters: a tensor for each buffer, of its dtype and rank, its constant dimensions
   * equal and each symbolic dimension of the buffers bound to one value; tir_vars for its
   * scalars. Otherwise the kernel reads and writes out of bounds at run time.
   */
  const checkCallTirArgs = (
    func: string,
    callee: PrimFunc,
    args: readonly Expr[],
    outs: readonly StructInfo[],
    tirVars: readonly PrimExpr[],
  ): void => {
    const tensors = [...args.map((a) => intrinsicSinfo(a)), ...outs];
    const dimOf = new Map<PrimVar, PrimExpr>();
    tensors.forEach((s, k) => {
      const p = callee.params[k];
      if (!p) return;
      const what = `call_tir of '${func}': ${k < args.length ? `argument ${k + 1}` : `output ${k - args.length + 1}`}`;
      if (p.kind !== 'buffer') return report(where(), `${what} is a tensor but parameter '${p.name}' is a scalar`);
      // An argument that is not a leaf has no struct info of its own; that is reported already.
      if (!s) return;
      const buf = `buffer '${p.name}' (${shortName(p.dtype)}[${p.shape.map((d) => printPrimExpr(d)).join(', ')}])`;
      if (s.kind !== 'tensor') return report(where(), `${what} is ${printStructInfo(s)}, but ${buf} takes a tensor`);
      if (s.dtype !== p.dtype) report(where(), `${what} is ${printStructInfo(s)}, but ${buf} has dtype ${shortName(p.dtype)}`);
      if (s.ndim >= 0 && s.ndim !== p.shape.length)
        return report(where(), `${what} is ${printStructInfo(s)}, but ${buf} has ${p.shape.length} dimensions`);
      s.shape?.forEach((d, i) => {
        const b = p.shape[i]!;
        const want = b.kind === 'var' ? dimOf.get(b) : b;
        if (b.kind === 'var' && !want) dimOf.set(b, d);
        else if (want && want.dtype === d.dtype && analyzer.canProve(binary('ne', want, d)))
          report(
            where(),
            `${what} is ${printStructInfo(s)}, but ${buf} needs ${printPrimExpr(want)} for dimension ${i}, not ${printPrimExpr(d)}`,
          );
      });
    });
    tirVars.forEach((_, j) => {
      const p = callee.params[tensors.length + j];
      if (p?.kind === 'buffer')
        report(where(), `call_tir of '${func}': tir_var ${j + 1} is a scalar but '${p.name}' is a buffer`);
    });
  };

  const checkBindingSinfo = (v: GraphVar, value: Expr): void => {
    let actual = intrinsicSinfo(value);
    const args = value.kind === 'call' ? value.args.map(intrinsicSinfo) : [];
    // Arguments that are not leaves have no struct info of their own; that is reported already.
    if (!actual && value.kind === 'call' && inferOp && args.every((a) => a !== undefined)) {
      try {
        actual = inferOp(value.op, args, value.attrs);
      } catch (err) {
        // Anything but a KilnError is a bug in the operator, not a problem of the module.
        if (!(err instanceof KilnError)) throw err;
        // The operator's own message ("add: shapes (n, 4) and (n, 3) ..."), without its code.
        report(where(), err.diagnostics.map((d) => d.message).join('; '));
        return;
      }
    }
    if (actual && isBaseOf(v.sinfo, actual, analyzer) === 'no') {
      report(where(), `annotated ${printStructInfo(v.sinfo)} but the value is ${printStructInfo(actual)}`);
    }
  };

  seq(f.body);
  const result = intrinsicSinfo(f.body.body);
  if (result && isBaseOf(f.ret, result, analyzer) === 'no') {
    report(where(), `returns ${printStructInfo(result)} but is declared to return ${printStructInfo(f.ret)}`);
  }
}
