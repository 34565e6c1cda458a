/**
 * A small tensor-expression DSL that produces PrimFuncs:
 *
 *   const A = placeholder([n, 128], 'float32', 'A');
 *   const B = placeholder([128, 64], 'float32', 'B');
 *   const k = reduceAxis(128, 'k');
 *   const C = compute([n, 64], ([i, j]) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
 *   const f = createPrimFunc([A, B, C]);
 *
 * Each compute becomes one loop nest with one block; reductions get an
 * `init`. Computes that are not parameters become scratch buffers allocated
 * in the function, computed before the stages that read them.
 */
import { fail, M } from '../../support/messages.ts';
import { type AttrMap, NO_ATTRS } from '../attrs.ts';
import { type DataType, INDEX_DTYPE, intRange, isFloat } from '../dtype.ts';
import {
  add,
  binary,
  boolImm,
  floatImm,
  imm,
  intImm,
  load,
  mul,
  type PrimExpr,
  type PrimLike,
  type PrimVar,
  primVar,
  primVars,
  substitute,
  visitPrim,
} from '../prim/expr.ts';
import { type Buffer, buffer } from '../tir/buffer.ts';
import { inferBlockRegions } from '../tir/regions.ts';
import {
  allocate,
  block,
  blockRealize,
  forLoop,
  ifThenElse,
  type IterVar,
  letStmt,
  type PrimFunc,
  primFunc,
  type Range,
  range,
  seq,
  type Stmt,
  store,
} from '../tir/stmt.ts';

export interface Tensor {
  readonly name: string;
  readonly shape: readonly PrimExpr[];
  readonly dtype: DataType;
  readonly buffer: Buffer;
  /** Undefined for placeholders. */
  readonly stage?: Stage;
  /** Reads element `indices`. */
  at(...indices: PrimLike[]): PrimExpr;
}

export interface ReduceAxis {
  /** The variable to index with; it stands for the reduce iterator of each block that reduces over the axis. */
  readonly var: PrimVar;
  readonly dom: Range;
}

/** A commutative reducer over k values: identity and combination. */
export interface Reducer {
  readonly identity: (dtypes: readonly DataType[]) => PrimExpr[];
  readonly combine: (acc: readonly PrimExpr[], value: readonly PrimExpr[]) => PrimExpr[];
}

export interface Reduction {
  readonly kind: 'reduction';
  readonly reducer: Reducer;
  readonly sources: readonly PrimExpr[];
  readonly axes: readonly ReduceAxis[];
  /** Only values where this holds take part. */
  readonly where?: PrimExpr;
}

interface Stage {
  readonly outputs: readonly Tensor[];
  readonly spatial: readonly PrimVar[];
  readonly body: PrimExpr | Reduction;
  readonly name: string;
  readonly attrs: AttrMap;
}

type Dims = readonly PrimLike[];

function dims(shape: Dims): PrimExpr[] {
  return shape.map((d) => (typeof d === 'number' ? intImm(d, INDEX_DTYPE) : d));
}

function makeTensor(name: string, shape: readonly PrimExpr[], dtype: DataType, stage?: Stage): Tensor {
  const buf = buffer(name, shape, dtype);
  const t: Tensor = {
    name,
    shape,
    dtype,
    buffer: buf,
    ...(stage ? { stage } : {}),
    at: (...indices: PrimLike[]) => load(buf, indices),
  };
  TENSORS.set(buf, t);
  return t;
}

export function placeholder(shape: Dims, dtype: DataType, name: string): Tensor {
  return makeTensor(name, dims(shape), dtype);
}

export function reduceAxis(extent: PrimLike | Range, name = 'k'): ReduceAxis {
  const dom = typeof extent === 'number' || !('extent' in extent) ? range(0, extent) : extent;
  return { var: primVar(`v${name}`, dom.extent.dtype), dom };
}

const SPATIAL_NAMES = ['i', 'j'];
function spatialName(d: number, rank: number): string {
  return rank <= SPATIAL_NAMES.length ? SPATIAL_NAMES[d]! : `i${d}`;
}

/**
 * A tensor of `shape` whose element at `indices` is `f(indices)`; `f` may
 * return a reduction (`sum`, `max`, ...) over reduce axes.
 */
export function compute(
  shape: Dims,
  f: (indices: PrimVar[]) => PrimExpr | Reduction,
  name: string,
  attrs: AttrMap = NO_ATTRS,
): Tensor {
  return computeMany(shape, f, [name], attrs)[0]!;
}

