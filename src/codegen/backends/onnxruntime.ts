/**
 * The `onnxruntime` backend, compile side: each composite becomes a small
 * ONNX graph (its operator calls as ONNX nodes; its weights stay graph inputs,
 * passed by the call site from Kiln's parameters, so the file is a few hundred
 * bytes), stored in the artifact and run at load time by onnxruntime-node's
 * native CPU kernels (src/runtime/onnxruntime.ts). Symbolic dimensions become
 * named ONNX dimensions. A composite with an operator not in the table below
 * is not supported and stays Kiln's.
 */
import type { AttrMap, AttrValue } from '../../ir/attrs.ts';
import type { DataType } from '../../ir/dtype.ts';
import type { Expr, GraphFunc, GraphVar, OpCall } from '../../ir/graph/expr.ts';
import type { StructInfo } from '../../ir/graph/struct-info.ts';
import type { PrimExpr } from '../../ir/prim/expr.ts';
import { primExprEqual } from '../../ir/structural.ts';
import { printPrimExpr } from '../../ir/text/printer.ts';
import type { AttrSpec, NodeSpec, TensorSpec, ValueSpec } from '../../frontends/onnx/writer.ts';
import { type Backend, type Composite, defineBackend } from './registry.ts';

export const ONNX_OPSET = 17;

const ELEM_TYPES: Partial<Record<DataType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

const UNARY: Record<string, string> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  negative: 'Neg',
  abs: 'Abs',
  erf: 'Erf',
  floor: 'Floor',
  ceil: 'Ceil',
  reciprocal: 'Reciprocal',
};

const BINARY: Record<string, string> = {
  add: 'Add',
  subtract: 'Sub',
  multiply: 'Mul',
  divide: 'Div',
  maximum: 'Max',
  minimum: 'Min',
  power: 'Pow',
  matmul: 'MatMul',
};

const ints = (v: AttrValue | undefined): number[] => (Array.isArray(v) ? (v as number[]) : []);
const allOnes = (v: AttrValue | undefined): boolean => ints(v).every((x) => x === 1);

/** One ONNX node for an operator call, or why there is none. */
type Translation = { op: string; attrs?: Record<string, AttrSpec>; extra?: TensorSpec } | string;

function translate(call: OpCall, input: (i: number) => Expr, name: string): Translation {
  const a: AttrMap = call.attrs;
  if (UNARY[call.op]) return { op: UNARY[call.op]! };
  if (BINARY[call.op]) return { op: BINARY[call.op]! };
  switch (call.op) {
    case 'conv2d':
      if (a.data_layout !== 'NCHW' || a.kernel_layout !== 'OIHW' || (a.out_dtype ?? null) !== null)
        return 'conv2d other than NCHW/OIHW';
      return {
        op: 'Conv',
        attrs: { strides: ints(a.strides), pads: ints(a.padding), dilations: ints(a.dilation), group: a.groups as number },
      };
    case 'max_pool2d':
    case 'avg_pool2d': {
      if (a.layout !== 'NCHW') return `${call.op} other than NCHW`;
      if (call.op === 'avg_pool2d' && !allOnes(a.dilation)) return 'a dilated average pool';
      const attrs: Record<string, AttrSpec> = {
        kernel_shape: ints(a.pool_size),
        strides: ints(a.strides),
        pads: ints(a.padding),
        ceil_mode: a.ceil_mode === true ? 1 : 0,
      };
      if (call.op === 'max_pool2d') return { op: 'MaxPool', attrs: { ...attrs, dilations: ints(a.dilation) } };
      return { op: 'AveragePool', attrs: { ...attrs, count_include_pad: a.count_include_pad === true ? 1 : 0 } };
    }
    case 'mean':
    case 'max':
    case 'min': {
      const op = { mean: 'ReduceMean', max: 'ReduceMax', min: 'ReduceMin' }[call.op];
      const axes = a.axis === null || a.axis === undefined ? [] : Array.isArray(a.axis) ? ints(a.axis) : [a.axis as number];
      return { op, attrs: { keepdims: a.keepdims === true ? 1 : 0, ...(axes.length > 0 ? { axes } : {}) } };
    }
    case 'softmax':
      return { op: 'Softmax', attrs: { axis: a.axis as number } };
    case 'permute_dims':
      return a.axes === null || a.axes === undefined ? { op: 'Transpose' } : { op: 'Transpose', attrs: { perm: ints(a.axes) } };
    case 'reshape': {
      const target = input(1);
      const data = input(0);
      if (target.kind !== 'shape' || data.kind !== 'graph_var' || data.sinfo.kind !== 'tensor' || !data.sinfo.shape)
        return 'a reshape to a shape not written out';
      const shape = reshapeDims(target.values, data.sinfo.shape);
      if (!shape) return 'a reshape with more than one dimension to infer';
      return {
        op: 'Reshape',
        extra: { name: `${name}_shape`, dims: [shape.length], data: BigInt64Array.from(shape.map(BigInt)) },
      };
    }
    default:
      return `operator '${call.op}'`;
  }
}

