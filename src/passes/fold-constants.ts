/**
 * fold-constants: evaluates at build time every operator call and call_tir
 * whose inputs are all constants, folds batch_norm into the convolution or
 * matmul before it, and drops what became dead.
 *
 * Values are computed by the kernel the build would run (an operator call is
 * legalized first) through an evaluator the caller supplies: the stage passes
 * the JavaScript kernels of the js target, so a folded value is bit for bit
 * what the CPU artifact would have computed at run time. Folded tensors are
 * new constants, content-addressed blobs like every weight.
 *
 * batch_norm(conv(x, W) [+ B], gamma, beta, mean, var) over the output
 * channels becomes conv(x, W * s) + (B - mean) * s + beta with
 * s = gamma / sqrt(var + eps), computed in float64 and rounded once; the same
 * for matmul(x, W) with a 2-D constant W normalised over its last axis. This
 * is exact in real arithmetic; in floating point it moves results by a few
 * ulps, as it does in every framework that folds batch norm.
 */
import { blobFromBytes } from '../ir/blob.ts';
import { byteSize, type DataType } from '../ir/dtype.ts';
import {
  type Binding,
  bindingBlock,
  type Constant,
  constant,
  type Expr,
  type GraphFunc,
  graphFunc,
  type GraphVar,
  ifExpr,
  intrinsicSinfo,
  mapExprChildren,
  opCall,
  type SeqExpr,
  seqExpr,
  varBinding,
} from '../ir/graph/expr.ts';
import type { StructInfo, TensorStructInfo } from '../ir/graph/struct-info.ts';
import { irModule, type IRModule, type ModuleFunction } from '../ir/module.ts';
import { constInt, type PrimExpr } from '../ir/prim/expr.ts';
import type { PrimFunc } from '../ir/tir/stmt.ts';
import { decodeValues, encodeValues } from '../ir/tensor-data.ts';
import { inferOpCall } from '../ops/index.ts';
import '../ops/legalize/index.ts';
import { lowerOpCall } from '../ops/legalize/lower-call.ts';
import { eliminateDeadCode } from './dce.ts';
import { VM_NATIVE_OPS } from './legalize.ts';
import type { Pass } from './registry.ts';

/**
 * Dequantized weights stay quantized: folding would store them 4 (int8) or 8 (4-bit) times
 * wider; fuse's dequantize-prologue widens them inside the matmul or convolution instead.
 */
const KEEP_NARROW: ReadonlySet<string> = new Set(['dequantize', 'dequantize_blockwise']);

/** A tensor known at build time. */
export interface FoldTensor {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Runs kernel `name` on constant inputs (scalars as numbers) and returns its outputs' bytes. */
export type KernelEvaluator = (
  name: string,
  f: PrimFunc,
  inputs: readonly (FoldTensor | number)[],
  outputs: readonly { readonly dtype: DataType; readonly shape: readonly number[] }[],
  scalars: readonly number[],
) => Uint8Array[];

export interface FoldOptions {
  readonly evaluate: KernelEvaluator;
  /** Results larger than this many bytes are left to run time (a broadcast can make a small constant huge). */
  readonly maxBytes?: number;
  /** Fold batch_norm into the convolution / matmul before it (default true). */
  readonly batchNorm?: boolean;
  /** Evaluate only call_tir of the kernels it accepts, no operator calls (the schedule stage folds its layout transforms). */
  readonly only?: (kernel: string) => boolean;
}

export const DEFAULT_FOLD_MAX_BYTES = 256 * 1024 * 1024;

export function foldConstants(options: FoldOptions): Pass {
  return { name: 'fold-constants', run: (m) => foldModule(m, options) };
}

export interface FoldStats {
  /** Calls replaced by their value. */
  folded: number;
  /** batch_norms folded into the weights before them. */
  batchNorms: number;
}

export function foldModule(m: IRModule, options: FoldOptions, stats: FoldStats = { folded: 0, batchNorms: 0 }): IRModule {
  let changed = false;
  const out = new Map<string, ModuleFunction>();
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func') {
      out.set(name, f);
      continue;
    }
    const folder = new Folder(m, name, options, stats);
    let g = folder.func(f);
    if (options.batchNorm ?? true) {
      const h = foldBatchNorms(g, stats);
      if (h !== g) g = folder.func(h);
    }
    if (g !== f) changed = true;
    out.set(name, g);
  }
  if (!changed) return m;
  return eliminateDeadCode(irModule(out, m.attrs));
}

