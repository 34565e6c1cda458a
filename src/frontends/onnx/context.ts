/**
 * What a converter sees of one ONNX node: its inputs as values, its
 * attributes with defaults, and ways to emit Kiln operator calls into the
 * graph function being built. Every tensor it emits has a symbolic shape:
 * a result whose shape inference cannot name (only its rank) is match_cast
 * to fresh symbolic dimensions right away, so converters can always read
 * shapes and shape subgraphs stay symbolic.
 */
import type { Analyzer } from '../../ir/arith/analyzer.ts';
import type { AttrMap } from '../../ir/attrs.ts';
import { blobFromBytes } from '../../ir/blob.ts';
import type { BlockBuilder } from '../../ir/builder/block-builder.ts';
import { type DataType, INDEX_DTYPE, intRange, isFloat } from '../../ir/dtype.ts';
import { constant, type Expr, type GraphVar, opCall, primValue, shapeExpr } from '../../ir/graph/expr.ts';
import { type StructInfo, tensorSI, type TensorStructInfo, tupleSI } from '../../ir/graph/struct-info.ts';
import { cast, constInt, imm, type PrimExpr, primVar } from '../../ir/prim/expr.ts';
import { encodeValues } from '../../ir/tensor-data.ts';
import { fail, M } from '../../support/messages.ts';
import { isKilnError } from '../../support/diagnostics.ts';
import type { AttributeProto, GraphProto, NodeProto, TensorProto } from './proto.ts';
import { fileRangeBlob, hashRange, readRange } from './file-blob.ts';
import { tensorData, TensorError } from './tensor.ts';
import { type KnownValue, KNOWN_LIMIT, knownSize, type TensorValue, type Value } from './values.ts';
import { decodeValues } from '../../ir/tensor-data.ts';

/** Shared by every node of one import. */
export interface ImportState {
  readonly file: string;
  readonly dir: string | undefined;
  readonly bb: BlockBuilder;
  readonly analyzer: Analyzer;
  /** Default-domain opset version. */
  readonly opset: number;
  /** Symbol names in use, so fresh ones do not collide. */
  readonly symbols: Set<string>;
  /**
   * Converts a subgraph (a branch of If, the body of Loop or Scan) into the current scope of
   * the block builder: its inputs bound to `inputs`, names of the enclosing graphs visible
   * (ONNX scoping); returns its outputs.
   */
  readonly subgraph: (g: GraphProto, inputs: readonly Value[], names?: ReadonlyMap<string, Value>) => Value[];
  /** The value a name has where the current node is converted. */
  readonly lookup: (name: string) => Value | undefined;
}

const ATTR_TYPE_NAMES: Record<number, string> = {
  1: 'float',
  2: 'int',
  3: 'string',
  4: 'tensor',
  5: 'graph',
  6: 'floats',
  7: 'ints',
  8: 'strings',
  9: 'tensors',
  10: 'graphs',
};

/** Reads a node's attributes with their types checked. */
export class Attributes {
  private readonly byName: Map<string, AttributeProto>;

  constructor(
    attrs: readonly AttributeProto[],
    private readonly fail: (problem: string) => never,
  ) {
    this.byName = new Map(attrs.map((a) => [a.name, a]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: number): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== 0 && a.type !== type) {
      this.fail(`attribute '${name}' is a ${ATTR_TYPE_NAMES[a.type] ?? a.type}, expected ${ATTR_TYPE_NAMES[type]}`);
    }
    return a;
  }

  int(name: string, def?: number): number {
    const a = this.get(name, 2);
    if (a) return Number(a.i);
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return def;
  }

  ints(name: string, def?: readonly number[]): number[] {
    const a = this.get(name, 7);
    if (a) return a.ints.map(Number);
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return [...def];
  }

  float(name: string, def?: number): number {
    const a = this.get(name, 1);
    if (a) return a.f;
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return def;
  }

  floats(name: string, def?: readonly number[]): number[] {
    const a = this.get(name, 6);
    if (a) return [...a.floats];
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return [...def];
  }

  string(name: string, def?: string): string {
    const a = this.get(name, 3);
    if (a) return new TextDecoder().decode(a.s);
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return def;
  }

  strings(name: string, def?: readonly string[]): string[] {
    const a = this.get(name, 8);
    if (a) return a.strings.map((s) => new TextDecoder().decode(s));
    if (def === undefined) return this.fail(`attribute '${name}' is required`);
    return [...def];
  }

