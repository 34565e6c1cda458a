/** Printing attribute maps: `attrs(global_symbol="main", axis=[0, 1])`, keys sorted. */
import { type AttrMap, type AttrValue, sortedKeys } from '../attrs.ts';
import { shortestFloat } from '../float-bits.ts';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function printKey(k: string): string {
  return IDENT.test(k) ? k : JSON.stringify(k);
}

export function printAttrValue(v: AttrValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : shortestFloat(v, 'float64');
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly AttrValue[]).map(printAttrValue).join(', ')}]`;
  const m = v as AttrMap;
  return `{${sortedKeys(m)
    .map((k) => `${printKey(k)}: ${printAttrValue(m[k]!)}`)
    .join(', ')}}`;
}

/** `k=v, ...` in key order, for inline use (operator calls). */
export function printAttrList(attrs: AttrMap): string {
  return sortedKeys(attrs)
    .map((k) => `${printKey(k)}=${printAttrValue(attrs[k]!)}`)
    .join(', ');
}

/** `attrs(...)`, or the empty string when there are none. */
export function printAttrs(attrs: AttrMap): string {
  const list = printAttrList(attrs);
  return list ? `attrs(${list})` : '';
}
