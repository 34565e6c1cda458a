/**
 * Runs one operator call the way a build does: a graph function with the
 * call, the legalize pass, then the kernels it made compiled by the
 * JavaScript code generator, on concrete inputs. Tests of legalizations
 * compare what this returns with a float64 reference.
 *
 * Values are plain numbers in Float64Arrays (bool as 0/1) whatever the dtype;
 * they are converted to and from each dtype's storage around the kernels.
 */
import { BlockBuilder } from '../../src/ir/builder/block-builder.ts';
import type { AttrMap } from '../../src/ir/attrs.ts';
import type { DataType } from '../../src/ir/dtype.ts';
import { type Expr, graphVar, type GraphVar, opCall, primValue, type SeqExpr, shapeExpr } from '../../src/ir/graph/expr.ts';
import { primSI, type StructInfo, tensorSI, tupleSI } from '../../src/ir/graph/struct-info.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { imm, type PrimExpr, type PrimVar, primVar } from '../../src/ir/prim/expr.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { emitJsKernels } from '../../src/codegen/js/module.ts';
import { queueGpuCheck } from './gpu-ops.ts';
import { queueWasmCheck } from './wasm-ops.ts';
import { evalPrim, randomArray } from './tir-interpreter.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { cpu, tensor } from '../../src/runtime/ndarray.ts';

export interface RefTensor {
  readonly shape: readonly number[];
  readonly dtype: DataType;
  readonly data: Float64Array;
}

/** One argument of the call. */
export type OpInput =
  | { readonly kind: 'tensor'; readonly value: RefTensor; readonly dims?: readonly (string | number)[] }
  | { readonly kind: 'tensors'; readonly values: readonly { value: RefTensor; dims?: readonly (string | number)[] }[] }
  | { readonly kind: 'shape'; readonly values: readonly (number | string)[] }
  | { readonly kind: 'prim'; readonly value: number; readonly dtype: DataType; readonly runtime: boolean };

/**
 * A tensor argument; `dims` gives its shape as the graph sees it: a name makes
 * that dimension symbolic (the same name in several arguments is one variable).
 */
export function tensorArg(value: RefTensor, dims?: readonly (string | number)[]): OpInput {
  return dims ? { kind: 'tensor', value, dims } : { kind: 'tensor', value };
}

export function tensorsArg(...values: { value: RefTensor; dims?: readonly (string | number)[] }[]): OpInput {
  return { kind: 'tensors', values };
}

/** A shape argument; a name refers to a symbolic dimension of a tensor argument. */
export function shapeArg(values: readonly (number | string)[]): OpInput {
  return { kind: 'shape', values };
}

/** A prim argument, known at compile time, or (runtime) a parameter of the function. */
export function primArg(value: number, dtype: DataType = 'int64', runtime = false): OpInput {
  return { kind: 'prim', value, dtype, runtime };
}

/** A random tensor (never constant): floats in [lo, hi), integers floored from them. */
export function randomRef(shape: readonly number[], dtype: DataType, seed: number, lo = -1, hi = 1): RefTensor {
  const v = randomArray(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  );
  return ref(shape, dtype, dtype.startsWith('float') ? v : v.map(Math.floor));
}

export function ref(shape: readonly number[], dtype: DataType, data: ArrayLike<number>): RefTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`shape [${shape.join(', ')}] needs ${size} values, got ${data.length}`);
  return { shape, dtype, data: Float64Array.from(data) };
}

type Value = RefTensor | readonly Value[] | number;

export interface OpRun {
  readonly outputs: RefTensor[];
  /** The module after legalization. */
  readonly module: IRModule;
}

export function runOp(op: string, inputs: readonly OpInput[], attrs: AttrMap = {}): OpRun {
  const vars = new Map<string, PrimVar>();
  const dim = (d: string | number): PrimExpr | number => {
    if (typeof d === 'number') return d;
    let v = vars.get(d);
    if (!v) vars.set(d, (v = primVar(d)));
    return v;
  };
  const tensorSinfo = (t: RefTensor, dims?: readonly (string | number)[]): StructInfo =>
    tensorSI((dims ?? t.shape).map(dim), t.dtype);

  const params: GraphVar[] = [];
  const paramValues: Value[] = [];
  const args: Expr[] = inputs.map((input, i) => {
    switch (input.kind) {
      case 'tensor': {
        const p = graphVar(`a${i}`, tensorSinfo(input.value, input.dims));
        params.push(p);
        paramValues.push(input.value);
        return p;
      }
      case 'tensors': {
        const p = graphVar(`a${i}`, tupleSI(input.values.map((x) => tensorSinfo(x.value, x.dims))));
        params.push(p);
        paramValues.push(input.values.map((x) => x.value));
        return p;
      }
      case 'shape':
        return shapeExpr(input.values.map((v) => (typeof v === 'number' ? v : dimVar(vars, v))));
      case 'prim': {
        if (!input.runtime) return primValue(imm(input.value, input.dtype));
        const p = graphVar(`a${i}`, primSI(input.dtype));
        params.push(p);
        paramValues.push(input.value);
        return p;
      }
    }
  });
  const bb = new BlockBuilder(opHooks);
  bb.function('main', params, () => bb.emit(opCall(op, args, attrs), 'out'));
  const module = legalizeModule(bb.getModule());
  const main = module.functions.get('main');
  if (main?.kind !== 'func') throw new Error('no main');

  const env = new Map<PrimVar, number>();
  const values = new Map<GraphVar, Value>();
  main.params.forEach((p, i) => {
    values.set(p, paramValues[i]!);
    bindShapes(p.sinfo, paramValues[i]!, env);
  });
  const result = evalSeq(main.body, module, env, values);
  const outputs = Array.isArray(result) ? (result as RefTensor[]) : [result as RefTensor];
  queueGpuCheck(op, module, paramValues, outputs);
  queueWasmCheck(op, module, paramValues, outputs);
  return { outputs, module };
}

