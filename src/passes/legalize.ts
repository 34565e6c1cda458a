/**
 * Legalize: rewrites every operator call of the graph functions into a
 * call_tir of a PrimFunc made by the operator's legalization (src/ops/legalize),
 * one PrimFunc per distinct (operator, attributes, dtypes, symbolic shape
 * pattern), shared by identical calls.
 *
 * A tensor argument whose shape is unknown but whose rank is known is first
 * match_cast to fresh symbolic dimensions (and an integer prim or a shape of
 * unknown value likewise), so kernels always see symbolic shapes and the VM
 * binds them at run time. `shape_of` stays: the VM reads shapes itself.
 */
import { isComposite } from '../ir/graph/composite.ts';
import { BlockBuilder } from '../ir/builder/block-builder.ts';
import { isInt } from '../ir/dtype.ts';
import {
  type Binding,
  bindingBlock,
  callTIR,
  type Expr,
  externFunc,
  globalCall,
  graphFunc,
  type GraphFunc,
  graphVar,
  ifExpr,
  intrinsicSinfo,
  isLeaf,
  matchCast,
  type OpCall,
  type SeqExpr,
  seqExpr,
  shapeExpr,
  stringImm,
  tuple,
  varBinding,
} from '../ir/graph/expr.ts';
import { funcSI, OBJECT_SI, primSI, shapeSI, type StructInfo, tensorSI, tupleSI } from '../ir/graph/struct-info.ts';
import type { IRModule } from '../ir/module.ts';
import { primVar } from '../ir/prim/expr.ts';
import { printStructInfo } from '../ir/text/printer.ts';
import { isKilnError, KilnError } from '../support/diagnostics.ts';
import { fail, M } from '../support/messages.ts';
import { getOp, hasOp, inferOpCall, normalizeAttrs } from '../ops/index.ts';
import '../ops/legalize/index.ts';
import { lowerOpCall } from '../ops/legalize/lower-call.ts';
import type { Pass } from './registry.ts';

/** Operators the VM runs itself rather than through a kernel. */
export const VM_NATIVE_OPS: ReadonlySet<string> = new Set(['shape_of', 'alloc_storage', 'alloc_tensor']);

/** The pass, configured (the implementation is loaded here already). */
export function legalize(): Pass {
  return { name: 'legalize', run: (m) => legalizeModule(m) };
}

/** Whether some graph function still calls an operator that needs a kernel. */
export function needsLegalization(m: IRModule): boolean {
  // A composite's operator calls are its backend's to run (src/ir/graph/composite.ts).
  return [...m.functions.values()].some((f) => f.kind === 'func' && !isComposite(f) && containsOpCall(f.body));
}

export function legalizeModule(m: IRModule): IRModule {
  if (!needsLegalization(m)) return m;
  const bb = new BlockBuilder({ module: m });
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func' || isComposite(f) || !containsOpCall(f.body)) continue;
    bb.setFunction(name, new FunctionLegalizer(bb, name, f).run());
  }
  return bb.getModule();
}

class FunctionLegalizer {
  private readonly names = new Set<string>();

  constructor(
    private readonly bb: BlockBuilder,
    private readonly funcName: string,
    private readonly f: GraphFunc,
  ) {
    for (const p of f.params) this.names.add(p.name);
    collectNames(f.body, this.names);
  }

  run(): GraphFunc {
    return graphFunc(this.f.params, this.seq(this.f.body), this.f.ret, this.f.attrs);
  }

  private seq(s: SeqExpr): SeqExpr {
    const blocks = s.blocks.map((blk) => {
      const out: Binding[] = [];
      for (const b of blk.bindings) out.push(...this.binding(b, blk.dataflow));
      return bindingBlock(out, blk.dataflow);
    });
    return seqExpr(blocks, s.body);
  }

  private binding(b: Binding, dataflow: boolean): Binding[] {
    const v = b.value;
    if (v.kind === 'if') {
      const value = ifExpr(v.cond, this.seq(v.then), this.seq(v.else));
      return [b.kind === 'bind' ? varBinding(b.var, value) : matchCast(b.var, value)];
    }
    if (v.kind !== 'call' || VM_NATIVE_OPS.has(v.op)) return [b];
    const where = `function '${this.funcName}', binding '${b.var.name}'`;
    const builtin = hasOp(v.op) ? getOp(v.op).builtin : undefined;
    if (builtin) return this.builtinCall(b, v, builtin, dataflow);
    try {
      const pre: Binding[] = [];
      const call = this.withKnownShapes(v, b.var.name, dataflow, pre);
      const argInfo = call.args.map((a) => intrinsicSinfo(a)!);
      const out = inferOpCall(call.op, argInfo, call.attrs);
      const lowered = lowerOpCall(call, argInfo, out, where);
      const kernel = this.bb.addPrimFunc(lowered.func, call.op);
      const args = lowered.args.map((a) => this.leaf(a, dataflow, pre));
      const value = callTIR(kernel, args, lowered.out, lowered.tirVars.length > 0 ? shapeExpr(lowered.tirVars) : undefined);
      return [...pre, b.kind === 'bind' ? varBinding(b.var, value) : matchCast(b.var, value)];
    } catch (e) {
      if (isKilnError(e) && !e.message.includes(where)) {
        throw new KilnError(e.diagnostics.map((d) => ({ ...d, message: `${where}: ${d.message}` })));
      }
      throw e;
    }
  }

