/**
 * Turns one operator call into a PrimFunc and the arguments of the call_tir
 * that replaces it.
 *
 * The kernel's parameters are, in order: the call's tensor arguments (a tuple
 * of tensors gives one parameter per field) and its prim arguments whose
 * value is only known at run time, then the outputs, then the symbolic
 * variables the kernel cannot read off a dimension of its own buffers
 * (passed as call_tir's tir_vars). Calls that differ only in the names of
 * their symbolic variables give structurally equal kernels, so the pass
 * shares them.
 */
import { Analyzer } from '../../ir/arith/analyzer.ts';
import type { AttrValue } from '../../ir/attrs.ts';
import { createPrimFunc, placeholder, type Tensor } from '../../ir/builder/te.ts';
import { type Expr, type OpCall, tupleGet } from '../../ir/graph/expr.ts';
import type { StructInfo, TensorStructInfo } from '../../ir/graph/struct-info.ts';
import { type PrimExpr, type PrimVar, primVar, primVars } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type PrimFunc, primFunc } from '../../ir/tir/stmt.ts';
import { printStructInfo } from '../../ir/text/printer.ts';
import { fail, M } from '../../support/messages.ts';
import { type ArgSpec, getOp, normalizeAttrs } from '../registry.ts';
import { fmtExpr } from '../shape.ts';
import { getLegalization, isHandWritten, type LegalizeCall } from './registry.ts';

export interface LoweredCall {
  readonly func: PrimFunc;
  /** The call_tir's inputs: graph tensors (tuple_get of a tuple argument's fields) and run-time prims. */
  readonly args: readonly Expr[];
  /** Values of the symbolic variables passed as tir_vars, in the graph's variables. */
  readonly tirVars: readonly PrimExpr[];
  /** The call_tir's `out`. */
  readonly out: TensorStructInfo | { readonly kind: 'tuple'; readonly fields: readonly TensorStructInfo[] };
}

type KernelInput =
  | { readonly kind: 'tensor'; readonly t: Tensor; readonly arg: Expr }
  | { readonly kind: 'prim'; readonly v: PrimVar; readonly arg: Expr };

/**
 * Lowers `call`, whose arguments have struct info `argInfo` (every tensor's
 * shape known) and whose result is `out`. Fails with K7101 when the operator
 * has no legalization and K7102 when this call cannot be legalized; `where`
 * (the function and binding) starts those messages.
 */