function dimVar(vars: Map<string, PrimVar>, name: string): PrimVar {
  const v = vars.get(name);
  if (!v) throw new Error(`shape argument names '${name}', which no tensor argument has`);
  return v;
}

function bindShapes(s: StructInfo, v: Value, env: Map<PrimVar, number>): void {
  if (s.kind === 'tensor' && s.shape && typeof v === 'object' && 'shape' in v) {
    s.shape.forEach((d, k) => {
      if (d.kind === 'var' && !env.has(d)) env.set(d, v.shape[k]!);
    });
  } else if (s.kind === 'tuple' && Array.isArray(v)) {
    s.fields.forEach((f, i) => bindShapes(f, (v as readonly Value[])[i]!, env));
  } else if (s.kind === 'prim' && s.value?.kind === 'var' && typeof v === 'number' && !env.has(s.value)) {
    env.set(s.value, v);
  }
}

function evalSeq(s: SeqExpr, m: IRModule, env: Map<PrimVar, number>, values: Map<GraphVar, Value>): Value {
  for (const blk of s.blocks) {
    for (const b of blk.bindings) {
      const v = evalExpr(b.value, m, env, values);
      if (b.kind === 'match_cast') bindShapes(b.var.sinfo, v, env);
      values.set(b.var, v);
    }
  }
  return evalExpr(s.body, m, env, values);
}

function evalExpr(e: Expr, m: IRModule, env: Map<PrimVar, number>, values: Map<GraphVar, Value>): Value {
  switch (e.kind) {
    case 'graph_var': {
      const v = values.get(e);
      if (v === undefined) throw new Error(`no value for ${e.name}`);
      return v;
    }
    case 'tuple':
      return e.fields.map((f) => evalExpr(f, m, env, values));
    case 'tuple_get':
      return (evalExpr(e.tuple, m, env, values) as readonly Value[])[e.index]!;
    case 'prim_value':
      return evalPrim(e.value, env);
    case 'call_tir': {
      const f = m.functions.get(e.func);
      if (f?.kind !== 'prim_func') throw new Error(`no kernel ${e.func}`);
      const ins = e.args.map((a) => evalExpr(a, m, env, values));
      const outInfos = e.out.kind === 'tuple' ? e.out.fields : [e.out];
      const outs: RefTensor[] = outInfos.map((o) => {
        if (o.kind !== 'tensor' || !o.shape) throw new Error('call_tir output without a shape');
        const shape = o.shape.map((d) => evalPrim(d, env));
        return { shape, dtype: o.dtype, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
      });
      const tirVars = e.tirVars?.values.map((d) => evalPrim(d, env)) ?? [];
      const kernel = compileKernel(e.func, f);
      const outArrays = outs.map((o) => cpu.empty(o.shape, o.dtype));
      kernel([...ins.map(toKernelArg), ...outArrays, ...tirVars]);
      outArrays.forEach((o, i) => (outs[i] = { ...outs[i]!, data: Float64Array.from(o.toNumbers()) }));
      return e.out.kind === 'tuple' ? outs : outs[0]!;
    }
    default:
      throw new Error(`run-op cannot evaluate ${e.kind}`);
  }
}

type KernelFn = (args: readonly (NDArray | number)[]) => void;

/** The JS code generator's output for one kernel, made callable. */
function compileKernel(name: string, f: PrimFunc): KernelFn {
  const source = emitJsKernels(new Map([[name, f]])).replace('export const kernels =', 'return');
  // Evaluating generated code is the point here; artifacts load it as an ES module instead.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function(source) as () => Record<string, KernelFn>;
  const table = make();
  return table[name]!;
}

function toKernelArg(v: Value): NDArray | number {
  if (typeof v === 'number') return v;
  const t = v as RefTensor;
  return tensor(t.data, t.shape, t.dtype);
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| everywhere (NaN matches NaN,
 * infinities match exactly); the message reports the max abs and rel error and where.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol?: number; atol?: number } = {},
  what = '',
): { abs: number; rel: number } {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  let abs = 0;
  let rel = 0;
  let worst = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const d = Math.abs(a - e);
    if (!(d <= atol + rtol * Math.abs(e)) && worst < 0) worst = i;
    if (Number.isFinite(d)) {
      abs = Math.max(abs, d);
      rel = Math.max(rel, d / Math.max(Math.abs(e), 1e-30));
    } else abs = rel = Infinity;
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (max abs error ${abs}, max rel error ${rel}, rtol ${rtol}, atol ${atol})`,
    );
  }
  return { abs, rel };
}
