/**
 * The ONNX importer: a ModelProto becomes one graph function `main` whose
 * parameters are the graph's inputs (those that are not initializers), with
 * `dim_param`s as symbolic variables (renamed or bounded by the pipeline's
 * `model.dynamic`), initializers as constants (weight blobs by content hash),
 * and every node converted in order by its op type's converter.
 *
 * Before converting anything, every node is checked for a converter, so a
 * model with unsupported operators fails with one error listing them all.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { Analyzer } from '../../ir/arith/analyzer.ts';
import type { AttrValue } from '../../ir/attrs.ts';
import { BlockBuilder } from '../../ir/builder/block-builder.ts';
import { type DataType, parseDataType } from '../../ir/dtype.ts';
import { type Expr, graphVar, type GraphVar, tuple } from '../../ir/graph/expr.ts';
import { tensorSI } from '../../ir/graph/struct-info.ts';
import type { IRModule } from '../../ir/module.ts';
import { intImm, type PrimExpr, type PrimVar, primVar } from '../../ir/prim/expr.ts';
import { opHooks } from '../../ops/index.ts';
import { isKilnError, KilnError } from '../../support/diagnostics.ts';
import { diagnostic, fail, M } from '../../support/messages.ts';
import type { ModelSpec } from '../../stages/registry.ts';
import { type ImportState, NodeContext, protoValue, sanitize } from './context.ts';
import { getConverter } from './converters/registry.ts';
import './converters/index.ts';
import { decodeModel, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';
import { type ScannedModel, ScanError, scanOnnxFileHashed } from './scan.ts';
import { type FileRange, hashFileRanges } from './file-blob.ts';
import { dtypeOfElemType, elemTypeName, externalFiles, tensorData, TensorError } from './tensor.ts';
import type { Value } from './values.ts';

/** The newest default-domain opset the converters are written against. */
export const MAX_OPSET = 21;

export interface OnnxImportOptions {
  /** How the file is named in messages. */
  readonly file?: string;
  /** The model's directory, for external data. */
  readonly dir?: string;
  readonly dynamic?: ModelSpec['dynamic'];
  readonly inputs?: ModelSpec['inputs'];
  /**
   * Graph inputs to treat as constants with these values (a model whose shape inputs are fed
   * at run time, such as ONNX's node tests, compiles for fixed values of them).
   */
  readonly frozenInputs?: ReadonlyMap<string, TensorProto>;
}

/**
 * Imports a model file without holding its weights: one streaming pass over the file hashes
 * each large initializer as it goes by and decodes the rest; the weights stay in the file,
 * read again when a pass or codegen needs their bytes.
 */
export function importOnnxFile(model: ModelSpec): IRModule {
  const file = relative(process.cwd(), model.path) || model.path;
  let scanned: ScannedModel;
  try {
    scanned = scanOnnxFileHashed(model.path);
  } catch (e) {
    if (e instanceof ScanError) return fail(M.onnxMalformed, { file, problem: e.message });
    throw e;
  }
  const proto = parseOnnx(scanned.skeleton, file);
  const initializers = proto.graph!.initializer;
  for (const p of scanned.payloads) {
    const t = initializers[p.initializer];
    if (!t) continue;
    t.raw_range = {
      range: { path: model.path, offset: p.offset, length: p.length, stamp: scanned.stamp },
      ...(p.hash ? { hash: p.hash } : {}),
    };
  }
  hashExternalData(initializers, dirname(model.path), file);
  return importOnnx(proto, {
    file,
    dir: dirname(model.path),
    dynamic: model.dynamic,
    ...(model.inputs ? { inputs: model.inputs } : {}),
  });
}

/**
 * The weights in external data files, hashed all at once (on every core) before the import
 * asks for them one by one: it then finds each hash made. A tensor whose data is not what its
 * entry says is left to the import, which reports it where it meets it.
 */
function hashExternalData(initializers: readonly TensorProto[], dir: string, file: string): void {
  const ranges: FileRange[] = [];
  for (const t of initializers) {
    if (t.data_location !== 1) continue;
    try {
      const d = tensorData(t, dir);
      if ('range' in d) ranges.push(d.range);
    } catch (e) {
      if (!(e instanceof TensorError)) throw e;
    }
  }
  if (ranges.length > 0) hashFileRanges(ranges, file);
}

export function parseOnnx(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    return fail(M.onnxMalformed, { file, problem: (e as Error).message });
  }
  if (!model.graph) return fail(M.onnxMalformed, { file, problem: 'it has no graph' });
  return model;
}

