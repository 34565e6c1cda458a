/**
 * Writes small ONNX models from a plain description, with protobufjs and the
 * importer's own schema: what the model scripts, tests and benchmarks use to
 * make ONNX files without Python, and what the onnxruntime partition backend
 * stores in an artifact.
 */
import { ModelType } from './proto.ts';

export type AttrSpec =
  | number
  | number[]
  | string
  | { floats: number[] }
  | { float: number }
  | { strings: string[] }
  /** A subgraph: If's branches, the body of Loop and Scan. */
  | { graph: GraphSpec };

/** A graph: the model's, or a subgraph attribute's (which may read names of the graphs around it). */
export interface GraphSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: readonly TensorSpec[];
  readonly nodes: readonly NodeSpec[];
}

export interface NodeSpec {
  readonly op: string;
  readonly name?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  /** The operator's domain (com.microsoft, say); the default domain when absent. */
  readonly domain?: string;
}

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  /** float32 data, int64 data as bigints, or uint8 / int8 data (quantized weights). */
  readonly data: Float32Array | BigInt64Array | Uint8Array | Int8Array;
  /** Keep the data in a file next to the model instead (the caller writes it there). */
  readonly external?: { readonly location: string; readonly offset: number };
}

export interface ValueSpec {
  readonly name: string;
  /** ONNX element type: 1 float32, 7 int64, ... */
  readonly elemType: number;
  /** Numbers, or names of symbolic dims (dim_param); undefined leaves the shape out. */
  readonly dims: readonly (number | string)[] | undefined;
}

export interface ModelSpec {
  readonly opset: number;
  readonly producer: string;
  readonly graphName: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers: readonly TensorSpec[];
  readonly nodes: readonly NodeSpec[];
  /** Operator sets of other domains the nodes use ({ 'com.microsoft': 1 }). */
  readonly domains?: Readonly<Record<string, number>>;
}

function attribute(name: string, v: AttrSpec): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('float' in v) return { name, type: 1, f: v.float };
  if ('graph' in v) return { name, type: 5, g: graphProto(v.graph) };
  if ('strings' in v) return { name, type: 8, strings: v.strings.map((x) => new TextEncoder().encode(x)) };
  return { name, type: 6, floats: v.floats };
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.elemType,
        ...(v.dims ? { shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } : {}),
      },
    },
  };
}

function tensor(t: TensorSpec): Record<string, unknown> {
  const dataType = t.data instanceof Float32Array ? 1 : t.data instanceof Uint8Array ? 2 : t.data instanceof Int8Array ? 3 : 7;
  const base = { name: t.name, dims: t.dims, data_type: dataType };
  if (t.external) {
    const entries = { location: t.external.location, offset: String(t.external.offset), length: String(t.data.byteLength) };
    return { ...base, data_location: 1, external_data: Object.entries(entries).map(([key, value]) => ({ key, value })) };
  }
  return { ...base, raw_data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

export function encodeModel(m: ModelSpec): Uint8Array {
  const message = ModelType.fromObject({
    ir_version: 8,
    producer_name: m.producer,
    opset_import: [
      { domain: '', version: m.opset },
      ...Object.entries(m.domains ?? {}).map(([domain, version]) => ({ domain, version })),
    ],
    graph: graphProto({ ...m, name: m.graphName }),
  });
  return ModelType.encode(message).finish();
}

function graphProto(g: GraphSpec): Record<string, unknown> {
  return {
    name: g.name,
    node: g.nodes.map((n, i) => ({
      op_type: n.op,
      name: n.name ?? `${n.op}_${i}`,
      ...(n.domain ? { domain: n.domain } : {}),
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    initializer: (g.initializers ?? []).map(tensor),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
  };
}
