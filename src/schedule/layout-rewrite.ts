/**
 * The graph half of a layout rewrite (TVM: relax's AttachAttrLayoutFreeBuffers
 * and SplitLayoutRewritePreproc around MetaSchedule's RewriteLayout). Before
 * scheduling, `layoutFreeParams` finds the kernel parameters whose argument is
 * a constant at every call: a rule may change their layout (transform_layout),
 * since nothing else sees those tensors. After scheduling,
 * `insertLayoutTransforms` keeps the module consistent: every call of a
 * rewritten kernel gets its argument through a call of the layout transform
 * kernel (a PrimFunc of the module, `<kernel>_layout<param>`), which
 * fold-constants then evaluates at build time into the packed constant.
 * Unfolded, the transform runs at run time and the result is the same.
 */
import {
  type Binding,
  bindingBlock,
  callTIR,
  type Expr,
  graphFunc,
  graphVar,
  ifExpr,
  intrinsicSinfo,
  mapExprChildren,
  type SeqExpr,
  seqExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import { tensorSI } from '../ir/graph/struct-info.ts';
import { type IRModule, withFunction } from '../ir/module.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import { type LayoutAxis, layoutShape, layoutTransformFunc } from './primitives/layout.ts';

/** Per kernel, the indices of the parameters whose argument is a constant at every call_tir of it. */
export function layoutFreeParams(m: IRModule): Map<string, Set<number>> {
  const free = new Map<string, Set<number>>();
  const bound = new Set<string>();
  const visit = (e: Expr): Expr => {
    if (e.kind === 'call_tir') {
      const constants = new Set<number>();
      e.args.forEach((a, i) => {
        if (a.kind === 'constant') constants.add(i);
      });
      const before = free.get(e.func);
      free.set(e.func, before ? new Set([...before].filter((i) => constants.has(i))) : constants);
      bound.add(e.func);
    }
    return mapExprChildren(e, { expr: visit, seq });
  };
  const seq = (s: SeqExpr): SeqExpr => {
    for (const blk of s.blocks) for (const b of blk.bindings) visit(b.value);
    visit(s.body);
    return s;
  };
  for (const f of m.functions.values()) if (f.kind === 'func') seq(f.body);
  return free;
}

/** One parameter of a kernel whose layout a schedule changed. */
export interface LayoutRewrite {
  readonly param: number;
  /** The parameter before the change (shape and dtype of what callers pass). */
  readonly source: Buffer;
  readonly map: readonly LayoutAxis[];
}

/**
 * Inserts before every call of a rewritten kernel a call of the transform
 * kernel on the argument, and adds the transform kernels to the module.
 * Returns the module and the names of the transform kernels.
 */
export function insertLayoutTransforms(
  m: IRModule,
  rewrites: ReadonlyMap<string, readonly LayoutRewrite[]>,
): { module: IRModule; transforms: Set<string> } {
  if (rewrites.size === 0) return { module: m, transforms: new Set() };
  const names = new Map<string, string[]>();
  let out = m;
  const transforms = new Set<string>();
  for (const [kernel, list] of rewrites) {
    names.set(
      kernel,
      list.map((r) => {
        let name = `${kernel}_layout${r.param}`;
        for (let k = 1; out.functions.has(name); k++) name = `${kernel}_layout${r.param}_${k}`;
        out = withFunction(out, name, layoutTransformFunc(r.source, r.map, { layout_transform: true }));
        transforms.add(name);
        return name;
      }),
    );
  }
  let fresh = 0;
  const seq = (s: SeqExpr): SeqExpr => {
    let changed = false;
    const blocks = s.blocks.map((blk) => {
      const bindings: Binding[] = [];
      for (const b of blk.bindings) {
        let value = nested(b.value);
        if (value.kind === 'call_tir' && rewrites.has(value.func)) {
          const call = value;
          const list = rewrites.get(call.func)!;
          const args = [...call.args];
          list.forEach((r, i) => {
            // The new shape in the caller's terms (its symbolic sizes, not the kernel's).
            const arg = intrinsicSinfo(args[r.param]!);
            const shape = arg?.kind === 'tensor' ? arg.shape : undefined;
            const sinfo = tensorSI(shape ? layoutShape(shape, r.map) : r.map.length, r.source.dtype);
            const v = graphVar(`packed${fresh++}`, sinfo, blk.dataflow);
            bindings.push(varBinding(v, callTIR(names.get(call.func)![i]!, [args[r.param]!], sinfo)));
            args[r.param] = v;
          });
          value = { ...call, args };
        }
        if (value !== b.value) {
          changed = true;
          bindings.push({ ...b, value });
        } else bindings.push(b);
      }
      return bindingBlock(bindings, blk.dataflow);
    });
    return changed ? seqExpr(blocks, s.body) : s;
  };
  const nested = (e: Expr): Expr => {
    if (e.kind !== 'if') return e;
    const [then, otherwise] = [seq(e.then), seq(e.else)];
    return then === e.then && otherwise === e.else ? e : ifExpr(e.cond, then, otherwise);
  };
  for (const [name, f] of out.functions) {
    if (f.kind !== 'func') continue;
    const body = seq(f.body);
    if (body !== f.body) out = withFunction(out, name, graphFunc(f.params, body, f.ret, f.attrs));
  }
  return { module: out, transforms };
}