/** Like compute, for a reduction of several values at once (argmax: index and value); one tensor per value. */
export function computeMany(
  shape: Dims,
  f: (indices: PrimVar[]) => PrimExpr | Reduction,
  names: readonly string[],
  attrs: AttrMap = NO_ATTRS,
): Tensor[] {
  const s = dims(shape);
  const spatial = s.map((d, i) => primVar(`v${spatialName(i, s.length)}`, d.dtype));
  const body = f(spatial);
  const dtypes = body.kind === 'reduction' ? body.sources.map((x) => x.dtype) : [body.dtype];
  if (dtypes.length !== names.length) {
    fail(M.irConstruction, { what: `compute ${names.join(', ')}`, problem: `${dtypes.length} values but ${names.length} names` });
  }
  const outputs: Tensor[] = [];
  const stage: Stage = { outputs, spatial, body, name: names[0]!, attrs };
  names.forEach((n, i) => outputs.push(makeTensor(n, s, dtypes[i]!, stage)));
  return outputs;
}

// --- reducers -------------------------------------------------------------------------------

// Integer literals hold safe integers only, so the 64-bit ends are clamped to ±(2^53 - 1).
function lowest(t: DataType): PrimExpr {
  return isFloat(t) ? floatImm(-Infinity, t) : imm(Math.max(intRange(t).min, Number.MIN_SAFE_INTEGER), t);
}

function highest(t: DataType): PrimExpr {
  return isFloat(t) ? floatImm(Infinity, t) : imm(Math.min(intRange(t).max, Number.MAX_SAFE_INTEGER), t);
}

const one = (reduce: (a: PrimExpr, b: PrimExpr) => PrimExpr, identity: (t: DataType) => PrimExpr): Reducer => ({
  identity: ([t]) => [identity(t!)],
  combine: ([a], [b]) => [reduce(a!, b!)],
});

export const SUM = one(
  (a, b) => add(a, b),
  (t) => imm(0, t),
);
export const PROD = one(
  (a, b) => mul(a, b),
  (t) => imm(1, t),
);
export const MAX = one((a, b) => binary('max', a, b), lowest);
export const MIN = one((a, b) => binary('min', a, b), highest);

export function reduction(
  reducer: Reducer,
  sources: readonly PrimExpr[],
  axes: readonly ReduceAxis[],
  where?: PrimExpr,
): Reduction {
  return { kind: 'reduction', reducer, sources, axes, ...(where ? { where } : {}) };
}

export const sum = (e: PrimExpr, axes: readonly ReduceAxis[], where?: PrimExpr): Reduction => reduction(SUM, [e], axes, where);
export const prod = (e: PrimExpr, axes: readonly ReduceAxis[], where?: PrimExpr): Reduction => reduction(PROD, [e], axes, where);
export const maxOf = (e: PrimExpr, axes: readonly ReduceAxis[], where?: PrimExpr): Reduction => reduction(MAX, [e], axes, where);
export const minOf = (e: PrimExpr, axes: readonly ReduceAxis[], where?: PrimExpr): Reduction => reduction(MIN, [e], axes, where);

// --- lowering -------------------------------------------------------------------------------

export interface CreateOptions {
  /** Scalar parameters after the buffers (symbolic values the kernel needs). */
  readonly scalars?: readonly PrimVar[];
  readonly attrs?: AttrMap;
}

/**
 * A PrimFunc whose parameters are the buffers of `params` (inputs and
 * outputs, in order). Every placeholder read must be a parameter.
 */
export function createPrimFunc(params: readonly Tensor[], options: CreateOptions = {}): PrimFunc {
  const isParam = new Set(params.map((t) => t.buffer));
  if (isParam.size !== params.length)
    fail(M.irConstruction, { what: 'createPrimFunc', problem: 'a tensor is a parameter twice' });
  const order: Stage[] = [];
  const visited = new Set<Stage>();
  const visit = (st: Stage): void => {
    if (visited.has(st)) return;
    visited.add(st);
    for (const input of stageInputs(st)) {
      const producer = TENSORS.get(input)?.stage;
      if (producer) visit(producer);
      else if (!isParam.has(input)) {
        fail(M.irConstruction, { what: `stage ${st.name}`, problem: `placeholder ${input.name} is read but is not a parameter` });
      }
    }
    order.push(st);
  };
  for (const t of params) if (t.stage) visit(t.stage);
  checkVariables(order, params, options.scalars ?? []);

  // Schedules find blocks by name, so two stages of one name get distinct block names.
  const blockNames = new Set<string>();
  const uniqueName = (hint: string): string => {
    let name = hint;
    for (let i = 1; blockNames.has(name); i++) name = `${hint}_${i}`;
    blockNames.add(name);
    return name;
  };
  let body: Stmt = seq(order.map((st) => lowerStage(st, uniqueName(st.name))));
  const scratch = order.flatMap((st) => st.outputs).filter((t) => !isParam.has(t.buffer));
  for (let i = scratch.length - 1; i >= 0; i--) body = allocate(scratch[i]!.buffer, body);
  return primFunc([...params.map((t) => t.buffer), ...(options.scalars ?? [])], body, options.attrs ?? NO_ATTRS);
}

