/**
 * One ONNX backend test (a directory with model.onnx and test_data_set_N/
 * input_i.pb, output_i.pb): imported, built in memory for the CPU (js
 * target) or for WebGPU (legalized, default schedules, WGSL), run on each
 * data set and compared with the expected outputs as ONNX's backend tests
 * compare (rtol 1e-3, atol 1e-7). On WebGPU, what WGSL cannot hold (float64,
 * 64-bit integer values) is reported as unsupported, with the reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArtifact } from '../src/codegen/artifact.ts';
import { evaluatePrimFunc } from '../src/codegen/js/evaluate.ts';
import { memorySource } from '../src/codegen/memory-source.ts';
import { importOnnx, parseOnnx } from '../src/frontends/onnx/importer.ts';
import { decodeTensor, type ModelProto, type TensorProto } from '../src/frontends/onnx/proto.ts';
import { tensorBytes } from '../src/frontends/onnx/tensor.ts';
import type { IRModule } from '../src/ir/module.ts';
import type { TargetDescription } from '../src/ir/target.ts';
import { loadArtifact } from '../src/runtime/artifact.ts';
import { NDArray, cpu } from '../src/runtime/ndarray.ts';
import type { Value } from '../src/runtime/values.ts';
import { storageOf } from '../src/runtime/dtype.ts';
import { isKilnError } from '../src/support/diagnostics.ts';
import { legalizeModule } from '../src/passes/legalize.ts';
import { optimizeModule } from '../src/stages/optimize.ts';
import { kilnRoot } from '../src/pipeline/targets.ts';
import { targetSchema } from '../src/ir/target.ts';
import { parse as parseYaml } from 'yaml';
import { webgpuDevice } from '../src/runtime/node.ts';
import { scheduleModule } from '../src/schedule/rules/default-rules.ts';

export type Status = 'pass' | 'fail' | 'unsupported' | 'error' | 'out-of-scope';

export interface CaseResult {
  readonly category: string;
  readonly name: string;
  readonly status: Status;
  /** Why it did not pass: the unsupported operators, the error, the worst mismatch, the out-of-scope feature. */
  readonly detail?: string;
  readonly maxAbs?: number;
  readonly maxRel?: number;
  /** Integer inputs that feed shapes were compiled in as constants. */
  readonly frozen?: boolean;
  readonly ms: number;
}

export const RTOL = 1e-3;
export const ATOL = 1e-7;

const JS_TARGET: TargetDescription = { name: 'js', kind: 'js', device: 'cpu', features: [], limits: {} };

/** Where a case runs: the js target on the CPU, the wasm target on the CPU, or WebGPU. */
export type Device = 'cpu' | 'wasm' | 'webgpu';

/** What WGSL cannot represent: a build or upload refusing it is a limit of the target, not a failure. */
const WGSL_LIMITS = /WebGPU has no 64-bit (floats|integers)/;

/** Operators outside Kiln's scope: training, sequences, optionals, strings, random generators, control flow. */
const OUT_OF_SCOPE_OPS: Record<string, string> = {
  Adagrad: 'training',
  Adam: 'training',
  Momentum: 'training',
  Gradient: 'training',
  SequenceAt: 'sequences',
  SequenceConstruct: 'sequences',
  SequenceEmpty: 'sequences',
  SequenceErase: 'sequences',
  SequenceInsert: 'sequences',
  SequenceLength: 'sequences',
  SequenceMap: 'sequences',
  SplitToSequence: 'sequences',
  ConcatFromSequence: 'sequences',
  Optional: 'optional types',
  OptionalGetElement: 'optional types',
  OptionalHasElement: 'optional types',
  StringNormalizer: 'strings',
  TfIdfVectorizer: 'strings',
  RegexFullMatch: 'strings',
  StringConcat: 'strings',
  StringSplit: 'strings',
  RandomNormal: 'random numbers',
  RandomNormalLike: 'random numbers',
  RandomUniform: 'random numbers',
  RandomUniformLike: 'random numbers',
  Bernoulli: 'random numbers',
  Multinomial: 'random numbers',
};

export function outOfScope(model: ModelProto): string | undefined {
  const g = model.graph!;
  for (const v of [...g.input, ...g.output]) {
    const t = v.type;
    if (t?.sequence_type) return 'sequences';
    if (t?.optional_type) return 'optional types';
    if (t?.map_type) return 'maps';
    if (t?.tensor_type?.elem_type === 8) return 'strings';
  }
  const visit = (nodes: NonNullable<ModelProto['graph']>['node']): string | undefined => {
    for (const n of nodes) {
      if (n.domain === 'ai.onnx.preview.training') return 'training';
      const why = OUT_OF_SCOPE_OPS[n.op_type];
      if (why) return why;
      // Dropout with a training_mode input drops at random.
      if (n.op_type === 'Dropout' && (n.input[2] ?? '') !== '') return 'training (random dropout)';
      for (const a of n.attribute) {
        const sub = a.g ? visit(a.g.node) : undefined;
        if (sub) return sub;
      }
    }
    return undefined;
  };
  return visit(g.node);
}

