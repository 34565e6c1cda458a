/**
 * Stages: the YAML-facing steps of a pipeline. A stage is an id, a version,
 * a zod options schema (the one source of truth; the pipeline JSON Schema is
 * generated from it), the files it reads, whether its result depends on the
 * target, and `run(module, ctx)`. It must be deterministic for its cache
 * key, or declare itself not cacheable.
 */
import type { z } from 'zod';
import type { IRModule } from '../ir/module.ts';
import type { TargetDescription } from '../ir/target.ts';
import type { SourceLocation } from '../support/diagnostics.ts';
import type { StreamedBytes } from '../support/streamed-bytes.ts';

/** The model a pipeline builds, as its `model:` section says, with the path made absolute. */
export interface ModelSpec {
  readonly path: string;
  readonly format: string;
  /** Symbolic dimensions by their name in the model: a new name and/or an upper bound. */
  readonly dynamic: Readonly<Record<string, { readonly name?: string; readonly upper?: number }>>;
  readonly inputs?: readonly { readonly name: string; readonly shape: readonly (number | string)[]; readonly dtype: string }[];
}

/** A content digest of an input file, other than SHA-256 of its bytes; `kind` names how it is made. */
export interface InputDigest {
  readonly kind: string;
  digest(path: string): string;
}

/** What a stage knows besides its options: where it was declared, the target, the model. */
export interface StageEnvironment {
  /** Directory of the pipeline file that declared the stage: relative paths in its options are relative to it. */
  readonly dir: string;
  readonly target: TargetDescription;
  readonly model: ModelSpec;
}

export interface StageContext<O> extends StageEnvironment {
  readonly options: O;
  /** The stage's name in the pipeline (its id unless renamed). */
  readonly name: string;
  /** Resolves a path from the stage's options against the declaring pipeline file's directory. */
  resolvePath(p: string): string;
  /**
   * Writes an output file (absolute, or relative to `dir`); cached with the stage and restored on
   * a hit. Large content can come as pieces, written as they come (never held whole).
   */
  emitFile(path: string, bytes: Uint8Array | StreamedBytes): void;
  log(message: string): void;
  warn(message: string): void;
  /**
   * Where a path inside the stage's options was written in the pipeline file, for messages
   * (`rules[1]`); with `place`, a place inside that (one-line string) value.
   */
  locate?(path: readonly (string | number)[], place?: { offset: number; length: number }): SourceLocation | undefined;
}

export interface StageDefinition<S extends z.ZodObject = z.ZodObject> {
  readonly id: string;
  /** Bump when the stage's behaviour changes, so cached results from before are not reused. */
  readonly version: number;
  readonly description: string;
  readonly options: S;
  /** Absolute paths of the files the stage reads besides its input module; their content is part of the key. */
  inputs?(options: z.output<S>, env: StageEnvironment): readonly string[];
  /**
   * How the key takes one of those files, when not by the SHA-256 of its bytes: a named digest
   * of its content that the stage computes anyway (an ONNX model's is made of its weights'
   * hashes, which the import needs). Remembered per file version like any file's hash.
   */
  inputDigest?(path: string, env: StageEnvironment): InputDigest | undefined;
  /** Whether the result depends on the target description (default: yes). */
  usesTarget?: boolean | ((options: z.output<S>) => boolean);
  /** More key material: the versions of what the stage composes, the model settings it reads. */
  fingerprint?(options: z.output<S>, env: StageEnvironment): string;
  /**
   * Checks beyond the options schema (a pass name that does not exist, ...):
   * each problem with the path inside the options where it is.
   */
  check?(options: z.output<S>): readonly OptionProblem[];
  /** False for stages that must run every time (default: cacheable). */
  readonly cacheable?: boolean;
  /** A source stage makes the module from the model: it comes first and gets no module. */
  readonly source?: boolean;
  /** The first stage makes the module from the model and gets none. */
  run(module: IRModule | undefined, ctx: StageContext<z.output<S>>): IRModule | Promise<IRModule>;
}

export interface OptionProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly notes?: readonly string[];
  /** Where in the (one-line string) value the problem is, when it is a place in it: 0-based, and how many characters. */
  readonly offset?: number;
  readonly length?: number;
}

const registry = new Map<string, StageDefinition>();

/** Checks a stage definition (built-in or from a user's file) and returns it typed. */
export function defineStage<S extends z.ZodObject>(def: StageDefinition<S>): StageDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.id)) throw new Error(`stage id '${def.id}' must be lower-case letters, digits and dashes`);
  if (!Number.isInteger(def.version) || def.version < 0)
    throw new Error(`stage '${def.id}': version must be a non-negative integer`);
  return def;
}

export function registerStage<S extends z.ZodObject>(def: StageDefinition<S>): void {
  if (registry.has(def.id)) throw new Error(`stage '${def.id}' is registered twice`);
  registry.set(def.id, def);
}

export function getStage(id: string): StageDefinition | undefined {
  return registry.get(id);
}

export function allStages(): StageDefinition[] {
  return [...registry.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Whether a stage with these options depends on the target. */
export function stageUsesTarget(def: StageDefinition, options: unknown): boolean {
  const u = def.usesTarget ?? true;
  return typeof u === 'function' ? u(options as never) : u;
}

/** A value is a stage definition (what a user's stage file must export as default). */
export function isStageDefinition(x: unknown): x is StageDefinition {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  // Duck-typed: a user's file may bring its own copy of zod, so instanceof would not hold.
  const options = d.options as { safeParse?: unknown; shape?: unknown } | undefined;
  return (
    typeof d.id === 'string' &&
    typeof d.version === 'number' &&
    typeof d.run === 'function' &&
    typeof options?.safeParse === 'function' &&
    typeof options.shape === 'object'
  );
}