/** External data files of a model (their content is part of the import's cache key). */
export function onnxExternalFiles(path: string): string[] {
  const model = parseOnnx(readFileSync(path), path);
  return externalFiles(model.graph!.initializer, dirname(path));
}

/** Imports a model from its bytes (or one decoded already). */
export function importOnnx(bytes: Uint8Array | ModelProto, options: OnnxImportOptions = {}): IRModule {
  const file = options.file ?? '<model>';
  const model = bytes instanceof Uint8Array ? parseOnnx(bytes, file) : bytes;
  const graph = model.graph!;
  const opset = defaultOpset(model);
  checkSupported(graph, file, opset);

  const values = new Map<string, Value>();
  /** The names visible where a node is converted: the main graph's, then each enclosing subgraph's. */
  let scope = values;
  const state: ImportState = {
    file,
    dir: options.dir,
    bb: new BlockBuilder(opHooks),
    analyzer: new Analyzer(),
    opset,
    symbols: new Set(),
    lookup: (name) => scope.get(name),
    subgraph: (g, inputs, names) => {
      const outer = scope;
      // ONNX scoping: a subgraph sees every name of the graphs around it; its own names stay inside.
      const inner = new Map(outer);
      for (const [n, v] of names ?? []) inner.set(n, v);
      scope = inner;
      try {
        g.input.forEach((inp, i) => {
          const v = inputs[i];
          if (v) inner.set(inp.name, v);
        });
        const failWith = (name: string) => (problem: string) =>
          fail(M.onnxModel, { file, problem: `subgraph '${g.name}', initializer '${name}': ${problem}` });
        for (const t of g.initializer) inner.set(t.name, protoValue(t, options.dir, failWith(t.name), file));
        g.node.forEach((node, index) => convertNode(node, index, inner, state));
        return g.output.map((o) => {
          const v = inner.get(o.name);
          if (!v)
            return fail(M.onnxModel, { file, problem: `subgraph '${g.name}': output '${o.name}' is not produced by any node` });
          return v;
        });
      } finally {
        scope = outer;
      }
    },
  };
  const failWith = (name: string) => (problem: string) =>
    fail(M.onnxModel, { file, problem: `initializer '${name}': ${problem}` });
  for (const t of graph.initializer) values.set(t.name, protoValue(t, options.dir, failWith(t.name), file));

  const symbols = new Symbols(options.dynamic ?? {}, state.symbols);
  const overrides = new Map((options.inputs ?? []).map((i) => [i.name, i]));
  const params: GraphVar[] = [];
  const paramNames = new Set<string>();
  /** The ONNX name of each parameter. */
  const inputNames: string[] = [];
  const typeOnly = typeOnlyInputs(graph);
  for (const [name, t] of options.frozenInputs ?? []) values.set(name, protoValue(t, options.dir, failWith(name), file));
  for (const input of graph.input) {
    if (values.has(input.name)) continue; // an initializer with a default value (or a frozen input): a constant here
    const declared = inputType(input, file, symbols, overrides.get(input.name));
    // Only its element type is read: its shape is no constraint on the caller (see typeOnlyInputs).
    const sinfo = typeOnly.has(input.name) && !overrides.has(input.name) ? tensorSI(undefined, declared.dtype) : declared;
    const p = graphVar(uniqueName(sanitize(input.name), paramNames), sinfo);
    params.push(p);
    inputNames.push(input.name);
    values.set(input.name, { kind: 'tensor', expr: p, sinfo: p.sinfo as Extract<Value, { kind: 'tensor' }>['sinfo'] });
  }
  symbols.checkAllUsed(file);

  // An if cannot stand in a dataflow block: a graph with control flow is built without one.
  const plain = graph.node.some((n) => CONTROL_FLOW.has(n.op_type) && (n.domain === '' || n.domain === 'ai.onnx'));
  const inBlock = <T>(body: () => T): T => (plain ? body() : state.bb.dataflow(body));
  const output = (e: Expr): Expr => (plain ? state.bb.emit(e, 'out') : state.bb.emitOutput(e, 'out'));
  state.bb.function(
    'main',
    params,
    () =>
      inBlock(() => {
        graph.node.forEach((node, index) => convertNode(node, index, values, state));
        const outs = graph.output.map((o) => {
          const v = values.get(o.name);
          if (!v) return fail(M.onnxModel, { file, problem: `graph output '${o.name}' is not produced by any node` });
          return v;
        });
        const ctx = new NodeContext(
          { input: [], output: [], name: 'outputs', op_type: 'Output', domain: '', attribute: [] },
          0,
          [],
          state,
        );
        const exprs: Expr[] = outs.map((v) => output(ctx.materialize(v).expr));
        return exprs.length === 1 ? exprs[0]! : output(tuple(exprs));
      }),
    { attrs: { ...functionAttrs(options.dynamic ?? {}, symbols), ...ioNames(inputNames, params, graph) } },
  );
  return state.bb.getModule();
}

