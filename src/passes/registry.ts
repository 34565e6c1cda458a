/**
 * The pass registry. A pass is a configured factory (TVM's `transform.py`):
 * `definePass` declares a name, a version, a zod schema of options with
 * defaults and a `create(options)` that returns the configured pass; the
 * pass's name is what traces, timings and error messages show. Stages look
 * passes up by name with `createPass(name, options)`, which validates the
 * options once, here, with one set of messages.
 */
import type { z } from 'zod';
import type { IRModule } from '../ir/module.ts';
import type { TargetDescription } from '../ir/target.ts';
import { didYouMean } from '../support/diagnostics.ts';
import { fail, M } from '../support/messages.ts';

export interface PassContext {
  readonly target?: TargetDescription;
  /** Called around every pass that `runPass` (and so `sequential`) runs: timings, traces, verification. */
  readonly instruments?: readonly PassInstrument[];
}

export interface PassInstrument {
  before?(pass: Pass, m: IRModule): void;
  /** `result` is `m` itself when the pass changed nothing. */
  after?(pass: Pass, m: IRModule, result: IRModule): void;
}

/** A configured pass: IRModule in, IRModule out; returns its input when nothing changed. */
export interface Pass {
  readonly name: string;
  run(m: IRModule, ctx: PassContext): IRModule;
}

export interface PassDefinition<S extends z.ZodObject> {
  /** Kebab-case, as pipelines spell it: `dce`, `fuse-ops`. */
  name: string;
  description: string;
  /** Bumped whenever the output for the same input and options changes (cache keys). */
  version: number;
  /** Whether the result depends on the target (cache keys); false when left out. */
  usesTarget?: boolean;
  /** Options with their defaults; unknown keys are rejected. */
  options: S;
  /** Loads a heavy implementation before the pass runs (the stage that runs passes awaits it). */
  load?: () => Promise<void>;
  create(options: z.output<S>): Pass;
}

/** A pass as the registry keeps it. */
export interface RegisteredPass {
  readonly name: string;
  readonly description: string;
  readonly version: number;
  readonly usesTarget: boolean;
  readonly options: z.ZodObject;
  /** Awaited before the pass runs: loads an implementation kept out of start-up. */
  load(): Promise<void>;
  /** Validates `options` (defaults filled in) and returns the configured pass. */
  create(options?: unknown): Pass;
}

/** What `definePass` returns: the registered pass, with `create` typed by its schema. */
export interface DefinedPass<S extends z.ZodObject> extends RegisteredPass {
  create(options?: z.input<S>): Pass;
}

const PASSES = new Map<string, RegisteredPass>();

/** Declares a pass. Declaring a name twice is a bug in Kiln (or the plugin), not a user error. */
export function definePass<S extends z.ZodObject>(def: PassDefinition<S>): DefinedPass<S> {
  if (PASSES.has(def.name)) throw new Error(`pass '${def.name}' is defined twice`);
  if (!Number.isInteger(def.version) || def.version < 0)
    throw new Error(`pass '${def.name}': version must be a non-negative integer`);
  const schema = def.options.strict();
  const pass: DefinedPass<S> = {
    name: def.name,
    description: def.description,
    version: def.version,
    usesTarget: def.usesTarget ?? false,
    options: schema,
    load: def.load ?? (() => Promise.resolve()),
    create: (options?: unknown) => def.create(parseOptions(def.name, schema, options ?? {}) as z.output<S>),
  };
  PASSES.set(def.name, pass);
  return pass;
}

function parseOptions(pass: string, schema: z.ZodObject, options: unknown): unknown {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const known = Object.keys(schema.shape).sort();
  const notes: string[] = [];
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) notes.push(...didYouMean(k, known));
      const accepted = known.length === 0 ? 'it takes no options' : `it takes ${known.map((k) => `'${k}'`).join(', ')}`;
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (${accepted})`;
    }
    const where = issue.path.length > 0 ? `option '${issue.path.map(String).join('.')}': ` : '';
    return `${where}${issue.message}`;
  });
  return fail(M.badPassOptions, { pass, problem: problems.join('; ') }, undefined, notes);
}

export function getPass(name: string): RegisteredPass | undefined {
  return PASSES.get(name);
}

/** The names of all registered passes, sorted. */
export function allPasses(): string[] {
  return [...PASSES.keys()].sort();
}

/** The pass `name` configured with `options`; an unknown name or invalid options throw with what was meant. */
export function createPass(name: string, options?: unknown): Pass {
  const def = PASSES.get(name);
  if (!def) {
    const near = didYouMean(name, PASSES.keys());
    return fail(M.unknownPass, { name }, undefined, near.length > 0 ? near : [`the passes are ${allPasses().join(', ')}`]);
  }
  return def.create(options);
}

/** Runs one pass, with the context's instruments around it. */
export function runPass(pass: Pass, m: IRModule, ctx: PassContext = {}): IRModule {
  for (const i of ctx.instruments ?? []) i.before?.(pass, m);
  const result = pass.run(m, ctx);
  for (const i of ctx.instruments ?? []) i.after?.(pass, m, result);
  return result;
}

/** The passes in order, as one pass; its name lists theirs unless given. */
export function sequential(passes: readonly Pass[], name?: string): Pass {
  const list = [...passes];
  return {
    name: name ?? `sequential(${list.map((p) => p.name).join(', ')})`,
    run: (m, ctx) => list.reduce((acc, p) => runPass(p, acc, ctx), m),
  };
}