  tensor(name: string): TensorProto | undefined {
    return this.get(name, 4)?.t;
  }

  graph(name: string): GraphProto | undefined {
    return this.get(name, 5)?.g;
  }
}

export class NodeContext {
  readonly attr: Attributes;
  readonly opType: string;
  /** The node's name, or its op type and position when it has none. */
  readonly name: string;

  constructor(
    readonly node: NodeProto,
    index: number,
    private readonly inputs: readonly (Value | undefined)[],
    private readonly state: ImportState,
  ) {
    this.opType = node.op_type;
    this.name = node.name || `${node.op_type}_${index}`;
    this.attr = new Attributes(node.attribute, (p) => this.fail(p));
  }

  get opset(): number {
    return this.state.opset;
  }

  get analyzer(): Analyzer {
    return this.state.analyzer;
  }

  /** The block builder, for converters that build control flow (If, Loop, Scan). */
  get builder(): BlockBuilder {
    return this.state.bb;
  }

  /** Converts subgraph `g` with its inputs bound to `inputs` (see ImportState.subgraph). */
  subgraph(g: GraphProto, inputs: readonly Value[], names?: ReadonlyMap<string, Value>): Value[] {
    return this.state.subgraph(g, inputs, names);
  }

  /** The value of an enclosing graph's name (what a subgraph reads from outside). */
  lookup(name: string): Value | undefined {
    return this.state.lookup(name);
  }

  /** Fails the import with a message that names the node, its op type and the opset. */
  fail(problem: string): never {
    return fail(M.onnxNode, { file: this.state.file, node: this.name, op: this.opType, opset: this.opset, problem });
  }

  // --- inputs -------------------------------------------------------------------------

  get inputCount(): number {
    return this.inputs.length;
  }