/** ONNX Reshape's shape input: literal sizes, 0 for a dimension kept from the input, one -1 for the rest. */
function reshapeDims(target: readonly PrimExpr[], input: readonly PrimExpr[]): number[] | undefined {
  let inferred = false;
  const out: number[] = [];
  for (const [i, d] of target.entries()) {
    if (d.kind === 'int') out.push(d.value);
    else if (input[i] && primExprEqual(d, input[i])) out.push(0);
    else if (!inferred) {
      inferred = true;
      out.push(-1);
    } else return undefined;
  }
  return out;
}

function valueSpec(name: string, si: StructInfo): ValueSpec | string {
  if (si.kind !== 'tensor') return 'a value that is not a tensor';
  const elemType = ELEM_TYPES[si.dtype];
  if (elemType === undefined) return `dtype ${si.dtype}`;
  return { name, elemType, dims: si.shape?.map((d) => (d.kind === 'int' ? d.value : printPrimExpr(d))) };
}

export interface OnnxGraph {
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorSpec[];
}

/** The composite as an ONNX graph, or why it cannot be one. */
export function onnxGraph(f: GraphFunc): OnnxGraph | string {
  const names = new Map<GraphVar, string>();
  const inputs: ValueSpec[] = [];
  for (const [i, p] of f.params.entries()) {
    names.set(p, `input_${i}`);
    const v = valueSpec(`input_${i}`, p.sinfo);
    if (typeof v === 'string') return v;
    inputs.push(v);
  }
  const nodes: NodeSpec[] = [];
  const initializers: TensorSpec[] = [];
  const bindings = f.body.blocks.flatMap((b) => b.bindings);
  for (const [i, b] of bindings.entries()) {
    if (b.value.kind !== 'call') return `a ${b.value.kind} binding`;
    const call = b.value;
    const name = `v${i}`;
    const t = translate(call, (k) => call.args[k]!, name);
    if (typeof t === 'string') return t;
    const args: string[] = [];
    // Tensor arguments in order; the shape of a reshape is the initializer made for it.
    for (const arg of t.extra ? call.args.slice(0, 1) : call.args) {
      if (arg.kind !== 'graph_var' || !names.has(arg)) return `an argument that is not a tensor of the composite (${arg.kind})`;
      args.push(names.get(arg)!);
    }
    if (t.extra) {
      initializers.push(t.extra);
      args.push(t.extra.name);
    }
    names.set(b.var, name);
    nodes.push({ op: t.op, name, inputs: args, outputs: [name], ...(t.attrs ? { attrs: t.attrs } : {}) });
  }
  const results = f.body.body.kind === 'tuple' ? f.body.body.fields : [f.body.body];
  const outputs: ValueSpec[] = [];
  for (const [i, r] of results.entries()) {
    if (r.kind !== 'graph_var' || !names.has(r)) return 'a result that is not a value of the composite';
    const out = `output_${i}`;
    nodes.push({ op: 'Identity', name: out, inputs: [names.get(r)!], outputs: [out] });
    const v = valueSpec(out, r.sinfo);
    if (typeof v === 'string') return v;
    outputs.push(v);
  }
  return { inputs, outputs, nodes, initializers };
}

export const onnxruntimeBackend: Backend = defineBackend({
  name: 'onnxruntime',
  version: 1,
  supports: (f) => typeof onnxGraph(f) !== 'string',
  codegen: async (c: Composite) => {
    const g = onnxGraph(c.func);
    if (typeof g === 'string') throw new Error(`cannot express ${g} in ONNX`);
    // The writer (protobufjs) loads on use: only pipelines that partition to onnxruntime need it.
    const { encodeModel } = await import('../../frontends/onnx/writer.ts');
    const model = encodeModel({ opset: ONNX_OPSET, producer: 'kiln', graphName: c.name, ...g });
    return {
      files: { 'model.onnx': model },
      entry: { inputs: g.inputs.map((i) => i.name), outputs: g.outputs.map((o) => o.name) },
    };
  },
});