  /**
   * A call of an operator the runtime runs itself (an output shape only the data
   * decides): a call of the extern function `builtin` with the tensors and then
   * the attributes as JSON. The result keeps the operator's struct info.
   */
  private builtinCall(b: Binding, call: OpCall, builtin: string, dataflow: boolean): Binding[] {
    const pre: Binding[] = [];
    const argInfo = call.args.map((a) => intrinsicSinfo(a)!);
    const out = inferOpCall(call.op, argInfo, call.attrs);
    // The signature keeps ranks and dtypes only, so calls on different shapes share one declaration.
    const params = [...argInfo.map(rankOnly), OBJECT_SI];
    const ext = this.bb.addExternFunc(externFunc(builtin, funcSI(params, out)), call.op);
    const attrs = stringImm(JSON.stringify(normalizeAttrs(call.op, call.attrs)));
    const value = globalCall(ext, [...call.args.map((a) => this.leaf(a, dataflow, pre)), attrs]);
    return [...pre, b.kind === 'bind' ? varBinding(b.var, value) : matchCast(b.var, value)];
  }

  /** The call with every argument of unknown shape (or unknown integer value) match_cast to fresh symbols. */
  private withKnownShapes(call: OpCall, hint: string, dataflow: boolean, pre: Binding[]): OpCall {
    let changed = false;
    const args = call.args.map((a, i) => {
      const s = intrinsicSinfo(a);
      const refined = s ? this.refine(s, `${hint}_${i}`, call.op) : undefined;
      if (!refined) return a;
      changed = true;
      const v = graphVar(this.fresh(`${hint}_a${i}`), refined, dataflow);
      pre.push(matchCast(v, a));
      return v;
    });
    return changed ? { ...call, args } : call;
  }

  /** A struct info with fresh symbols where `s` leaves sizes unknown; undefined when nothing is unknown. */
  private refine(s: StructInfo, hint: string, op: string): StructInfo | undefined {
    let n = 0;
    const sym = (): ReturnType<typeof primVar> => primVar(`${hint}_${n++}`);
    const go = (x: StructInfo): StructInfo | undefined => {
      switch (x.kind) {
        case 'tensor':
          if (x.shape) return undefined;
          if (x.ndim < 0)
            return fail(M.cannotLegalize, {
              where: 'legalize',
              op,
              problem: `an argument has unknown rank (${printStructInfo(x)})`,
            });
          return tensorSI(Array.from({ length: x.ndim }, sym), x.dtype, x.device);
        case 'shape':
          if (x.values || x.ndim < 0) return undefined;
          return shapeSI(Array.from({ length: x.ndim }, sym));
        case 'prim':
          return x.value || !isInt(x.dtype) ? undefined : primSI(x.dtype, primVar(`${hint}_${n++}`, x.dtype));
        case 'tuple': {
          const fields = x.fields.map((f) => go(f));
          return fields.some((f) => f) ? tupleSI(fields.map((f, i) => f ?? x.fields[i]!)) : undefined;
        }
        default:
          return undefined;
      }
    };
    return go(s);
  }

  /** `e` itself when it is a leaf, else a fresh variable bound to it. */
  private leaf(e: Expr, dataflow: boolean, pre: Binding[]): Expr {
    if (isLeaf(e)) return e;
    if (e.kind === 'tuple') return tuple(e.fields.map((x) => this.leaf(x, dataflow, pre)));
    const s = intrinsicSinfo(e);
    if (!s) throw new Error(`legalize: cannot bind an argument of kind ${e.kind}`);
    const v = graphVar(this.fresh('lv'), s, dataflow);
    pre.push(varBinding(v, e));
    return v;
  }

  private fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.names.has(name); i++) name = `${hint}_${i}`;
    this.names.add(name);
    return name;
  }
}

function rankOnly(s: StructInfo): StructInfo {
  return s.kind === 'tensor' ? tensorSI(s.ndim, s.dtype, s.device) : s;
}

function containsOpCall(s: SeqExpr): boolean {
  for (const blk of s.blocks) {
    for (const b of blk.bindings) {
      const v = b.value;
      if (v.kind === 'call' && !VM_NATIVE_OPS.has(v.op)) return true;
      if (v.kind === 'if' && (containsOpCall(v.then) || containsOpCall(v.else))) return true;
    }
  }
  return false;
}

function collectNames(s: SeqExpr, into: Set<string>): void {
  for (const blk of s.blocks) {
    for (const b of blk.bindings) {
      into.add(b.var.name);
      if (b.value.kind === 'if') {
        collectNames(b.value.then, into);
        collectNames(b.value.else, into);
      }
    }
  }
}
