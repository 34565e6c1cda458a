/** Attribute values of functions, operators, loops and blocks: JSON-like data. */

export type AttrValue = number | string | boolean | null | readonly AttrValue[] | AttrMap;

export interface AttrMap {
  readonly [key: string]: AttrValue;
}

export const NO_ATTRS: AttrMap = Object.freeze({});

/** Keys in a stable order: printing and hashing never depend on insertion order. */
export function sortedKeys(attrs: AttrMap): string[] {
  return Object.keys(attrs).sort();
}

export function attrsEqual(a: AttrValue, b: AttrValue): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as readonly AttrValue[];
    return a.length === bb.length && a.every((x: AttrValue, i: number) => attrsEqual(x, bb[i]!));
  }
  const am = a as AttrMap;
  const bm = b as AttrMap;
  const ka = sortedKeys(am);
  const kb = sortedKeys(bm);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && attrsEqual(am[k]!, bm[k]!));
}
