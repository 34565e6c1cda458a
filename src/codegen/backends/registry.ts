/**
 * Partition backends, compile side: a backend is a name, `supports(composite)`
 * (whether it takes a group the partition stage matched) and
 * `codegen(composite)` (the files the artifact needs for it and the entry its
 * runtime gets). Built-in backends register here by name; a pipeline can also
 * name a file of its own (`backend: ./my-backend.ts`) whose default export is
 * `defineBackend({...})`. The runtime side (`runtime`, a BackendRuntime of
 * kiln/runtime) turns what codegen wrote into registry functions at load.
 */
import type { AttrValue } from '../../ir/attrs.ts';
import type { GraphFunc } from '../../ir/graph/expr.ts';
import type { BackendRuntime } from '../../runtime/backends.ts';

/** A composite function as a backend sees it. */
export interface Composite {
  /** Its name in the module. */
  readonly name: string;
  /** The registry function its call site names: `<backend>.<name>`. */
  readonly symbol: string;
  /** Parameters: the inputs, then the constants it reads (weights come as arguments); the body: operator calls. */
  readonly func: GraphFunc;
}

export interface BackendOutput {
  /** Files for the artifact, by a name of the backend's choosing (written under backends/<backend>/<fn>/). */
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
  /** What the backend's runtime gets for this function (JSON). */
  readonly entry?: AttrValue;
}

export interface Backend {
  readonly name: string;
  /** Bump when codegen's output changes for the same composite (it is part of the cache key). */
  readonly version?: number;
  /** Whether the backend takes this composite; one it refuses stays Kiln's. */
  supports(composite: GraphFunc): boolean;
  codegen(composite: Composite): BackendOutput | Promise<BackendOutput>;
  /** The runtime side, for applications that load the artifact in this process (or pass it to load()). */
  readonly runtime?: BackendRuntime;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** Checks a backend definition (built-in or from a user's file) and returns it. */
export function defineBackend(def: Backend): Backend {
  if (!NAME.test(def.name)) throw new Error(`backend name '${def.name}' must be lower-case letters, digits and dashes`);
  return def;
}

/** Whether a value is a backend (what a user's backend file must export as default). */
export function isBackend(x: unknown): x is Backend {
  const b = x as Partial<Backend> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.name === 'string' &&
    typeof b.supports === 'function' &&
    typeof b.codegen === 'function'
  );
}

const registry = new Map<string, Backend>();

export function registerBackend(b: Backend): void {
  if (registry.has(b.name)) throw new Error(`backend '${b.name}' is registered twice`);
  registry.set(defineBackend(b).name, b);
}

export function getBackend(name: string): Backend | undefined {
  return registry.get(name);
}

export function allBackends(): Backend[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
