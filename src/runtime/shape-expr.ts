/** Evaluates the VM's shape expressions over the symbolic variables bound so far. */
import type { ShapeExpr } from './program.ts';

export function evalShapeExpr(e: ShapeExpr, vars: readonly (number | undefined)[], varNames: readonly string[]): number {
  if (typeof e === 'number') return e;
  if (typeof e === 'boolean') return e ? 1 : 0;
  if (e[0] === 'v') {
    const v = vars[e[1]];
    if (v === undefined) throw new Error(`symbolic variable ${varNames[e[1]] ?? e[1]} is used before it is bound`);
    return v;
  }
  const [op, ...xs] = e;
  const a = (i: number): number => evalShapeExpr(xs[i]!, vars, varNames);
  switch (op) {
    case 'add':
      return a(0) + a(1);
    case 'sub':
      return a(0) - a(1);
    case 'mul':
      return a(0) * a(1);
    case 'div':
      return a(0) / a(1);
    case 'floordiv':
      return Math.floor(a(0) / a(1));
    case 'floormod': {
      const x = a(0);
      const y = a(1);
      return x - Math.floor(x / y) * y;
    }
    case 'truncdiv':
      return Math.trunc(a(0) / a(1));
    case 'truncmod':
      return a(0) % a(1);
    case 'min':
      return Math.min(a(0), a(1));
    case 'max':
      return Math.max(a(0), a(1));
    case 'eq':
      return a(0) === a(1) ? 1 : 0;
    case 'ne':
      return a(0) !== a(1) ? 1 : 0;
    case 'lt':
      return a(0) < a(1) ? 1 : 0;
    case 'le':
      return a(0) <= a(1) ? 1 : 0;
    case 'gt':
      return a(0) > a(1) ? 1 : 0;
    case 'ge':
      return a(0) >= a(1) ? 1 : 0;
    case 'and':
      return a(0) && a(1) ? 1 : 0;
    case 'or':
      return a(0) || a(1) ? 1 : 0;
    case 'not':
      return a(0) ? 0 : 1;
    case 'select':
      return a(0) ? a(1) : a(2);
    case 'int':
      return Math.trunc(a(0));
    case 'float':
      return a(0);
  }
}