function toNDArray(t: TensorProto): NDArray {
  const tb = tensorBytes(t, undefined);
  const Storage = storageOf(tb.dtype);
  const count = tb.shape.reduce((a, b) => a * b, 1);
  const data = new Storage(tb.bytes.buffer, tb.bytes.byteOffset, count);
  return new NDArray(tb.shape, tb.dtype, cpu, data);
}

/** A uint16 tensor of test data given where the model takes bfloat16 (ONNX elem_type 16) holds its bits. */
function asDtype(a: NDArray, elemType: number | undefined): NDArray {
  return elemType === 16 && a.dtype === 'uint16' ? new NDArray(a.shape, 'bfloat16', cpu, a.data) : a;
}

function flatten(v: Value): Value[] {
  return Array.isArray(v) ? (v as readonly Value[]).flatMap((x) => flatten(x)) : [v];
}

export async function runCase(dir: string, category: string, name: string, device: Device = 'cpu'): Promise<CaseResult> {
  const t0 = performance.now();
  const done = (status: Status, extra: Partial<CaseResult> = {}): CaseResult => ({
    category,
    name,
    status,
    ms: Math.round(performance.now() - t0),
    ...extra,
  });
  const bytes = readFileSync(join(dir, 'model.onnx'));
  let model: ModelProto;
  try {
    model = parseOnnx(bytes, `${category}/${name}`);
  } catch (e) {
    return done('error', { detail: (e as Error).message });
  }
  const scope = outOfScope(model);
  if (scope) return done('out-of-scope', { detail: scope });

  const sets = readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort();
  const initializers = new Set(model.graph!.initializer.map((i) => i.name));
  const inputNames = model.graph!.input.map((i) => i.name).filter((n) => !initializers.has(n));
  const elemTypes = new Map(model.graph!.input.map((i) => [i.name, i.type?.tensor_type?.elem_type]));
  const readSet = (set: string, kind: 'input' | 'output'): TensorProto[] =>
    readdirSync(join(dir, set))
      .filter((f) => f.startsWith(`${kind}_`))
      .sort((a, b) => Number(a.slice(kind.length + 1, -3)) - Number(b.slice(kind.length + 1, -3)))
      .map((f) => decodeTensor(readFileSync(join(dir, set, f))));

  let frozen: Map<string, TensorProto> | undefined;
  let module: IRModule | undefined;
  try {
    module = importOnnx(bytes, { file: `${category}/${name}`, dir });
  } catch (e) {
    const msg = (e as Error).message;
    if (isKilnError(e) && e.code === 'K9002')
      return done('unsupported', { detail: msg.split('\n')[0]!.replace(/^.*?unsupported operators?: /, '') });
    if (!isKilnError(e) || !/known at import time|must be (a )?constant/.test(msg) || sets.length === 0) {
      return done('error', { detail: firstLine(msg) });
    }
    // Inputs that must be constants fed as data (Reshape's shape, Resize's scales, Pad's pads):
    // compile for the test's values. First the integer and scalar inputs, which feed shapes; then
    // every input but the first, which is the data in the operators that need constants.
    const first = readSet(sets[0]!, 'input');
    const freeze = (pick: (t: TensorProto, i: number) => boolean): Map<string, TensorProto> =>
      new Map(inputNames.flatMap((n, i) => (first[i] && pick(first[i], i) ? [[n, first[i]] as const] : [])));
    const attempts = [freeze((t) => [6, 7].includes(t.data_type) || t.dims.length === 0), freeze((_, i) => i > 0)];
    let lastError = msg;
    for (const attempt of attempts) {
      try {
        module = importOnnx(bytes, { file: `${category}/${name}`, dir, frozenInputs: attempt });
        frozen = attempt;
        break;
      } catch (e2) {
        lastError = (e2 as Error).message;
      }
    }
    if (!module) return done('error', { detail: firstLine(lastError) });
  }
  // KILN_OPTIMIZE=1: through fold-constants, fuse and plan-memory first, as the vision pipelines build.
  if (process.env.KILN_OPTIMIZE === '1') {
    try {
      module = optimizeModule(module);
    } catch (e) {
      return done('error', { detail: `optimizing: ${firstLine((e as Error).message)}` });
    }
  }
  let mod;
  try {
    mod =
      device === 'webgpu'
        ? await loadOnWebGpu(module, name)
        : device === 'wasm'
          ? await loadOnWasm(module, name)
          : await loadArtifact(memorySource(await buildArtifact(module, { name, target: JS_TARGET })));
  } catch (e) {
    const msg = firstLine((e as Error).message);
    return done(device === 'webgpu' && WGSL_LIMITS.test(msg) ? 'unsupported' : 'error', {
      detail: msg,
      ...(frozen ? { frozen: true } : {}),
    });
  }

  let maxAbs = 0;
  let maxRel = 0;
  for (const set of sets) {
    const inputs = readSet(set, 'input');
    const expected = readSet(set, 'output');
    const args = inputNames.flatMap((n, i) =>
      frozen?.has(n) || !inputs[i] ? [] : [asDtype(toNDArray(inputs[i]), elemTypes.get(n))],
    );
    let outputs: Value[];
    try {
      outputs = [];
      // On WebGPU the outputs stay on the device until read back.
      for (const v of flatten(await mod.call('main', ...args))) outputs.push(v instanceof NDArray ? await v.toCpu() : v);
    } catch (e) {
      const msg = firstLine((e as Error).message);
      return done(device === 'webgpu' && WGSL_LIMITS.test(msg) ? 'unsupported' : 'error', {
        detail: msg,
        ...(frozen ? { frozen: true } : {}),
      });
    }
    for (let i = 0; i < expected.length; i++) {
      const want = toNDArray(expected[i]!);
      const got = outputs[i];
      if (!(got instanceof NDArray)) return done('fail', { detail: `output ${i} is missing` });
      if (got.shape.join() !== want.shape.join()) {
        return done('fail', { detail: `output ${i} has shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]` });
      }
      // The test data keeps bfloat16 as its bits in uint16 (numpy has no bfloat16): compare bits then.
      const bits = got.dtype === 'bfloat16' && want.dtype === 'uint16';
      const a = bits ? Array.from(got.data as Uint16Array) : got.toNumbers();
      const b = want.toNumbers();
      for (let k = 0; k < b.length; k++) {
        const x = a[k]!;
        const y = b[k]!;
        if (Number.isNaN(y) && Number.isNaN(x)) continue;
        if (x === y) continue;
        const d = Math.abs(x - y);
        maxAbs = Math.max(maxAbs, Number.isFinite(d) ? d : Infinity);
        maxRel = Math.max(maxRel, d / Math.max(Math.abs(y), 1e-30));
        if (!(d <= ATOL + RTOL * Math.abs(y))) {
          return done('fail', {
            detail: `output ${i} element ${k} is ${x}, expected ${y}`,
            maxAbs,
            maxRel,
            ...(frozen ? { frozen: true } : {}),
          });
        }
      }
    }
  }
  return done('pass', { maxAbs, maxRel, ...(frozen ? { frozen: true } : {}) });
}

