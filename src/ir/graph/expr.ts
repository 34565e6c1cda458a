/**
 * The graph IR: dataflow of tensor operators over symbolic shapes, in
 * A-normal form. Every call is the value of a binding; call arguments are
 * leaves (variables, constants, shapes, prim values, strings, tuples of
 * leaves). Graph functions call loop-level programs with `call_tir` and
 * external functions with `call_dps_packed`, both destination-passing style.
 */
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import type { Blob } from '../blob.ts';
import { byteSize, type DataType, INDEX_DTYPE } from '../dtype.ts';
import { intImm, mapArray, type PrimExpr } from '../prim/expr.ts';
import { fail, M } from '../../support/messages.ts';
import {
  type FuncStructInfo,
  OBJECT_SI,
  primSI,
  shapeSI,
  type StructInfo,
  tensorSI,
  type TensorStructInfo,
  type TupleStructInfo,
  tupleSI,
} from './struct-info.ts';

/** A graph variable; identity is the object. Dataflow variables may not escape their dataflow block. */
export interface GraphVar {
  readonly kind: 'graph_var';
  readonly name: string;
  readonly sinfo: StructInfo;
  readonly dataflow: boolean;
}

/** A tensor constant; its bytes are a blob referenced by content hash. */
export interface Constant {
  readonly kind: 'constant';
  readonly dtype: DataType;
  readonly shape: readonly number[];
  readonly blob: Blob;
}

export interface Tuple {
  readonly kind: 'tuple';
  readonly fields: readonly Expr[];
}

export interface TupleGetItem {
  readonly kind: 'tuple_get';
  readonly tuple: Expr;
  readonly index: number;
}

/** A shape value `shape(n, 4)`, computed from symbolic variables at run time. */
export interface ShapeExpr {
  readonly kind: 'shape';
  readonly values: readonly PrimExpr[];
}

export interface PrimValue {
  readonly kind: 'prim_value';
  readonly value: PrimExpr;
}

export interface StringImm {
  readonly kind: 'string';
  readonly value: string;
}

/** A call of a registered operator, with its attributes. */
export interface OpCall {
  readonly kind: 'call';
  readonly op: string;
  readonly args: readonly Expr[];
  readonly attrs: AttrMap;
}

/** A call of a graph function or an extern declaration of the module. */
export interface GlobalCall {
  readonly kind: 'call_global';
  readonly func: string;
  readonly args: readonly Expr[];
}

/** Calls a PrimFunc of the module, which writes outputs of `out` into fresh tensors. */
export interface CallTIR {
  readonly kind: 'call_tir';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly out: TensorStructInfo | TupleStructInfo;
  /** Symbolic variables the kernel needs but cannot read off its tensors' shapes. */
  readonly tirVars?: ShapeExpr;
  /**
   * Where the output goes, when memory is planned (plan-memory): a tensor made by
   * `alloc_tensor` over a planned storage. Without it the VM allocates the output.
   */
  readonly dst?: GraphVar;
}

/** Calls a registry function by symbol, destination-passing style. */
export interface CallDPSPacked {
  readonly kind: 'call_dps_packed';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly out: TensorStructInfo | TupleStructInfo;
}

export interface If {
  readonly kind: 'if';
  readonly cond: Expr;
  readonly then: SeqExpr;
  readonly else: SeqExpr;
}

export type Expr =
  | GraphVar
  | Constant
  | Tuple
  | TupleGetItem
  | ShapeExpr
  | PrimValue
  | StringImm
  | OpCall
  | GlobalCall
  | CallTIR
  | CallDPSPacked
  | If;

export type LeafExpr = GraphVar | Constant | Tuple | ShapeExpr | PrimValue | StringImm;

export interface VarBinding {
  readonly kind: 'bind';
  readonly var: GraphVar;
  readonly value: Expr;
}

/** Binds `var` to `value` after checking at run time that it matches `var.sinfo`; defines new symbolic variables. */
export interface MatchCast {
  readonly kind: 'match_cast';
  readonly var: GraphVar;
  readonly value: Expr;
}

export type Binding = VarBinding | MatchCast;