// --- evaluation of constant calls ---------------------------------------------------------

function tensorOf(c: Constant): FoldTensor {
  return { dtype: c.dtype, shape: c.shape, bytes: c.blob.bytes() };
}

function staticShape(s: StructInfo | undefined): { dtype: DataType; shape: number[] } | undefined {
  if (s?.kind !== 'tensor' || !s.shape) return undefined;
  const shape: number[] = [];
  for (const d of s.shape) {
    const n = constInt(d);
    if (n === undefined) return undefined;
    shape.push(n);
  }
  return { dtype: s.dtype, shape };
}

function numberOf(e: PrimExpr): number | undefined {
  if (e.kind === 'int' || e.kind === 'float') return e.value;
  if (e.kind === 'bool') return e.value ? 1 : 0;
  return undefined;
}

class Folder {
  private readonly env = new Map<GraphVar, Constant>();

  constructor(
    private readonly m: IRModule,
    private readonly funcName: string,
    private readonly options: FoldOptions,
    private readonly stats: FoldStats,
  ) {}

  func(f: GraphFunc): GraphFunc {
    const body = this.seq(f.body);
    return body === f.body ? f : graphFunc(f.params, body, f.ret, f.attrs);
  }

  private seq(s: SeqExpr): SeqExpr {
    let changed = false;
    const blocks = s.blocks.map((blk) => {
      const bindings: Binding[] = blk.bindings.map((b) => {
        const nb = this.binding(b);
        if (nb !== b) changed = true;
        return nb;
      });
      return bindingBlock(bindings, blk.dataflow);
    });
    const body = this.subst(s.body);
    if (!changed && body === s.body) return s;
    return seqExpr(blocks, body);
  }

  private readonly subst = (e: Expr): Expr => {
    if (e.kind === 'graph_var') return this.env.get(e) ?? e;
    if (e.kind === 'if') return ifExpr(this.subst(e.cond), this.seq(e.then), this.seq(e.else));
    return mapExprChildren(e, { expr: this.subst, seq: (s) => this.seq(s) });
  };

  private binding(b: Binding): Binding {
    const value = this.subst(b.value);
    if (b.kind === 'match_cast') return value === b.value ? b : { ...b, value };
    if (value.kind === 'constant') {
      this.env.set(b.var, value);
      return value === b.value ? b : varBinding(b.var, value);
    }
    const folded = this.evaluate(value, b.var);
    if (folded) {
      this.stats.folded++;
      this.env.set(b.var, folded);
      return varBinding(b.var, folded);
    }
    return value === b.value ? b : varBinding(b.var, value);
  }

  private evaluate(e: Expr, v: GraphVar): Constant | undefined {
    if (e.kind === 'call' && KEEP_NARROW.has(e.op)) return undefined;
    if (this.options.only && (e.kind !== 'call_tir' || !this.options.only(e.func))) return undefined;
    if (e.kind === 'call' && !VM_NATIVE_OPS.has(e.op)) {
      const argInfo: StructInfo[] = [];
      for (const a of e.args) {
        const s = intrinsicSinfo(a);
        if (!s || !isStatic(a)) return undefined;
        argInfo.push(s);
      }
      if (!e.args.some((a) => a.kind === 'constant')) return undefined;
      let out: StructInfo;
      try {
        out = inferOpCall(e.op, argInfo, e.attrs);
      } catch {
        return undefined;
      }
      const where = `function '${this.funcName}', binding '${v.name}'`;
      let lowered;
      try {
        lowered = lowerOpCall(e, argInfo, out, where);
      } catch {
        return undefined; // no legalization: the call stays for run time
      }
      return this.run(e.op, lowered.func, lowered.args, lowered.tirVars, lowered.out);
    }
    if (e.kind === 'call_tir') {
      const f = this.m.functions.get(e.func);
      if (f?.kind !== 'prim_func') return undefined;
      if (!e.args.some((a) => a.kind === 'constant')) return undefined;
      return this.run(e.func, f, e.args, e.tirVars?.values ?? [], e.out);
    }
    return undefined;
  }

