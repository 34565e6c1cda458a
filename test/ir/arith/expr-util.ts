/** Structural equality and a tiny printer for prim expressions, for the arithmetic tests. */
import type { PrimExpr } from '../../../src/ir/prim/expr.ts';

/** Equal trees; variables and buffers compare by identity, floats by Object.is (NaN equals NaN). */
export function sameExpr(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.dtype !== b.dtype) return false;
  switch (a.kind) {
    case 'int':
    case 'bool':
      return a.value === (b as typeof a).value;
    case 'float':
      return Object.is(a.value, (b as typeof a).value);
    case 'var':
      return false;
    case 'binary': {
      const y = b as typeof a;
      return a.op === y.op && sameExpr(a.a, y.a) && sameExpr(a.b, y.b);
    }
    case 'not':
      return sameExpr(a.a, (b as typeof a).a);
    case 'select': {
      const y = b as typeof a;
      return sameExpr(a.cond, y.cond) && sameExpr(a.t, y.t) && sameExpr(a.f, y.f);
    }
    case 'cast':
      return sameExpr(a.value, (b as typeof a).value);
    case 'call': {
      const y = b as typeof a;
      return a.op === y.op && a.args.length === y.args.length && a.args.every((x, i) => sameExpr(x, y.args[i]!));
    }
    case 'load': {
      const y = b as typeof a;
      return a.buffer === y.buffer && a.indices.every((x, i) => sameExpr(x, y.indices[i]!));
    }
  }
}

const INFIX: Partial<Record<string, string>> = {
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  and: '&&',
  or: '||',
  bitand: '&',
  bitor: '|',
  bitxor: '^',
  shl: '<<',
  shr: '>>',
};

/** Fully parenthesized, with the dtype on literals that are not int64 or float32. */
export function show(e: PrimExpr): string {
  switch (e.kind) {
    case 'int':
      return e.dtype === 'int64' ? String(e.value) : `${e.value}${e.dtype}`;
    case 'float':
      return `${Object.is(e.value, -0) ? '-0' : String(e.value)}${e.dtype === 'float32' ? 'f' : e.dtype}`;
    case 'bool':
      return String(e.value);
    case 'var':
      return e.name;
    case 'binary': {
      const sym = INFIX[e.op];
      return sym ? `(${show(e.a)} ${sym} ${show(e.b)})` : `${e.op}(${show(e.a)}, ${show(e.b)})`;
    }
    case 'not':
      return `!${show(e.a)}`;
    case 'select':
      return `select(${show(e.cond)}, ${show(e.t)}, ${show(e.f)})`;
    case 'cast':
      return `${e.dtype}(${show(e.value)})`;
    case 'call':
      return `${e.op}(${e.args.map(show).join(', ')})`;
    case 'load':
      return `${e.buffer.name}[${e.indices.map(show).join(', ')}]`;
  }
}
