/** Identity-based structural equality of prim expressions (the analyzer must keep the same variables), for the arithmetic tests. */
import type { PrimExpr } from '../../../src/ir/prim/expr.ts';
import { printPrimExpr } from '../../../src/ir/text/printer.ts';

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

/** For failure messages: the text format's spelling. */
export function show(e: PrimExpr): string {
  return printPrimExpr(e);
}