  private run(
    name: string,
    f: PrimFunc,
    args: readonly Expr[],
    tirVars: readonly PrimExpr[],
    out: StructInfo,
  ): Constant | undefined {
    const outShape = staticShape(out);
    if (!outShape) return undefined; // tuples and symbolic results stay
    const size = outShape.shape.reduce((a, b) => a * b, 1) * byteSize(outShape.dtype);
    if (size > (this.options.maxBytes ?? DEFAULT_FOLD_MAX_BYTES)) return undefined;
    const inputs: (FoldTensor | number)[] = [];
    for (const a of args) {
      if (a.kind === 'constant') inputs.push(tensorOf(a));
      else if (a.kind === 'prim_value' && numberOf(a.value) !== undefined) inputs.push(numberOf(a.value)!);
      else return undefined;
    }
    const scalars: number[] = [];
    for (const t of tirVars) {
      const n = numberOf(t);
      if (n === undefined) return undefined;
      scalars.push(n);
    }
    const [bytes] = this.options.evaluate(name, f, inputs, [outShape], scalars);
    return constant(blobFromBytes(bytes!), outShape.dtype, outShape.shape);
  }
}

/** A leaf whose value is known at build time: a constant, or a shape / prim / string of constants. */
function isStatic(e: Expr): boolean {
  switch (e.kind) {
    case 'constant':
    case 'string':
      return true;
    case 'shape':
      return e.values.every((v) => constInt(v) !== undefined);
    case 'prim_value':
      return numberOf(e.value) !== undefined;
    case 'tuple':
      return e.fields.every(isStatic);
    default:
      return false;
  }
}

// --- batch_norm into the weights before it -------------------------------------------------------

interface Def {
  readonly binding: Binding;
}

const CONVS = new Set(['conv1d', 'conv2d', 'conv3d']);

function floats(c: Constant): number[] | undefined {
  if (c.dtype !== 'float32' && c.dtype !== 'float64') return undefined;
  return decodeValues(c.blob.bytes(), c.dtype) as number[];
}

function makeConstant(values: readonly number[], dtype: DataType, shape: readonly number[]): Constant {
  return constant(blobFromBytes(encodeValues(values, dtype)), dtype, shape);
}

/** Counts the uses of every graph variable of a sequence (nested ones included). */
function countUses(s: SeqExpr, into: Map<GraphVar, number>): void {
  const expr = (e: Expr): void => {
    if (e.kind === 'graph_var') {
      into.set(e, (into.get(e) ?? 0) + 1);
      return;
    }
    if (e.kind === 'if') {
      expr(e.cond);
      countUses(e.then, into);
      countUses(e.else, into);
      return;
    }
    mapExprChildren(e, {
      expr: (x) => {
        expr(x);
        return x;
      },
      seq: (x) => x,
    });
  };
  for (const blk of s.blocks) for (const b of blk.bindings) expr(b.value);
  expr(s.body);
}

/** The per-channel scale and shift a batch_norm applies, in float64. */
function bnAffine(bn: Expr & { kind: 'call' }): { scale: number[]; shift: number[] } | undefined {
  const [, gamma, beta, mean, variance] = bn.args;
  if (gamma?.kind !== 'constant' || beta?.kind !== 'constant' || mean?.kind !== 'constant' || variance?.kind !== 'constant')
    return undefined;
  const g = floats(gamma);
  const b = floats(beta);
  const mu = floats(mean);
  const v = floats(variance);
  if (!g || !b || !mu || !v) return undefined;
  const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
  const useScale = bn.attrs.scale !== false;
  const useCenter = bn.attrs.center !== false;
  // Run time computes rsqrt(var + eps) with eps rounded to the tensor's dtype.
  const epsT = Math.fround(eps);
  const scale = v.map((x, i) => (useScale ? g[i]! : 1) / Math.sqrt(x + epsT));
  const shift = mu.map((x, i) => (useCenter ? b[i]! : 0) - x * scale[i]!);
  return { scale, shift };
}

