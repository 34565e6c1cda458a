/**
 * The runtime's errors and their codes. The runtime imports nothing from the
 * compiler, so its codes live here; the error catalog (src/support/messages.ts,
 * RUNTIME_CODES) documents them, and a test keeps the two in step.
 *
 * K81xx loading an artifact (LoadError), K82xx calling an entry function (CallError).
 */
export const LOAD_CODES = {
  /** The artifact does not suit this runtime or device (format version, target, kernels, registry functions). */
  cannotLoad: 'K8100',
  /** A file the artifact names is missing or unreadable. */
  missingFile: 'K8101',
  /** manifest.json or program.json is not what a Kiln artifact holds (a field missing or of the wrong kind). */
  malformed: 'K8102',
  /** A parameter's bytes differ from the hash the manifest records (a damaged or altered shard). */
  paramHash: 'K8103',
  /** A path in the manifest leaves the artifact's directory. */
  pathEscape: 'K8104',
} as const;

export const CALL_CODES = {
  /** The arguments do not match the function's signature (count, kind, dtype, rank, dimension). */
  badArgument: 'K8200',
  /** A symbolic dimension is above the upper bound the pipeline declared for it. */
  aboveBound: 'K8201',
  /** An input name the entry function does not have, or an input not given (a call by names). */
  unknownName: 'K8202',
  /** A value the model computes while it runs breaks what its kernels were built for (a slice's bounds past the tensor). */
  outOfRange: 'K8203',
} as const;

export type LoadCode = (typeof LOAD_CODES)[keyof typeof LOAD_CODES];
export type CallCode = (typeof CALL_CODES)[keyof typeof CALL_CODES];

/** An error in the artifact or in how it is loaded. */
export class LoadError extends Error {
  override readonly name = 'LoadError';

  constructor(
    message: string,
    readonly code: LoadCode = LOAD_CODES.cannotLoad,
  ) {
    super(message);
  }
}

/** An error in how a function was called (a wrong input); its message says what and where. */
export class CallError extends Error {
  override readonly name = 'CallError';

  constructor(
    message: string,
    readonly code: CallCode = CALL_CODES.badArgument,
  ) {
    super(message);
  }
}