export interface BindingBlock {
  readonly dataflow: boolean;
  readonly bindings: readonly Binding[];
}

export interface SeqExpr {
  readonly kind: 'seq';
  readonly blocks: readonly BindingBlock[];
  readonly body: Expr;
}

export interface GraphFunc {
  readonly kind: 'func';
  readonly params: readonly GraphVar[];
  readonly body: SeqExpr;
  readonly ret: StructInfo;
  readonly attrs: AttrMap;
}

/** A function implemented outside the module, found in the runtime's registry by symbol. */
export interface ExternFunc {
  readonly kind: 'extern_func';
  readonly symbol: string;
  readonly sinfo: FuncStructInfo;
}

// --- factories ---------------------------------------------------------------

export function graphVar(name: string, sinfo: StructInfo, dataflow = false): GraphVar {
  return { kind: 'graph_var', name, sinfo, dataflow };
}

export function constant(blob: Blob, dtype: DataType, shape: readonly number[]): Constant {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(M.badConstant, { reason: `dimension ${d} is not a non-negative integer` });
  }
  const expected = shape.reduce((a, b) => a * b, 1) * byteSize(dtype);
  if (blob.byteLength !== expected) {
    fail(M.badConstant, { reason: `${dtype}[${shape.join(', ')}] needs ${expected} bytes, the blob has ${blob.byteLength}` });
  }
  return { kind: 'constant', dtype, shape, blob };
}

export function tuple(fields: readonly Expr[]): Tuple {
  return { kind: 'tuple', fields };
}

export function tupleGet(t: Expr, index: number): TupleGetItem {
  return { kind: 'tuple_get', tuple: t, index };
}

export function shapeExpr(values: readonly (PrimExpr | number)[]): ShapeExpr {
  return { kind: 'shape', values: values.map((v) => (typeof v === 'number' ? intImm(v, INDEX_DTYPE) : v)) };
}

export function primValue(value: PrimExpr): PrimValue {
  return { kind: 'prim_value', value };
}

export function stringImm(value: string): StringImm {
  return { kind: 'string', value };
}

export function opCall(op: string, args: readonly Expr[], attrs: AttrMap = NO_ATTRS): OpCall {
  return { kind: 'call', op, args, attrs };
}

export function globalCall(func: string, args: readonly Expr[]): GlobalCall {
  return { kind: 'call_global', func, args };
}

export function callTIR(
  func: string,
  args: readonly Expr[],
  out: TensorStructInfo | TupleStructInfo,
  tirVars?: ShapeExpr,
  dst?: GraphVar,
): CallTIR {
  return { kind: 'call_tir', func, args, out, ...(tirVars ? { tirVars } : {}), ...(dst ? { dst } : {}) };
}

export function callDPSPacked(func: string, args: readonly Expr[], out: TensorStructInfo | TupleStructInfo): CallDPSPacked {
  return { kind: 'call_dps_packed', func, args, out };
}

export function ifExpr(cond: Expr, then: SeqExpr, otherwise: SeqExpr): If {
  return { kind: 'if', cond, then, else: otherwise };
}

export function varBinding(v: GraphVar, value: Expr): VarBinding {
  return { kind: 'bind', var: v, value };
}

export function matchCast(v: GraphVar, value: Expr): MatchCast {
  return { kind: 'match_cast', var: v, value };
}

export function bindingBlock(bindings: readonly Binding[], dataflow = false): BindingBlock {
  return { dataflow, bindings };
}

/**
 * A sequence expression in normal form: empty blocks dropped and adjacent
 * non-dataflow blocks merged, so one program has one shape.
 */
export function seqExpr(blocks: readonly BindingBlock[], body: Expr): SeqExpr {
  const out: BindingBlock[] = [];
  for (const b of blocks) {
    if (b.bindings.length === 0) continue;
    const last = out[out.length - 1];
    if (last && !last.dataflow && !b.dataflow) out[out.length - 1] = bindingBlock([...last.bindings, ...b.bindings]);
    else out.push(b);
  }
  return { kind: 'seq', blocks: out, body };
}

export function graphFunc(params: readonly GraphVar[], body: SeqExpr, ret: StructInfo, attrs: AttrMap = NO_ATTRS): GraphFunc {
  return { kind: 'func', params, body, ret, attrs };
}

