/** Index expressions as `coef * v + rest`: how a vectorized loop's variable moves an access. */
import { add, intImm, mul, type PrimExpr, type PrimVar, sub, usesVar } from '../prim/expr.ts';

export interface Affine {
  /** How far one step of `v` moves the expression. */
  readonly coef: number;
  /** The expression with `v` at 0. */
  readonly rest: PrimExpr;
}

/** `e` as coef * v + rest with a constant coef and rest free of v; undefined when it is not of that form. */
export function affineIn(e: PrimExpr, v: PrimVar): Affine | undefined {
  if (!usesVar(e, v)) return { coef: 0, rest: e };
  if (e === v) return { coef: 1, rest: intImm(0, e.dtype) };
  if (e.kind !== 'binary') return undefined;
  const a = affineIn(e.a, v);
  const b = affineIn(e.b, v);
  if (!a || !b) return undefined;
  switch (e.op) {
    case 'add':
      return { coef: a.coef + b.coef, rest: plus(a.rest, b.rest) };
    case 'sub':
      return { coef: a.coef - b.coef, rest: isZero(b.rest) ? a.rest : sub(a.rest, b.rest) };
    case 'mul':
      if (b.coef === 0 && b.rest.kind === 'int') return { coef: a.coef * b.rest.value, rest: times(a.rest, b.rest.value) };
      if (a.coef === 0 && a.rest.kind === 'int') return { coef: b.coef * a.rest.value, rest: times(b.rest, a.rest.value) };
      return undefined;
    default:
      return undefined;
  }
}

const isZero = (e: PrimExpr): boolean => e.kind === 'int' && e.value === 0;

function plus(a: PrimExpr, b: PrimExpr): PrimExpr {
  if (isZero(a)) return b;
  if (isZero(b)) return a;
  if (a.kind === 'int' && b.kind === 'int') return intImm(a.value + b.value, a.dtype);
  return add(a, b);
}

function times(a: PrimExpr, k: number): PrimExpr {
  if (a.kind === 'int') return intImm(a.value * k, a.dtype);
  return k === 1 ? a : mul(a, intImm(k, a.dtype));
}
