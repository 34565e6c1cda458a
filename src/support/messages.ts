/**
 * The catalog of user-facing errors: a stable code and a message template per
 * entry. Tests and docs name errors by these codes.
 *
 * K1xxx  IR text format (lexer, parser)
 * K2xxx  IR verifier (well-formedness)
 * K3xxx  operators (struct-info inference, attributes)
 * K4xxx  IR construction and builders
 * K5xxx  command line, files and the file system
 * K6xxx  pipelines: loading and validation (K60xx), building (K61xx), cache (K62xx)
 * K7xxx  passes (K71xx legalization, K72xx schedules)
 * K8xxx  code generation and artifacts; K81xx loading an artifact and K82xx calling it are the
 *        runtime's (RUNTIME_CODES below)
 * K9xxx  model importers (ONNX)
 */
import { KilnError, type Diagnostic, type SourceLocation } from './diagnostics.ts';

export interface Message<A> {
  readonly code: string;
  readonly text: (args: A) => string;
}

function message<A = Record<string, never>>(code: string, text: (args: A) => string): Message<A> {
  return { code, text };
}

export const M = {
  // --- text format -----------------------------------------------------------
  unexpectedChar: message<{ char: string }>('K1001', (a) => `unexpected character ${a.char}`),
  unterminatedString: message('K1002', () => 'unterminated string literal'),
  expectedToken: message<{ expected: string; found: string }>('K1003', (a) => `expected ${a.expected}, found ${a.found}`),
  unknownName: message<{ what: string; name: string }>('K1004', (a) => `unknown ${a.what} '${a.name}'`),
  duplicateDefinition: message<{ what: string; name: string }>('K1005', (a) => `${a.what} '${a.name}' is defined twice`),
  typeMismatch: message<{ what: string; expected: string; found: string }>(
    'K1006',
    (a) => `${a.what}: expected ${a.expected}, found ${a.found}`,
  ),
  badLiteral: message<{ literal: string; reason: string }>('K1007', (a) => `invalid literal ${a.literal}: ${a.reason}`),
  missingStructInfo: message<{ name: string }>(
    'K1008',
    (a) =>
      `cannot infer the struct info of '${a.name}': annotate it (${a.name}: Tensor[...] = ...) or parse with operator inference`,
  ),
  nestedCall: message<{ what: string }>(
    'K1009',
    (a) =>
      `${a.what} must be a variable, constant, shape, prim value, string or tuple of those; bind the inner expression to a variable first`,
  ),
  dataflowEscape: message<{ name: string }>(
    'K1010',
    (a) => `dataflow variable '${a.name}' is used outside its dataflow block; list it in the block's 'output' line`,
  ),
  cannotInferDomain: message<{ name: string }>(
    'K1011',
    (a) => `cannot infer the domain of block iterator '${a.name}': write it as spatial(extent, value) or reduce(extent, value)`,
  ),
  blobUnavailable: message<{ hash: string }>('K1012', (a) => `weight blob ${a.hash} is not available`),
  badConstant: message<{ reason: string }>('K1013', (a) => `invalid constant: ${a.reason}`),

  // --- verifier --------------------------------------------------------------
  wellFormed: message<{ where: string; problem: string }>('K2001', (a) => `${a.where}: ${a.problem}`),

  // --- operators -------------------------------------------------------------
  unknownOp: message<{ name: string }>('K3001', (a) => `unknown operator '${a.name}'`),
  opArity: message<{ op: string; expected: string; found: number }>(
    'K3002',
    (a) => `${a.op}: expected ${a.expected} arguments, found ${a.found}`,
  ),
  opArgKind: message<{ op: string; arg: string; expected: string; found: string }>(
    'K3003',
    (a) => `${a.op}: argument '${a.arg}' must be ${a.expected}, found ${a.found}`,
  ),
  opAttrs: message<{ op: string; problem: string }>('K3004', (a) => `${a.op}: invalid attributes: ${a.problem}`),
  opShape: message<{ op: string; problem: string }>('K3005', (a) => `${a.op}: ${a.problem}`),
  opDtype: message<{ op: string; problem: string }>('K3006', (a) => `${a.op}: ${a.problem}`),

  // --- construction ----------------------------------------------------------
  irConstruction: message<{ what: string; problem: string }>('K4001', (a) => `${a.what}: ${a.problem}`),

  // --- pipelines ---------------------------------------------------------------
  yamlSyntax: message<{ problem: string }>('K6001', (a) => a.problem),
  unknownStage: message<{ name: string }>('K6002', (a) => `unknown stage '${a.name}'`),
  pipelineValue: message<{ where: string; problem: string }>('K6003', (a) => `${a.where}: ${a.problem}`),
  unknownKey: message<{ where: string; key: string }>('K6004', (a) => `${a.where}: unknown option '${a.key}'`),
  duplicateStage: message<{ name: string }>(
    'K6005',
    (a) => `stage name '${a.name}' is used twice; give one of them a different 'name'`,
  ),
  extendsProblem: message<{ problem: string }>('K6006', (a) => a.problem),
  unknownTarget: message<{ name: string; dir: string }>('K6007', (a) => `unknown target '${a.name}' (looked for ${a.dir})`),
  missingFile: message<{ what: string; path: string }>('K6008', (a) => `${a.what} '${a.path}' does not exist`),
  userStage: message<{ file: string; problem: string }>('K6009', (a) => `user stage ${a.file}: ${a.problem}`),
  badOverride: message<{ text: string; problem: string }>('K6010', (a) => `--set ${a.text}: ${a.problem}`),
  emptyPipeline: message('K6011', () => 'the pipeline file is empty: a pipeline is a map of name, target, model and stages'),
  yamlAlias: message<{ problem: string }>('K6012', (a) => a.problem),
  notAFile: message<{ what: string; path: string }>('K6013', (a) => `${a.what} '${a.path}' is a directory, not a file`),
  stageFailed: message<{ stage: string; id: string; from?: string; cause: string }>(
    'K6101',
    (a) => `stage '${a.stage}'${a.stage === a.id ? '' : ` (${a.id})`}${a.from ? ` from ${a.from}` : ''} failed: ${a.cause}`,
  ),
  cacheWarning: message<{ problem: string }>('K6201', (a) => a.problem),
  cacheUnchanged: message<{ dir: string; count: number }>(
    'K6202',
    (a) => `cache ${a.dir}: ${a.count} entr${a.count === 1 ? 'y' : 'ies'} could not be removed`,
  ),

  // --- passes ----------------------------------------------------------------------
  unknownPass: message<{ name: string }>('K7001', (a) => `unknown pass '${a.name}'`),
  badPassOptions: message<{ pass: string; problem: string }>('K7002', (a) => `pass '${a.pass}': invalid options: ${a.problem}`),
  noLegalization: message<{ where: string; op: string }>(
    'K7101',
    (a) => `${a.where}: operator '${a.op}' has no legalization, so it cannot be built`,
  ),
  cannotLegalize: message<{ where: string; op: string; problem: string }>(
    'K7102',
    (a) => `${a.where}: cannot legalize ${a.op}: ${a.problem}`,
  ),

  schedule: message<{ kernel: string; primitive: string; problem: string }>(
    'K7201',
    (a) => `schedule of kernel '${a.kernel}': ${a.primitive}: ${a.problem}`,
  ),
  traceReplay: message<{ kernel: string; step: number; instruction: string; problem: string }>(
    'K7202',
    (a) => `replaying the schedule trace of kernel '${a.kernel}' failed at step ${a.step} (${a.instruction}): ${a.problem}`,
  ),

  partitionNoMatch: message<{ rule: string; pattern: string }>(
    'K7301',
    (a) => `partition rule ${a.rule} ('${a.pattern}') matches nothing`,
  ),
  backendFailed: message<{ backend: string; composite: string; rule: string; problem: string }>(
    'K7302',
    (a) => `backend '${a.backend}' failed on composite '${a.composite}' (from rule ${a.rule}): ${a.problem}`,
  ),
  userBackend: message<{ file: string; problem: string }>('K7303', (a) => `backend ${a.file}: ${a.problem}`),

  // --- code generation ---------------------------------------------------------------
  codegenUnsupported: message<{ target: string; kernel: string; what: string }>(
    'K8001',
    (a) => `${a.target} code generation: kernel '${a.kernel}': ${a.what}`,
  ),
  vmLowering: message<{ func: string; problem: string }>(
    'K8002',
    (a) => `VM code generation: function '${a.func}': ${a.problem}`,
  ),
  gpuLimit: message<{ target: string; kernel: string; what: string; need: number; unit: string; limit: string; value: number }>(
    'K8004',
    (a) =>
      `${a.target} code generation: kernel '${a.kernel}': ${a.what} needs ${a.need} ${a.unit}, more than the device limit ${a.limit} = ${a.value}`,
  ),

  // --- importers ------------------------------------------------------------------------
  onnxMalformed: message<{ file: string; problem: string }>('K9001', (a) => `${a.file}: not a valid ONNX model: ${a.problem}`),
  onnxUnsupported: message<{ file: string; count: number; list: string }>(
    'K9002',
    (a) => `${a.file}: ${a.count} unsupported operator${a.count === 1 ? '' : 's'}: ${a.list}`,
  ),
  onnxNode: message<{ file: string; node: string; op: string; opset: number; problem: string }>(
    'K9003',
    (a) => `${a.file}: node '${a.node}' (${a.op}, opset ${a.opset}): ${a.problem}`,
  ),
  onnxModel: message<{ file: string; problem: string }>('K9004', (a) => `${a.file}: ${a.problem}`),

  // --- command line ----------------------------------------------------------
  cliUsage: message<{ problem: string }>('K5001', (a) => a.problem),
  fileNotFound: message<{ path: string }>('K5002', (a) => `cannot read '${a.path}': no such file`),
  runInput: message<{ problem: string }>('K5004', (a) => a.problem),
  fileAccess: message<{ verb: string; path: string; reason: string }>(
    'K5003',
    (a) => `cannot ${a.verb} '${a.path}': ${a.reason}`,
  ),
} as const;