/** Every variable a stage uses must be its own iterator or come from a parameter: a buffer's shape or a scalar. */
function checkVariables(order: readonly Stage[], params: readonly Tensor[], scalars: readonly PrimVar[]): void {
  const known = new Set<PrimVar>(scalars);
  for (const t of params) for (const d of t.shape) primVars(d, known);
  for (const st of order) {
    const own = new Set<PrimVar>(st.spatial);
    const used = new Set<PrimVar>();
    for (const t of st.outputs) for (const d of t.shape) primVars(d, used);
    if (st.body.kind === 'reduction') {
      for (const ax of st.body.axes) {
        own.add(ax.var);
        primVars(ax.dom.min, used);
        primVars(ax.dom.extent, used);
      }
      for (const e of st.body.sources) primVars(e, used);
      if (st.body.where) primVars(st.body.where, used);
    } else primVars(st.body, used);
    for (const v of used) {
      if (!own.has(v) && !known.has(v)) {
        fail(M.irConstruction, {
          what: `stage ${st.name}`,
          problem: `variable ${v.name} is neither in a parameter's shape nor a scalar parameter; pass it in options.scalars`,
        });
      }
    }
  }
}

/** Buffers read by a stage's expressions. */
function stageInputs(st: Stage): Buffer[] {
  const out: Buffer[] = [];
  const scan = (e: PrimExpr): void =>
    visitPrim(e, (x) => {
      if (x.kind === 'load' && !out.includes(x.buffer)) out.push(x.buffer);
    });
  if (st.body.kind === 'reduction') {
    st.body.sources.forEach(scan);
    if (st.body.where) scan(st.body.where);
    st.body.axes.forEach((a) => {
      scan(a.dom.min);
      scan(a.dom.extent);
    });
  } else scan(st.body);
  return out;
}

function lowerStage(st: Stage, blockName: string): Stmt {
  const outs = st.outputs;
  const shape = outs[0]!.shape;
  const loopVars = st.spatial.map((v) => primVar(v.name.slice(1), v.dtype));
  const iterVars: IterVar[] = st.spatial.map((v, i) => ({
    var: v,
    dom: range(intImm(0, shape[i]!.dtype), shape[i]!),
    iterKind: 'spatial',
  }));
  const values: PrimExpr[] = [...loopVars];
  let blockBody: Stmt;
  let init: Stmt | undefined;
  const point = st.spatial;
  const reduceLoops: { v: PrimVar; dom: Range }[] = [];
  if (st.body.kind === 'reduction') {
    const r = st.body;
    // A reduce axis may serve several stages (softmax's max and sum over one row); each
    // block gets an iterator of its own, since a variable is defined once per function.
    const own = new Map<PrimVar, PrimExpr>();
    for (const ax of r.axes) {
      const iv = primVar(ax.var.name, ax.var.dtype);
      own.set(ax.var, iv);
      const lv = primVar(ax.var.name.slice(1), ax.var.dtype);
      reduceLoops.push({ v: lv, dom: ax.dom });
      iterVars.push({ var: iv, dom: ax.dom, iterKind: 'reduce' });
      values.push(ax.dom.min.kind === 'int' && ax.dom.min.value === 0 ? lv : add(lv, ax.dom.min));
    }
    const dtypes = outs.map((t) => t.dtype);
    init = seq(r.reducer.identity(dtypes).map((v, i) => store(outs[i]!.buffer, point, v)));
    const acc = outs.map((t) => load(t.buffer, point));
    const combined = r.reducer.combine(
      acc,
      r.sources.map((x) => substitute(x, own)),
    );
    const where = r.where ? substitute(r.where, own) : undefined;
    let update: Stmt;
    if (combined.length === 1) update = store(outs[0]!.buffer, point, combined[0]!);
    else {
      // Several values: compute all of them before storing any, since each reads the old ones.
      const temps = combined.map((c, i) => primVar(`${outs[i]!.name}_new`, c.dtype));
      update = seq(outs.map((t, i) => store(t.buffer, point, temps[i]!)));
      for (let i = temps.length - 1; i >= 0; i--) update = letStmt(temps[i]!, combined[i]!, update);
    }
    blockBody = where ? ifThenElse(where, update) : update;
  } else {
    blockBody = store(outs[0]!.buffer, point, st.body);
  }
  const draft = block({ name: blockName, iterVars, body: blockBody, ...(init ? { init } : {}), annotations: st.attrs });
  const regions = inferBlockRegions(draft);
  let s: Stmt = blockRealize(values, { ...draft, reads: regions.reads, writes: regions.writes }, boolImm(true));
  for (let i = reduceLoops.length - 1; i >= 0; i--) {
    const { v } = reduceLoops[i]!;
    const dom = reduceLoops[i]!.dom;
    s = forLoop(v, intImm(0, dom.extent.dtype), dom.extent, s);
  }
  for (let i = loopVars.length - 1; i >= 0; i--) s = forLoop(loopVars[i]!, intImm(0, shape[i]!.dtype), shape[i]!, s);
  return s;
}

/** Tensors by buffer: a load names a buffer, the tensor behind it names the stage that computes it. */
const TENSORS = new WeakMap<Buffer, Tensor>();