  /** Whether optional input `i` was given. */
  has(i: number): boolean {
    return this.inputs[i] !== undefined;
  }

  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) return this.fail(`input ${i} is required`);
    return v;
  }

  /** Input `i` when it is known at import time. */
  known(i: number): KnownValue | undefined {
    const v = this.inputs[i];
    return v?.kind === 'known' ? v : undefined;
  }

  /** Input `i` as integers, when it is known and every element is a literal. */
  knownInts(i: number): number[] | undefined {
    const k = this.known(i);
    if (!k) return undefined;
    const out: number[] = [];
    for (const e of k.values) {
      const n = literalNumber(e);
      if (n === undefined) return undefined;
      out.push(n);
    }
    return out;
  }

  /** Input `i` as a graph tensor (a known value becomes a constant, or a small computed tensor). */
  tensor(i: number): TensorValue {
    return this.materialize(this.input(i));
  }

  dtype(i: number): DataType {
    const v = this.input(i);
    return v.kind === 'tensor' ? v.sinfo.dtype : v.dtype;
  }

  /** The shape of input `i` (symbolic dims). */
  shape(i: number): readonly PrimExpr[] {
    const v = this.input(i);
    return v.kind === 'tensor' ? v.sinfo.shape : v.shape.map((d) => imm(d, INDEX_DTYPE));
  }

  rank(i: number): number {
    return this.shape(i).length;
  }

  // --- emitting -----------------------------------------------------------------------

  /**
   * Emits `op(args)`: tensors (values), or graph expressions for shape and prim
   * arguments (`this.shapeArg(...)`, `this.primArg(...)`).
   */
  op(name: string, args: readonly (Value | Expr)[], attrs: AttrMap = {}): TensorValue {
    const v = this.emitCall(name, args, attrs);
    return this.withKnownShape(v.sinfo, v);
  }

  /** An operator with several results (split, topk): one value per field of its tuple result. */
  opTuple(name: string, args: readonly (Value | Expr)[], attrs: AttrMap = {}): TensorValue[] {
    const t = this.emitCall(name, args, attrs);
    if (t.sinfo.kind !== 'tuple') return this.fail(`${name} did not give a tuple`);
    return t.sinfo.fields.map((f, i) => {
      const item = this.state.bb.emit({ kind: 'tuple_get', tuple: t, index: i }, 'lv', f);
      return this.withKnownShape(f, item);
    });
  }

  /**
   * An operator whose result sizes only the data decides (nonzero, unique): its
   * result, which inference knows by rank only, is match_cast to `results`
   * (sizes the node names with fresh symbols, see `sizeSymbol`), one value per tensor.
   */
  dataDependent(
    name: string,
    args: readonly (Value | Expr)[],
    attrs: AttrMap,
    results: readonly TensorStructInfo[],
  ): TensorValue[] {
    const single = results.length === 1;
    const cast = this.bindSizes(name, args, attrs, single ? results[0]! : tupleSI(results));
    if (single) return [{ kind: 'tensor', expr: cast, sinfo: results[0] as TensorValue['sinfo'] }];
    return results.map((s, i) => {
      const item = this.state.bb.emit({ kind: 'tuple_get', tuple: cast, index: i }, 'lv', s);
      return { kind: 'tensor', expr: item, sinfo: s as TensorValue['sinfo'] };
    });
  }

  /** An operator whose result is not a tensor (check_slice_bounds' shape): the graph variable bound to it. */
  opValue(name: string, args: readonly (Value | Expr)[], attrs: AttrMap = {}): Expr {
    return this.emitCall(name, args, attrs);
  }

  /** Emits `name(args)` and match_casts its result to `sinfo`, binding the fresh symbols in it at run time. */
  bindSizes(name: string, args: readonly (Value | Expr)[], attrs: AttrMap, sinfo: StructInfo): GraphVar {
    return this.state.bb.matchCast(this.emitCall(name, args, attrs), sinfo, 'lv');
  }

  /** A fresh symbolic size named after this node: `what` the data decides at run time. */
  sizeSymbol(what: string): PrimExpr {
    return primVar(this.freshSymbol(`${sanitize(this.name)}_${what}`));
  }

  /** Emits `name(args)`; an operator's complaint (a shape, a dtype) is reported as this node's. */
  private emitCall(name: string, args: readonly (Value | Expr)[], attrs: AttrMap): GraphVar {
    const exprs = args.map((a) => (isValue(a) ? this.materialize(a).expr : a));
    try {
      return this.state.bb.emit(opCall(name, exprs, attrs), 'lv');
    } catch (e) {
      if (isKilnError(e)) this.fail(e.diagnostics[0]!.message);
      throw e;
    }
  }

  /** A shape argument `shape(d0, d1, ...)`. */
  shapeArg(dims: readonly (PrimExpr | number)[]): Expr {
    return shapeExpr(dims.map((d) => (typeof d === 'number' ? d : this.simplify(d))));
  }

  /** A prim argument `prim(e)`. */
  primArg(e: PrimExpr): Expr {
    return primValue(this.simplify(e));
  }

  simplify(e: PrimExpr): PrimExpr {
    return this.state.analyzer.simplify(e);
  }

  /** A value known at import time. */
  knownValue(dtype: DataType, shape: readonly number[], values: readonly PrimExpr[]): KnownValue {
    if (values.length !== knownSize(shape))
      throw new Error(`known value of shape [${shape.join(', ')}] with ${values.length} values`);
    return { kind: 'known', dtype, shape, values: values.map((v) => this.simplify(castTo(v, dtype))) };
  }

  /** A graph constant of `dtype` with these elements. */
  constant(dtype: DataType, shape: readonly number[], values: readonly number[]): TensorValue {
    return constantValue(dtype, shape, encodeValues(values, dtype));
  }

  /** Makes any value a graph tensor. */
  materialize(v: Value): TensorValue {
    if (v.kind === 'tensor') return v;
    const literals = v.values.map(literalNumber);
    if (literals.every((x) => x !== undefined)) return this.constant(v.dtype, v.shape, literals);
    // Symbolic elements (a shape computed by the model used as data): one full() per element, concatenated.
    const parts = v.values.map((e) =>
      this.op('full', [this.shapeArg([1]), this.primArg(castTo(e, v.dtype))], { dtype: v.dtype }),
    );
    const flat = parts.length === 1 ? parts[0]! : this.op('concat', [tupleOf(parts)], { axis: 0 });
    return v.shape.length === 1 ? flat : this.op('reshape', [flat, this.shapeArg(v.shape)]);
  }

  /** A bound value whose shape inference gave only a rank gets fresh symbolic dims. */
  private withKnownShape(s: StructInfo, v: Expr): TensorValue {
    if (s.kind !== 'tensor') return this.fail(`expected a tensor result, found ${s.kind}`);
    if (s.shape) return { kind: 'tensor', expr: v, sinfo: s as TensorValue['sinfo'] };
    if (s.ndim < 0) return this.fail('the rank of a result is not known; Kiln needs ranks to be known');
    const dims = Array.from({ length: s.ndim }, (_, i) => primVar(this.freshSymbol(`${sanitize(this.name)}_d${i}`)));
    const sinfo = tensorSI(dims, s.dtype) as TensorValue['sinfo'];
    const cast = this.state.bb.matchCast(v, sinfo, 'lv');
    return { kind: 'tensor', expr: cast, sinfo };
  }

  freshSymbol(hint: string): string {
    let name = hint;
    for (let i = 1; this.state.symbols.has(name); i++) name = `${hint}_${i}`;
    this.state.symbols.add(name);
    return name;
  }

  /** Reads a TensorProto (an attribute's value) as a known value when small, else a constant. */
  tensorProto(t: TensorProto): Value {
    return protoValue(t, this.state.dir, (p) => this.fail(p), this.state.file);
  }
}