export function externFunc(symbol: string, sinfo: FuncStructInfo): ExternFunc {
  return { kind: 'extern_func', symbol, sinfo };
}

export function isLeaf(e: Expr): boolean {
  switch (e.kind) {
    case 'graph_var':
    case 'constant':
    case 'shape':
    case 'prim_value':
    case 'string':
      return true;
    case 'tuple':
      return e.fields.every(isLeaf);
    default:
      return false;
  }
}

export function constantSinfo(c: Constant): TensorStructInfo {
  return tensorSI(c.shape, c.dtype);
}

/**
 * The struct info of an expression whose type follows from its own parts:
 * leaves, tuple-get-item on a known tuple, and the calls that declare their
 * outputs. Operator calls, global calls and ifs get theirs from the binding.
 */
export function intrinsicSinfo(e: Expr): StructInfo | undefined {
  switch (e.kind) {
    case 'graph_var':
      return e.sinfo;
    case 'constant':
      return constantSinfo(e);
    case 'tuple': {
      const fields: StructInfo[] = [];
      for (const f of e.fields) {
        const s = intrinsicSinfo(f);
        if (!s) return undefined;
        fields.push(s);
      }
      return tupleSI(fields);
    }
    case 'tuple_get': {
      const t = intrinsicSinfo(e.tuple);
      return t?.kind === 'tuple' ? t.fields[e.index] : undefined;
    }
    case 'shape':
      return shapeSI(e.values);
    case 'prim_value':
      return primSI(e.value.dtype, e.value);
    case 'string':
      return OBJECT_SI;
    case 'call_tir':
    case 'call_dps_packed':
      return e.out;
    case 'call':
    case 'call_global':
    case 'if':
      return undefined;
  }
}

// --- generic traversal ------------------------------------------------------

export interface ExprMapper {
  expr: (e: Expr) => Expr;
  seq: (s: SeqExpr) => SeqExpr;
}

/** Rebuilds `e` with `m` applied to each direct child; returns `e` when nothing changed. */
export function mapExprChildren(e: Expr, m: ExprMapper): Expr {
  switch (e.kind) {
    case 'graph_var':
    case 'constant':
    case 'shape':
    case 'prim_value':
    case 'string':
      return e;
    case 'tuple': {
      const fields = mapArray(e.fields, m.expr);
      return fields === e.fields ? e : tuple(fields);
    }
    case 'tuple_get': {
      const t = m.expr(e.tuple);
      return t === e.tuple ? e : tupleGet(t, e.index);
    }
    case 'call_tir': {
      const args = mapArray(e.args, m.expr);
      const dst = e.dst ? m.expr(e.dst) : undefined;
      if (args === e.args && dst === e.dst) return e;
      if (dst !== undefined && dst.kind !== 'graph_var') throw new Error('the dst of call_tir must stay a variable');
      return { ...e, args, ...(dst ? { dst } : {}) };
    }
    case 'call':
    case 'call_global':
    case 'call_dps_packed': {
      const args = mapArray(e.args, m.expr);
      return args === e.args ? e : { ...e, args };
    }
    case 'if': {
      const cond = m.expr(e.cond);
      const then = m.seq(e.then);
      const otherwise = m.seq(e.else);
      return cond === e.cond && then === e.then && otherwise === e.else ? e : ifExpr(cond, then, otherwise);
    }
  }
}

/** Maps each binding of a sequence; `f` may drop a binding by returning undefined. */
export function mapBindings(
  s: SeqExpr,
  f: (b: Binding, block: BindingBlock) => Binding | undefined,
  body?: (e: Expr) => Expr,
): SeqExpr {
  let changed = false;
  const blocks = s.blocks.map((blk) => {
    const out: Binding[] = [];
    for (const b of blk.bindings) {
      const nb = f(b, blk);
      if (nb !== b) changed = true;
      if (nb) out.push(nb);
    }
    return bindingBlock(out, blk.dataflow);
  });
  const nbody = body ? body(s.body) : s.body;
  if (!changed && nbody === s.body) return s;
  return seqExpr(blocks, nbody);
}
