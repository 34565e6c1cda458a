/**
 * FuseTIR: merges each group FuseOps found (src/passes/fuse-ops.ts) into one
 * PrimFunc and replaces the group's calls by one call_tir of it.
 *
 * The members' kernels are copied one after the other (fresh loop variables
 * and block names), their symbolic variables replaced by the graph's shapes
 * at the call, their parameters by the fused kernel's parameters (the
 * group's inputs and its one output) or, for values passed between members,
 * by buffers allocated inside the kernel. An `inline` hook then folds what it
 * can of those intermediates into their consumers (the fuse stage passes
 * compute_inline / reverse_compute_inline), so they become expressions
 * rather than memory. Symbolic variables the fused kernel cannot read off a
 * dimension of its parameters are passed as tir_vars.
 */
import { isComposite } from '../ir/graph/composite.ts';
import {
  type Binding,
  bindingBlock,
  type CallTIR,
  callTIR,
  type Expr,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  ifExpr,
  type SeqExpr,
  seqExpr,
  shapeExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';
import { BlockBuilder } from '../ir/builder/block-builder.ts';
import type { IRModule } from '../ir/module.ts';
import { intImm, mapPrimChildren, type PrimExpr, type PrimVar, primVar, primVars } from '../ir/prim/expr.ts';
import { buffer, type Buffer } from '../ir/tir/buffer.ts';
import { copyWithFreshDefs } from '../ir/tir/subst.ts';
import {
  allocate,
  type Block,
  mapStmtChildren,
  type PrimFunc,
  primFunc,
  type PrimParam,
  seq,
  type Stmt,
  type StmtMapper,
} from '../ir/tir/stmt.ts';
import { eliminateDeadCode } from './dce.ts';
import { type FuseOptions, type FusionGroup, partitionBlock, visitSeqVars } from './fuse-ops.ts';
import { analyzePattern, OP_PATTERN_ATTR } from './op-pattern.ts';
import type { Pass } from './registry.ts';

/** Folds intermediates of a fused kernel into their consumers where it can; returns the kernel. */
export type Inliner = (f: PrimFunc, name: string, intermediates: readonly Buffer[]) => PrimFunc;

export interface FuseStats {
  /** Per graph function: kernel calls before and after, and the groups (their members' kernels). */
  readonly functions: Record<string, { before: number; after: number; groups: string[][] }>;
}

export function fuse(options: FuseOptions & { inline?: Inliner }): Pass {
  return { name: 'fuse', run: (m) => fuseModule(m, options) };
}

export function fuseModule(m: IRModule, options: FuseOptions & { inline?: Inliner }, stats?: FuseStats): IRModule {
  const bb = new BlockBuilder({ module: m });
  // Record every kernel's pattern, as TVM's AnnotateTIROpPattern does.
  for (const [name, f] of m.functions) {
    if (f.kind === 'prim_func' && f.attrs[OP_PATTERN_ATTR] === undefined) {
      bb.setFunction(name, primFunc(f.params, f.body, { ...f.attrs, [OP_PATTERN_ATTR]: analyzePattern(f) }));
    }
  }
  const annotated = bb.getModule();
  const graphFuncs = [...annotated.functions].filter((e): e is [string, GraphFunc] => e[1].kind === 'func');
  for (const [name, f] of graphFuncs) {
    if (isComposite(f)) continue; // its backend's to run
    const fuser = new FunctionFuser(annotated, bb, name, options);
    const g = fuser.func(f);
    if (stats) stats.functions[name] = { before: countCalls(f.body), after: countCalls(g.body), groups: fuser.groups };
    if (g !== f) bb.setFunction(name, g);
  }
  return eliminateDeadCode(bb.getModule());
}

function countCalls(s: SeqExpr): number {
  let n = 0;
  for (const blk of s.blocks) {
    for (const b of blk.bindings) {
      if (b.value.kind === 'call_tir' || b.value.kind === 'call_dps_packed' || b.value.kind === 'call') n++;
      if (b.value.kind === 'if') n += countCalls(b.value.then) + countCalls(b.value.else);
    }
  }
  return n;
}

class FunctionFuser {
  readonly groups: string[][] = [];

  constructor(
    private readonly m: IRModule,
    private readonly bb: BlockBuilder,
    private readonly funcName: string,
    private readonly options: FuseOptions & { inline?: Inliner },
  ) {}

  func(f: GraphFunc): GraphFunc {
    const body = this.seq(f.body);
    return body === f.body ? f : graphFunc(f.params, body, f.ret, f.attrs);
  }

  private seq(s: SeqExpr): SeqExpr {
    let changed = false;
    const blocks = s.blocks.map((blk, bi) => {
      // Variables used anywhere but in this block's own bindings.
      const outside = new Set<GraphVar>();
      const rest: SeqExpr = seqExpr(
        s.blocks.filter((_, j) => j !== bi),
        s.body,
      );
      visitSeqVars(rest, (v) => outside.add(v));
      for (const b of blk.bindings) if (!b.var.dataflow) outside.add(b.var);
      // Branches first: fusion inside an if's sequences.
      const inner = blk.bindings.map((b) => {
        if (b.value.kind !== 'if') return b;
        const then = this.seq(b.value.then);
        const otherwise = this.seq(b.value.else);
        if (then === b.value.then && otherwise === b.value.else) return b;
        changed = true;
        const value = ifExpr(b.value.cond, then, otherwise);
        return b.kind === 'bind' ? varBinding(b.var, value) : { ...b, value };
      });
      if (!blk.dataflow) return inner === blk.bindings ? blk : bindingBlock(inner, false);
      const groups = partitionBlock(this.m, bindingBlock(inner, true), outside, this.options);
      if (groups.length === 0) return bindingBlock(inner, true);
      changed = true;
      const replaced = new Map<Binding, Binding | undefined>();
      for (const g of groups) {
        const call = this.fuseGroup(g);
        g.bindings.forEach((b, i) => replaced.set(b, i === g.bindings.length - 1 ? varBinding(b.var, call) : undefined));
        this.groups.push(g.bindings.map((b) => b.value.func));
      }
      const out: Binding[] = [];
      for (const b of inner) {
        if (!replaced.has(b)) out.push(b);
        else if (replaced.get(b)) out.push(replaced.get(b)!);
      }
      return bindingBlock(out, true);
    });
    if (!changed) return s;
    return seqExpr(blocks, s.body);
  }

  /** The fused kernel of a group, added to the module; returns the call that replaces the group. */
  private fuseGroup(g: FusionGroup): CallTIR {
    const members = g.bindings;
    const memberVars = new Set(members.map((b) => b.var));
    const output = members[members.length - 1]!;
    // Graph-level symbolic variables become the fused kernel's own.
    const symbols = new Map<PrimVar, PrimVar>();
    const own = (e: PrimExpr): PrimExpr => {
      const go = (x: PrimExpr): PrimExpr => {
        if (x.kind !== 'var') return mapPrimChildren(x, go);
        let v = symbols.get(x);
        if (!v) {
          v = primVar(x.name, x.dtype);
          symbols.set(x, v);
        }
        return v;
      };
      return go(e);
    };
    const shapeOf = (s: TensorStructInfo): PrimExpr[] => s.shape!.map(own);

    const params: PrimParam[] = [];
    const args: Expr[] = [];
    const inputBuffers = new Map<Expr, Buffer>();
    const inputScalars = new Map<string, PrimVar>();
    const intermediates = new Map<GraphVar, Buffer>();
    const bodies: Stmt[] = [];
    const hoisted: Buffer[] = [];
    const blockNames = new Set<string>();
    const names = new Set<string>();
    const fresh = (hint: string): string => {
      let n = hint;
      for (let i = 1; names.has(n); i++) n = `${hint}_${i}`;
      names.add(n);
      return n;
    };
    const outSinfo = output.value.out as TensorStructInfo;
    const outBuffer = (): Buffer => {
      const f = this.m.functions.get(output.value.func) as PrimFunc;
      const p = f.params[output.value.args.length] as Buffer;
      return buffer(fresh(p.name), shapeOf(outSinfo), outSinfo.dtype);
    };
    let outBuf: Buffer | undefined;

    for (const b of members) {
      const call = b.value;
      const f = this.m.functions.get(call.func) as PrimFunc;
      const varMap = new Map<PrimVar, PrimExpr>();
      const bufMap = new Map<Buffer, Buffer>();
      const bind = (p: PrimParam, graphShape: readonly PrimExpr[] | undefined): void => {
        if (p.kind !== 'buffer' || !graphShape) return;
        p.shape.forEach((d, k) => {
          if (d.kind === 'var' && !varMap.has(d) && graphShape[k]) varMap.set(d, graphShape[k]);
        });
      };
      call.args.forEach((a, i) => {
        const p = f.params[i]!;
        if (p.kind === 'var') {
          // A scalar argument: a parameter of the fused kernel too.
          const value = a.kind === 'prim_value' ? a.value : undefined;
          if (value && value.kind !== 'var' && primVars(value).size === 0) {
            varMap.set(p, value);
            return;
          }
          const key = a.kind === 'prim_value' ? `prim:${JSON.stringify(a.value)}` : `arg:${i}`;
          let v = inputScalars.get(key);
          if (!v) {
            v = primVar(fresh(p.name), p.dtype);
            inputScalars.set(key, v);
            params.push(v);
            args.push(a);
          }
          varMap.set(p, v);
          return;
        }
        const s = a.kind === 'graph_var' ? a.sinfo : undefined;
        const shape =
          a.kind === 'constant' ? a.shape.map((d) => intImm(d)) : s?.kind === 'tensor' && s.shape ? shapeOf(s) : undefined;
        bind(p, shape);
        if (a.kind === 'graph_var' && memberVars.has(a)) {
          bufMap.set(p, intermediates.get(a)!);
          return;
        }
        let buf = inputBuffers.get(a);
        if (!buf) {
          buf = buffer(fresh(p.name), shape ?? p.shape, p.dtype);
          inputBuffers.set(a, buf);
          args.push(a);
          params.push(buf);
        }
        bufMap.set(p, buf);
      });
      const outParam = f.params[call.args.length] as Buffer;
      const outShape = shapeOf(call.out as TensorStructInfo);
      bind(outParam, outShape);
      if (b === output) {
        outBuf = outBuffer();
        bufMap.set(outParam, outBuf);
      } else {
        const ib = buffer(fresh(outParam.name), outShape, outParam.dtype);
        intermediates.set(b.var, ib);
        bufMap.set(outParam, ib);
      }
      // tir_vars: the kernel's trailing scalar parameters.
      const tirParams = f.params.slice(call.args.length + 1);
      tirParams.forEach((p, i) => {
        const value = call.tirVars?.values[i];
        if (p.kind === 'var' && value) varMap.set(p, own(value));
      });
      let body = copyWithFreshDefs(f.body, varMap);
      body = renameAndRebind(body, bufMap, blockNames);
      // A member's own allocations move to the top of the fused kernel (where WebGPU makes workspaces of them).
      while (body.kind === 'allocate') {
        hoisted.push(body.buffer);
        body = body.body;
      }
      bodies.push(body);
    }
    // The kernel's symbolic variables: read off a parameter's dimension where one stands alone, else tir_vars.
    const onParams = new Set<PrimVar>();
    for (const p of params) if (p.kind === 'buffer') for (const d of p.shape) if (d.kind === 'var') onParams.add(d);
    for (const d of outBuf!.shape) if (d.kind === 'var') onParams.add(d);
    const tirVars: PrimExpr[] = [];
    const tirParams: PrimVar[] = [];
    for (const [graphVar, v] of symbols) {
      if (onParams.has(v)) continue;
      tirVars.push(graphVar);
      tirParams.push(v);
    }
    let body = seq(bodies);
    for (const ib of [...hoisted].reverse()) body = allocate(ib, body);
    for (const ib of [...intermediates.values()].reverse()) body = allocate(ib, body);
    const kernelName = members.map((b) => b.value.func.replace(/_?[0-9]+$/, '')).join('_');
    let fused = primFunc([...params, outBuf!, ...tirParams], body, { [OP_PATTERN_ATTR]: g.pattern });
    if (this.options.inline) fused = this.options.inline(fused, `fused_${kernelName}`, [...intermediates.values()]);
    const name = this.bb.addPrimFunc(fused, `fused_${kernelName}`);
    return callTIR(name, args, outSinfo, tirVars.length > 0 ? shapeExpr(tirVars) : undefined);
  }
}

/** Replaces buffers by `bufMap` and makes block names unique within the fused kernel. */
function renameAndRebind(s: Stmt, bufMap: ReadonlyMap<Buffer, Buffer>, taken: Set<string>): Stmt {
  const sub = (b: Buffer): Buffer => bufMap.get(b) ?? b;
  const expr = (e: PrimExpr): PrimExpr => {
    const x = mapPrimChildren(e, expr);
    if (x.kind === 'load') {
      const b = bufMap.get(x.buffer);
      if (b) return { ...x, buffer: b };
    }
    return x;
  };
  const region = (r: Block['reads'][number]): Block['reads'][number] => ({
    buffer: sub(r.buffer),
    region: r.region.map((x) => ({ min: expr(x.min), extent: expr(x.extent) })),
  });
  const stmt = (x: Stmt): Stmt => {
    const m: StmtMapper = { stmt, expr };
    const y = mapStmtChildren(x, m);
    if (y.kind === 'store') return { ...y, buffer: sub(y.buffer) };
    if (y.kind === 'block_realize') {
      let name = y.block.name;
      for (let i = 1; taken.has(name); i++) name = `${y.block.name}_${i}`;
      taken.add(name);
      return { ...y, block: { ...y.block, name, reads: y.block.reads.map(region), writes: y.block.writes.map(region) } };
    }
    return y;
  };
  return stmt(s);
}