function isValue(a: Value | Expr): a is Value {
  return (a as Value).kind === 'tensor' || (a as Value).kind === 'known';
}

function tupleOf(parts: readonly TensorValue[]): Expr {
  return { kind: 'tuple', fields: parts.map((p) => p.expr) };
}

export function sanitize(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
  return s || 'v';
}

/** The number a literal stands for (bools as 0/1); undefined for a symbolic expression. */
export function literalNumber(e: PrimExpr): number | undefined {
  if (e.kind === 'int' || e.kind === 'float') return e.value;
  if (e.kind === 'bool') return e.value ? 1 : 0;
  return constInt(e);
}

/**
 * A literal of `dtype`. Integers beyond ±(2^53 - 1) are clamped there: ONNX writes "to the end"
 * as INT64_MAX (Slice), and any such bound means the same once clamped.
 */
export function literal(n: number, dtype: DataType): PrimExpr {
  if (isFloat(dtype)) return imm(n, dtype);
  if (dtype === 'bool') return imm(n !== 0 ? 1 : 0, dtype);
  const r = intRange(dtype);
  const lo = Math.max(r.min, -Number.MAX_SAFE_INTEGER);
  const hi = Math.min(r.max, Number.MAX_SAFE_INTEGER);
  return imm(Number.isFinite(n) ? Math.max(lo, Math.min(hi, Math.trunc(n))) : 0, dtype);
}

function castTo(e: PrimExpr, dtype: DataType): PrimExpr {
  if (e.dtype === dtype) return e;
  const n = literalNumber(e);
  if (n !== undefined) return literal(n, dtype);
  return cast(dtype, e);
}

export function constantValue(dtype: DataType, shape: readonly number[], bytes: Uint8Array): TensorValue {
  const c = constant(blobFromBytes(bytes), dtype, shape);
  return { kind: 'tensor', expr: c, sinfo: tensorSI(shape, dtype) as TensorValue['sinfo'] };
}

/** An initializer or attribute tensor: known when small, a constant otherwise. */
export function protoValue(
  t: TensorProto,
  dir: string | undefined,
  failWith: (problem: string) => never,
  file = '<model>',
): Value {
  let td;
  try {
    td = tensorData(t, dir);
  } catch (e) {
    if (e instanceof TensorError) return failWith(e.message);
    throw e;
  }
  if ('range' in td && knownSize(td.shape) > KNOWN_LIMIT) {
    // Weights in a file stay there: hashed as they stream past (once), read again when used.
    const blob = fileRangeBlob(td.range, td.hash ?? hashRange(td.range, file), file);
    const c = constant(blob, td.dtype, td.shape);
    return { kind: 'tensor', expr: c, sinfo: tensorSI(td.shape, td.dtype) as TensorValue['sinfo'] };
  }
  const tb = 'bytes' in td ? td : { ...td, bytes: readRange(td.range, file) };
  if (knownSize(tb.shape) <= KNOWN_LIMIT) {
    const values = decodeValues(tb.bytes, tb.dtype).map((v) =>
      literal(typeof v === 'boolean' ? (v ? 1 : 0) : Number(v), tb.dtype),
    );
    return { kind: 'known', dtype: tb.dtype, shape: tb.shape, values };
  }
  return constantValue(tb.dtype, tb.shape, tb.bytes);
}

export type { TensorStructInfo };