/** Rewrites batch_norm(conv/matmul(x, W) [+ B]) with constant parameters into conv/matmul(x, W') + B'. */
export function foldBatchNorms(f: GraphFunc, stats: FoldStats = { folded: 0, batchNorms: 0 }): GraphFunc {
  const uses = new Map<GraphVar, number>();
  countUses(f.body, uses);
  const defs = new Map<GraphVar, Def>();
  for (const blk of f.body.blocks) for (const b of blk.bindings) defs.set(b.var, { binding: b });
  const replace = new Map<Binding, Binding>();

  for (const blk of f.body.blocks) {
    for (const b of blk.bindings) {
      const bn = b.value;
      if (b.kind !== 'bind' || bn.kind !== 'call' || bn.op !== 'batch_norm') continue;
      const data = bn.args[0];
      if (data?.kind !== 'graph_var' || uses.get(data) !== 1) continue;
      const affine = bnAffine(bn);
      if (!affine) continue;
      const dataInfo = data.sinfo as TensorStructInfo;
      if (dataInfo.kind !== 'tensor' || dataInfo.ndim < 1) continue;
      const axis = typeof bn.attrs.axis === 'number' ? (bn.attrs.axis < 0 ? bn.attrs.axis + dataInfo.ndim : bn.attrs.axis) : 1;
      // Optional bias: data = add(u, B) with B a constant along the channel axis only.
      let producerVar: GraphVar = data;
      let bias: Constant | undefined;
      const dataDef = defs.get(data)?.binding;
      if (dataDef?.value.kind === 'call' && dataDef.value.op === 'add') {
        const [u, c] = dataDef.value.args;
        if (u?.kind === 'graph_var' && c?.kind === 'constant' && uses.get(u) === 1) {
          producerVar = u;
          bias = c;
        }
      }
      const prod = defs.get(producerVar)?.binding;
      if (prod?.kind !== 'bind' || prod.value.kind !== 'call') continue;
      const call = prod.value;
      const weight = call.args[1];
      if (weight?.kind !== 'constant') continue;
      const w = floats(weight);
      if (!w || weight.dtype !== dataInfo.dtype) continue;
      const channels = affine.scale.length;
      let scaledW: number[];
      if (CONVS.has(call.op)) {
        const dl = call.attrs.data_layout;
        const kl = call.attrs.kernel_layout;
        if (axis !== 1 || (typeof dl === 'string' && !dl.startsWith('NC')) || (typeof kl === 'string' && !kl.startsWith('OI')))
          continue;
        if (call.attrs.out_dtype !== null && call.attrs.out_dtype !== undefined && call.attrs.out_dtype !== weight.dtype)
          continue;
        if (weight.shape[0] !== channels) continue;
        const per = w.length / channels;
        scaledW = w.map((x, i) => x * affine.scale[Math.floor(i / per)]!);
      } else if (call.op === 'matmul') {
        if (weight.shape.length !== 2 || axis !== dataInfo.ndim - 1 || weight.shape[1] !== channels) continue;
        if (call.attrs.out_dtype !== null && call.attrs.out_dtype !== undefined && call.attrs.out_dtype !== weight.dtype)
          continue;
        scaledW = w.map((x, i) => x * affine.scale[i % channels]!);
      } else continue;
      // The bias, if any, must vary along the channel axis only.
      let biasValues: number[] | undefined;
      if (bias) {
        const bv = floats(bias);
        if (!bv || bias.dtype !== weight.dtype || bv.length !== channels) continue;
        const rank = dataInfo.ndim;
        if (bias.shape.length > rank) continue;
        const at = rank - bias.shape.length;
        if (!bias.shape.every((d, i) => (i + at === axis ? d === channels : d === 1))) continue;
        biasValues = bv;
      }
      const shift = affine.shift.map((s, i) => s + (biasValues ? biasValues[i]! * affine.scale[i]! : 0));
      const biasShape = CONVS.has(call.op) ? [channels, ...Array.from({ length: dataInfo.ndim - 2 }, () => 1)] : [channels];
      const newW = makeConstant(scaledW, weight.dtype, weight.shape);
      const newBias = makeConstant(shift, weight.dtype, biasShape);
      replace.set(prod, varBinding(prod.var, opCall(call.op, [call.args[0]!, newW, ...call.args.slice(2)], call.attrs)));
      if (dataDef && producerVar !== data) replace.set(dataDef, varBinding(data, opCall('add', [producerVar, newBias])));
      replace.set(b, producerVar !== data ? varBinding(b.var, data) : varBinding(b.var, opCall('add', [producerVar, newBias])));
      stats.batchNorms++;
    }
  }
  if (replace.size === 0) return f;
  const blocks = f.body.blocks.map((blk) =>
    bindingBlock(
      blk.bindings.map((b) => replace.get(b) ?? b),
      blk.dataflow,
    ),
  );
  return graphFunc(f.params, seqExpr(blocks, f.body.body), f.ret, f.attrs);
}