/** Operators whose conversion emits an if (which a dataflow block cannot hold). */
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

function defaultOpset(model: ModelProto): number {
  const entry = model.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  // Models from before opset_import existed are opset 1.
  return entry ? Number(entry.version) : 1;
}

/** Every node's operator must have a converter: all the ones that do not are reported together. */
function checkSupported(graph: GraphProto, file: string, opset: number): void {
  const missing = new Map<string, string[]>();
  const visit = (g: GraphProto): void => {
    g.node.forEach((n, i) => {
      const key = converterKey(n);
      if (!getConverter(key)) {
        const list = missing.get(key) ?? [];
        list.push(n.name || `${n.op_type}_${i}`);
        missing.set(key, list);
      }
      for (const a of n.attribute) {
        if (a.g) visit(a.g);
        for (const sub of a.graphs) visit(sub);
      }
    });
  };
  visit(graph);
  if (missing.size === 0) return;
  const keys = [...missing.keys()].sort();
  const notes = keys.map((k) => {
    const nodes = missing.get(k)!;
    const shown =
      nodes
        .slice(0, 5)
        .map((n) => `'${n}'`)
        .join(', ') + (nodes.length > 5 ? `, and ${nodes.length - 5} more` : '');
    return `${k} (opset ${opset}): node${nodes.length > 1 ? 's' : ''} ${shown}`;
  });
  throw new KilnError(diagnostic(M.onnxUnsupported, { file, count: keys.length, list: keys.join(', ') }, undefined, notes));
}

/** The converter table's key: the op type in the default domain, `domain.op_type` in another (com.microsoft.MatMulNBits). */
function converterKey(n: NodeProto): string {
  const domain = n.domain === 'ai.onnx' ? '' : n.domain;
  return domain ? `${domain}.${n.op_type}` : n.op_type;
}

function convertNode(node: NodeProto, index: number, values: Map<string, Value>, state: ImportState): void {
  const inputs = node.input.map((name) => {
    if (name === '') return undefined;
    const v = values.get(name);
    if (!v) {
      return fail(M.onnxNode, {
        file: state.file,
        node: node.name || `${node.op_type}_${index}`,
        op: node.op_type,
        opset: state.opset,
        problem: `input '${name}' is not defined before this node (the graph is not in topological order, or the name is wrong)`,
      });
    }
    return v;
  });
  // Trailing optional inputs left empty are absent.
  while (inputs.length > 0 && inputs[inputs.length - 1] === undefined) inputs.pop();
  const ctx = new NodeContext(node, index, inputs, state);
  let result;
  try {
    result = getConverter(converterKey(node))!(ctx);
  } catch (e) {
    if (isKilnError(e) && e.code !== M.onnxNode.code && e.code !== M.onnxModel.code) ctx.fail(e.diagnostics[0]!.message);
    throw e;
  }
  const outs = Array.isArray(result) ? (result as readonly (Value | undefined)[]) : [result as Value];
  node.output.forEach((name, i) => {
    if (name === '') return;
    const v = outs[i];
    if (!v) return ctx.fail(`output ${i} ('${name}') is not supported`);
    values.set(name, v);
  });
}

function uniqueName(name: string, taken: Set<string>): string {
  let n = name;
  for (let i = 1; taken.has(n); i++) n = `${name}_${i}`;
  taken.add(n);
  return n;
}

/** Symbolic dimensions of the inputs: `dim_param`s, renamed as `model.dynamic` says. */
class Symbols {
  private readonly vars = new Map<string, PrimVar>();
  private readonly used = new Set<string>();

  constructor(
    private readonly dynamic: ModelSpec['dynamic'],
    private readonly taken: Set<string>,
  ) {}

  /** The variable for ONNX dim_param `param` (or for `input.axis` made symbolic). */
  get(param: string): PrimVar {
    this.used.add(param);
    const name = this.dynamic[param]?.name ?? param;
    let v = this.vars.get(name);
    if (!v) {
      v = primVar(sanitize(name));
      this.taken.add(v.name);
      this.vars.set(name, v);
    }
    return v;
  }

  /** A fixed dim the pipeline made symbolic with `dynamic: { "input.axis": name }`. */
  overrides(input: string, axis: number): boolean {
    return Object.hasOwn(this.dynamic, `${input}.${axis}`);
  }

