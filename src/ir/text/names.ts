/**
 * Printed names: every variable and buffer of a function gets a name unique
 * in that function, from its hint, so that a module whose variables share a
 * hint still prints unambiguously.
 */
import { DATA_TYPES, shortName } from '../dtype.ts';

export const KEYWORDS = new Set([
  'prim_func',
  'func',
  'extern_func',
  'module',
  'attrs',
  'for',
  'in',
  'grid',
  'range',
  'parallel',
  'vectorized',
  'unrolled',
  'thread_binding',
  'block',
  'spatial',
  'reduce',
  'init',
  'reads',
  'writes',
  'where',
  'alloc',
  'if',
  'else',
  'let',
  'eval',
  'dataflow',
  'output',
  'return',
  'const',
  'shape',
  'prim',
  'call_tir',
  'call_dps_packed',
  'match_cast',
  'true',
  'false',
  'inf',
  'nan',
  'Tensor',
  'Tuple',
  'Shape',
  'Prim',
  'Object',
  'Callable',
  'select',
  'min',
  'max',
  'truncdiv',
  'truncmod',
  'shared',
  'local',
  'global',
  'strides',
  ...DATA_TYPES,
  ...DATA_TYPES.map(shortName),
]);

function sanitize(hint: string): string {
  let s = hint.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `v${s}`;
  if (KEYWORDS.has(s) || /^(inf|nan)(f16|bf16|f32|f64)$/.test(s)) s = `${s}_`;
  return s;
}

export class NameTable {
  private readonly used = new Set<string>();
  private readonly names = new Map<object, string>();

  /** Gives `obj` a fresh name based on `hint`. */
  define(obj: object, hint: string): string {
    const base = sanitize(hint);
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    this.names.set(obj, name);
    return name;
  }

  get(obj: object): string | undefined {
    return this.names.get(obj);
  }

  /** The name of `obj`, defining it on first use. */
  nameOf(obj: object, hint: string): string {
    return this.names.get(obj) ?? this.define(obj, hint);
  }

  has(obj: object): boolean {
    return this.names.has(obj);
  }
}