export function lowerOpCall(call: OpCall, argInfo: readonly StructInfo[], out: StructInfo, where: string): LoweredCall {
  const def = getOp(call.op);
  const legalize = getLegalization(call.op);
  if (!legalize) fail(M.noLegalization, { where, op: call.op });
  const cannot = (problem: string): never => fail(M.cannotLegalize, { where, op: call.op, problem });

  const inputs: KernelInput[] = [];
  const byName = new Map<string, { spec: ArgSpec; value: unknown }>();
  def.args.forEach((spec, i) => {
    const s = argInfo[i];
    const arg = call.args[i];
    if (s === undefined || arg === undefined) return;
    byName.set(spec.name, { spec, value: argValue(spec, s, arg, inputs, cannot) });
  });
  const results = resultTensors(out, cannot);
  const attrs = normalizeAttrs(call.op, call.attrs);

  const get = (name: string, kinds: readonly string[]): unknown => {
    const a = byName.get(name);
    if (!a)
      throw new Error(
        `legalization of ${call.op} asked for argument '${name}', which ${def.args.some((x) => x.name === name) ? 'was not given' : 'does not exist'}`,
      );
    if (!kinds.includes(a.spec.kind) && !(a.spec.kind === 'scalar' && kinds.includes('prim'))) {
      throw new Error(`legalization of ${call.op} asked for argument '${name}' as ${kinds.join('/')}, it is ${a.spec.kind}`);
    }
    return a.value;
  };
  const result = (i = 0): TensorStructInfo & { shape: readonly PrimExpr[] } => {
    const r = results[i];
    if (!r) throw new Error(`legalization of ${call.op} asked for result ${i} of ${results.length}`);
    return r;
  };
  const ctx: LegalizeCall = {
    op: call.op,
    attrs,
    out,
    attr: <T extends AttrValue>(name: string): T => {
      if (!(name in attrs)) throw new Error(`legalization of ${call.op} asked for attribute '${name}', which it does not have`);
      return attrs[name] as T;
    },
    optionalAttr: <T extends AttrValue>(name: string): T | undefined => {
      const v = attrs[name];
      return v === undefined || v === null ? undefined : (v as T);
    },
    tensor: (name) => get(name, ['tensor']) as Tensor,
    tensors: (name) => get(name, ['tensors']) as Tensor[],
    shape: (name) => get(name, ['shape']) as PrimExpr[],
    prim: (name) => get(name, ['prim']) as PrimExpr,
    scalar: (name) => get(name, ['scalar', 'prim']) as PrimExpr,
    has: (name) => byName.has(name),
    result,
    outShape: (i = 0) => result(i).shape,
    outDtype: (i = 0) => result(i).dtype,
  };

  const produced = legalize(ctx);
  const outBuffers: Buffer[] = isHandWritten(produced)
    ? [...produced.outputs]
    : (Array.isArray(produced) ? (produced as readonly Tensor[]) : [produced as Tensor]).map((t) => t.buffer);
  checkOutputs(call.op, outBuffers, results);

  // Every symbolic variable that reaches the kernel comes from an argument's shape, a shape or
  // prim argument's value, or the result's shape; those that stand alone as a dimension of one
  // of the kernel's buffers are read off it at run time, the others are passed.
  const tensorInputs = inputs.filter((x) => x.kind === 'tensor');
  const bindable = new Set<PrimVar>();
  for (const b of [...tensorInputs.map((x) => x.t.buffer), ...outBuffers]) {
    for (const d of b.shape) if (d.kind === 'var') bindable.add(d);
  }
  const candidates = new Set<PrimVar>();
  const scan = (e: PrimExpr): void => void primVars(e, candidates);
  for (const x of tensorInputs) x.t.shape.forEach(scan);
  for (const [, a] of byName) scanValue(a.value, scan);
  for (const r of results) r.shape.forEach(scan);
  const runtimePrims = new Set(inputs.flatMap((x) => (x.kind === 'prim' ? [x.v] : [])));
  const passed = [...candidates].filter((v) => !bindable.has(v) && !runtimePrims.has(v));

  const kernelFunc = isHandWritten(produced)
    ? primFunc([...inputs.map((x) => (x.kind === 'tensor' ? x.t.buffer : x.v)), ...outBuffers, ...passed], produced.body)
    : createPrimFunc(
        [...tensorInputs.map((x) => x.t), ...(Array.isArray(produced) ? (produced as readonly Tensor[]) : [produced as Tensor])],
        { scalars: [...runtimePrims, ...passed] },
      );
  // createPrimFunc puts buffers before scalars; the call passes its inputs in argument order.
  const func = isHandWritten(produced) ? kernelFunc : reorderParams(kernelFunc, inputs, outBuffers, passed);
  const outSinfo = results.length === 1 && out.kind === 'tensor' ? results[0]! : { kind: 'tuple' as const, fields: results };
  return { func, args: inputs.map((x) => x.arg), tirVars: passed, out: outSinfo };
}