  fresh(hint: string): PrimVar {
    let name = sanitize(hint);
    for (let i = 1; this.taken.has(name); i++) name = `${sanitize(hint)}_${i}`;
    this.taken.add(name);
    return primVar(name);
  }

  checkAllUsed(file: string): void {
    const unused = Object.keys(this.dynamic).filter((k) => !this.used.has(k));
    if (unused.length > 0) {
      fail(M.onnxModel, {
        file,
        problem: `model.dynamic names ${unused.map((u) => `'${u}'`).join(', ')}, which no input has (dim_param names, or input.axis)`,
      });
    }
  }

  bounds(): Record<string, AttrValue> {
    const out: Record<string, AttrValue> = {};
    for (const [param, spec] of Object.entries(this.dynamic)) {
      if (spec.upper === undefined) continue;
      out[sanitize(spec.name ?? param)] = spec.upper;
    }
    return out;
  }
}

/**
 * The model's own input and output names, which IR identifiers cannot always spell
 * (`gpu_0/data_0` becomes the parameter gpu_0_data_0): the artifact and the runtime
 * name inputs and outputs by these. Inputs are listed only when a name had to change.
 */
function ioNames(inputs: readonly string[], params: readonly GraphVar[], graph: GraphProto): Record<string, AttrValue> {
  return {
    ...(inputs.some((n, i) => n !== params[i]!.name) ? { input_names: inputs } : {}),
    output_names: graph.output.map((o) => o.name),
  };
}

function functionAttrs(dynamic: ModelSpec['dynamic'], symbols: Symbols): Record<string, AttrValue> {
  const bounds = symbols.bounds();
  return Object.keys(dynamic).length > 0 && Object.keys(bounds).length > 0 ? { tir_var_upper_bound: bounds } : {};
}

/**
 * Graph inputs whose shape nothing reads: those no node takes, or only as CastLike's `like`
 * (whose element type alone matters). Their parameters take any shape of the declared dtype.
 * ONNX 1.12's bfloat16 CastLike tests declare `like` with the output's shape [3, 4] and feed
 * one element (their expanded form, a Cast, does not read `like` at all).
 */
function typeOnlyInputs(graph: GraphProto): Set<string> {
  const out = new Set(graph.input.map((i) => i.name));
  const read = (g: GraphProto): void => {
    for (const o of g.output) out.delete(o.name);
    for (const n of g.node) {
      n.input.forEach((name, i) => {
        if (!(n.op_type === 'CastLike' && n.domain === '' && i === 1)) out.delete(name);
      });
      for (const a of n.attribute) for (const sub of [...(a.g ? [a.g] : []), ...a.graphs]) read(sub);
    }
  };
  read(graph);
  return out;
}

function inputType(
  input: ValueInfoProto,
  file: string,
  symbols: Symbols,
  override: NonNullable<ModelSpec['inputs']>[number] | undefined,
): ReturnType<typeof tensorSI> {
  const bad = (problem: string): never => fail(M.onnxModel, { file, problem: `input '${input.name}': ${problem}` });
  const t = input.type;
  if (t && !t.tensor_type) {
    const kind = t.sequence_type ? 'a sequence' : t.map_type ? 'a map' : t.optional_type ? 'an optional' : 'a sparse tensor';
    return bad(`${kind} input is not supported; Kiln imports tensor inputs`);
  }
  if (override) {
    const dtype = parseDataType(override.dtype);
    if (!dtype) return bad(`model.inputs gives dtype '${override.dtype}', which is not a dtype`);
    const dims = override.shape.map((d) => (typeof d === 'number' ? intImm(d) : symbols.get(d)));
    return tensorSI(dims, dtype);
  }
  if (!t?.tensor_type) return bad('it has no type; give its shape and dtype in the pipeline (model.inputs)');
  const dtype: DataType | undefined = dtypeOfElemType(t.tensor_type.elem_type);
  if (!dtype) return bad(`its element type ${elemTypeName(t.tensor_type.elem_type)} is not supported`);
  const shape = t.tensor_type.shape;
  if (!shape) return bad('its shape is not given, not even its rank; give it in the pipeline (model.inputs)');
  const dims: PrimExpr[] = shape.dim.map((d, axis) => {
    if (symbols.overrides(input.name, axis)) return symbols.get(`${input.name}.${axis}`);
    if (d.dim_param) return symbols.get(d.dim_param);
    if (d.dim_value !== undefined) return intImm(Number(d.dim_value));
    return symbols.fresh(`${input.name}_${axis}`);
  });
  return tensorSI(dims, dtype);
}
