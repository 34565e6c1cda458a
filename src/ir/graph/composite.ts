/**
 * Composite functions: a group of operator calls that the partition stage
 * hands to a backend (a library, another runtime). The group stays in the
 * module as a graph function marked `attrs(composite=..., backend=...,
 * global_symbol="<backend>.<fn>")`, so the module can still be rebuilt
 * without the backend; its call site is `call_dps_packed("<backend>.<fn>", ...)`.
 * Kiln's own lowering passes leave composites alone, and DCE keeps one while
 * a call_dps_packed names its symbol.
 */
import type { IRModule, ModuleFunction } from '../module.ts';
import type { GraphFunc } from './expr.ts';

export const COMPOSITE_ATTR = 'composite';
export const BACKEND_ATTR = 'backend';
export const SYMBOL_ATTR = 'global_symbol';
/** What the backend's codegen produced for the composite: `{ entry, files }` (files base64). */
export const BACKEND_OUTPUT_ATTR = 'backend_output';

export function isComposite(f: ModuleFunction | undefined): boolean {
  return f?.kind === 'func' && typeof f.attrs[COMPOSITE_ATTR] === 'string';
}

/** The composites of a module by the registry symbol their call sites name. */
export function compositesBySymbol(m: IRModule): Map<string, { name: string; func: GraphFunc }> {
  const out = new Map<string, { name: string; func: GraphFunc }>();
  for (const [name, f] of m.functions) {
    if (f.kind !== 'func' || !isComposite(f)) continue;
    const symbol = f.attrs[SYMBOL_ATTR];
    if (typeof symbol === 'string') out.set(symbol, { name, func: f });
  }
  return out;
}