function argValue(spec: ArgSpec, s: StructInfo, arg: Expr, inputs: KernelInput[], cannot: (problem: string) => never): unknown {
  const tensorInput = (t: TensorStructInfo, name: string, graphArg: Expr): Tensor => {
    if (!t.shape) cannot(`argument '${spec.name}' has no known shape (${printStructInfo(t)})`);
    const p = placeholder(t.shape, t.dtype, name);
    inputs.push({ kind: 'tensor', t: p, arg: graphArg });
    return p;
  };
  const runtimePrim = (): PrimExpr => {
    if (s.kind !== 'prim') return cannot(`argument '${spec.name}' must be a prim value`);
    if (s.value) return s.value;
    const v = primVar(spec.name, s.dtype);
    inputs.push({ kind: 'prim', v, arg });
    return v;
  };
  switch (spec.kind) {
    case 'tensor':
      if (s.kind !== 'tensor') return cannot(`argument '${spec.name}' must be a tensor`);
      return tensorInput(s, spec.name, arg);
    case 'tensors': {
      if (s.kind !== 'tuple') return cannot(`argument '${spec.name}' must be a tuple of tensors`);
      const fields = arg.kind === 'tuple' ? arg.fields : s.fields.map((_, i) => tupleGet(arg, i));
      return s.fields.map((f, i) => {
        if (f.kind !== 'tensor') return cannot(`field ${i} of argument '${spec.name}' must be a tensor`);
        return tensorInput(f, `${spec.name}${i}`, fields[i]!);
      });
    }
    case 'shape':
      if (s.kind !== 'shape' || !s.values) return cannot(`the values of shape argument '${spec.name}' are not known`);
      return s.values;
    case 'prim':
      return runtimePrim();
    case 'scalar':
      if (s.kind === 'tensor') {
        if (s.ndim !== 0) return cannot(`argument '${spec.name}' must be a 0-d tensor`);
        return tensorInput(s, spec.name, arg).at();
      }
      return runtimePrim();
  }
}

function scanValue(v: unknown, scan: (e: PrimExpr) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) scanValue(x, scan);
    return;
  }
  if (v && typeof v === 'object' && 'kind' in v) {
    const k = (v as { kind: string }).kind;
    // Tensors are scanned through their shapes; a 0-d tensor's element is a load.
    if (k !== 'load' && !('buffer' in v && 'at' in v)) scan(v as PrimExpr);
  }
}

function resultTensors(
  out: StructInfo,
  cannot: (problem: string) => never,
): (TensorStructInfo & { shape: readonly PrimExpr[] })[] {
  const fields = out.kind === 'tuple' ? out.fields : [out];
  return fields.map((f, i) => {
    if (f.kind !== 'tensor') return cannot(`its result ${out.kind === 'tuple' ? `field ${i} ` : ''}is not a tensor`);
    if (!f.shape) return cannot(`the shape of its result is not known at compile time (${printStructInfo(f)})`);
    return f as TensorStructInfo & { shape: readonly PrimExpr[] };
  });
}

/** A legalization that disagrees with the operator's inference is a bug in Kiln, not a user error. */
function checkOutputs(op: string, outs: readonly Buffer[], results: readonly TensorStructInfo[]): void {
  const analyzer = new Analyzer();
  const bug = (problem: string): never => {
    throw new Error(`the legalization of ${op} disagrees with its inference: ${problem}`);
  };
  if (outs.length !== results.length) bug(`${outs.length} outputs, inference says ${results.length}`);
  outs.forEach((b, i) => {
    const r = results[i]!;
    if (b.dtype !== r.dtype) bug(`output ${i} is ${b.dtype}, inference says ${r.dtype}`);
    const shape = r.shape!;
    if (b.shape.length !== shape.length) bug(`output ${i} has rank ${b.shape.length}, inference says ${shape.length}`);
    b.shape.forEach((d, j) => {
      if (!analyzer.proveEqual(d, shape[j]!)) bug(`output ${i} dim ${j} is ${fmtExpr(d)}, inference says ${fmtExpr(shape[j]!)}`);
    });
  });
}

function reorderParams(
  f: PrimFunc,
  inputs: readonly KernelInput[],
  outputs: readonly Buffer[],
  passed: readonly PrimVar[],
): PrimFunc {
  const params = [...inputs.map((x) => (x.kind === 'tensor' ? x.t.buffer : x.v)), ...outputs, ...passed];
  if (params.length !== f.params.length || params.some((p) => !f.params.includes(p))) {
    throw new Error('kernel parameters do not match the call');
  }
  return { ...f, params };
}
