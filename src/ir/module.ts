/**
 * The IRModule: graph functions, PrimFuncs and extern declarations side by
 * side under global names, plus module attributes. Every stage of a pipeline
 * takes one and returns one.
 */
import { type AttrMap, NO_ATTRS } from './attrs.ts';
import type { ExternFunc, GraphFunc } from './graph/expr.ts';
import type { PrimFunc } from './tir/stmt.ts';
import { fail, M } from '../support/messages.ts';

export type ModuleFunction = GraphFunc | PrimFunc | ExternFunc;

export interface IRModule {
  readonly kind: 'module';
  /** Global name → function. Iteration order is not meaningful; printing and hashing sort. */
  readonly functions: ReadonlyMap<string, ModuleFunction>;
  readonly attrs: AttrMap;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Hook = (m: IRModule) => void;
let createdHook: Hook | undefined;

/**
 * Called with every module built through `irModule`. The test suite uses it to
 * check that every module it builds prints and parses back.
 */
export function onModuleCreated(hook: Hook | undefined): void {
  createdHook = hook;
}

export function irModule(
  functions: Iterable<readonly [string, ModuleFunction]> | Record<string, ModuleFunction>,
  attrs: AttrMap = NO_ATTRS,
): IRModule {
  const entries = Symbol.iterator in functions ? [...functions] : Object.entries(functions);
  const map = new Map<string, ModuleFunction>();
  for (const [name, f] of entries) {
    if (!NAME.test(name)) fail(M.irConstruction, { what: 'module', problem: `'${name}' is not a valid function name` });
    if (map.has(name)) fail(M.irConstruction, { what: 'module', problem: `function '${name}' is defined twice` });
    map.set(name, f);
  }
  const m: IRModule = { kind: 'module', functions: map, attrs };
  createdHook?.(m);
  return m;
}

/** The module with `name` bound to `f` (added or replaced). */
export function withFunction(m: IRModule, name: string, f: ModuleFunction): IRModule {
  if (m.functions.get(name) === f) return m;
  const entries = new Map(m.functions);
  entries.set(name, f);
  return irModule(entries, m.attrs);
}

export function withoutFunction(m: IRModule, name: string): IRModule {
  if (!m.functions.has(name)) return m;
  const entries = new Map(m.functions);
  entries.delete(name);
  return irModule(entries, m.attrs);
}

/** Function names in the canonical order: extern declarations, PrimFuncs, graph functions, each by name. */
export function sortedFunctionNames(m: IRModule): string[] {
  const rank = (f: ModuleFunction): number => (f.kind === 'extern_func' ? 0 : f.kind === 'prim_func' ? 1 : 2);
  return [...m.functions.keys()].sort((a, b) => {
    const d = rank(m.functions.get(a)!) - rank(m.functions.get(b)!);
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
}

export function getGraphFunc(m: IRModule, name: string): GraphFunc | undefined {
  const f = m.functions.get(name);
  return f?.kind === 'func' ? f : undefined;
}

export function getPrimFunc(m: IRModule, name: string): PrimFunc | undefined {
  const f = m.functions.get(name);
  return f?.kind === 'prim_func' ? f : undefined;
}