/**
 * The runtime's codes. Its LoadError and CallError carry them; the runtime imports nothing from
 * the compiler, so the codes and messages are written in src/runtime/errors.ts and listed here so
 * that this catalog names every code (a test keeps the two lists equal).
 */
export const RUNTIME_CODES: Readonly<Record<string, string>> = {
  K8100: 'the artifact does not suit this runtime or device (format version, target, kernels, registry functions)',
  K8101: 'a file the artifact names is missing or unreadable',
  K8102: 'manifest.json or program.json is not what a Kiln artifact holds (the field that is wrong is named)',
  K8103: "a parameter's bytes differ from the hash the manifest records (a damaged or altered shard); the tensor is named",
  K8104: 'a path in the manifest leaves the artifact (.., absolute, a drive or URL, a link that points outside)',
  K8200: 'the arguments do not match the function (count, kind, dtype, rank or a dimension, with both values)',
  K8201: 'a symbolic dimension is above the upper bound declared for it (model.dynamic upper); both numbers are named',
  K8202: 'a call by names (callNamed) names an input the function does not have, or leaves one out',
  K8203:
    "a value the model computes while it runs breaks what its kernels were built for: a slice's bounds, computed by the graph, past the tensor (the node is named)",
};

export function diagnostic<A>(m: Message<A>, args: A, location?: SourceLocation, notes?: readonly string[]): Diagnostic {
  return {
    code: m.code,
    severity: 'error',
    message: m.text(args),
    ...(location ? { location } : {}),
    ...(notes && notes.length > 0 ? { notes } : {}),
  };
}

/** A catalog entry as a warning: reported, and the work goes on. */
export function warning<A>(m: Message<A>, args: A, location?: SourceLocation): Diagnostic {
  return { ...diagnostic(m, args, location), severity: 'warning' };
}

/** Throws a KilnError built from a catalog entry. */
export function fail<A>(m: Message<A>, args: A, location?: SourceLocation, notes?: readonly string[]): never {
  throw new KilnError(diagnostic(m, args, location, notes));
}