let webgpuTarget: TargetDescription | undefined;

/** The module as `target: webgpu` builds it: legalized, default GPU schedules, WGSL; loaded on the shared device. */
async function loadOnWebGpu(module: IRModule, name: string): Promise<Awaited<ReturnType<typeof loadArtifact>>> {
  webgpuTarget ??= targetSchema.parse(parseYaml(readFileSync(join(kilnRoot(), 'targets', 'webgpu.yaml'), 'utf8')));
  const target = webgpuTarget;
  const artifact = await buildArtifact(scheduleModule(legalizeModule(module), target), { name, target });
  return loadArtifact(memorySource(artifact), { device: await webgpuDevice() });
}

let wasmTarget: TargetDescription | undefined;

/** The module as `target: wasm` builds it: legalized, default CPU schedules, WebAssembly SIMD; one thread (a worker per case runs in parallel already). */
async function loadOnWasm(module: IRModule, name: string): Promise<Awaited<ReturnType<typeof loadArtifact>>> {
  wasmTarget ??= targetSchema.parse(parseYaml(readFileSync(join(kilnRoot(), 'targets', 'wasm.yaml'), 'utf8')));
  const target = wasmTarget;
  // As the schedule stage does: constant weights a CPU rule pre-packs are rewritten at build time.
  const scheduled = scheduleModule(legalizeModule(module), target, { evaluate: evaluatePrimFunc });
  const artifact = await buildArtifact(scheduled, { name, target });
  return loadArtifact(memorySource(artifact), { threads: 1 });
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300);
}
