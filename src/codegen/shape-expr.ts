/**
 * Prim expressions over the kernel's symbolic variables as the runtime's
 * shape expressions (slot i is the kernel's vars[i]): buffer shapes, grid
 * extents and workspace sizes, which the runtime evaluates before it dispatches.
 */
import { isFloat } from '../ir/dtype.ts';
import type { PrimExpr, PrimVar } from '../ir/prim/expr.ts';
import type { ShapeExpr } from '../runtime/program.ts';
import { SHAPE_OPS } from './shape-ops.ts';

/** `what` names the expression in errors, e.g. "the extent of blockIdx.x loop 'bx'". */
export function toShapeExpr(
  e: PrimExpr,
  slots: ReadonlyMap<PrimVar, number>,
  what: string,
  unsupported: (problem: string) => never,
): ShapeExpr {
  const go = (x: PrimExpr): ShapeExpr => {
    switch (x.kind) {
      case 'int':
      case 'float':
      case 'bool':
        return x.value;
      case 'var': {
        const s = slots.get(x);
        if (s === undefined) {
          return unsupported(
            `${what} uses '${x.name}', which is not a parameter of the kernel or a dimension of one: the runtime cannot compute it`,
          );
        }
        return ['v', s];
      }
      case 'binary': {
        const op = SHAPE_OPS[x.op];
        if (!op) return unsupported(`${what} uses the operator ${x.op}, which shape expressions do not have`);
        return [op, go(x.a), go(x.b)];
      }
      case 'not':
        return ['not', go(x.a)];
      case 'select':
        return ['select', go(x.cond), go(x.t), go(x.f)];
      case 'cast':
        if (x.dtype === 'bool') return ['ne', go(x.value), 0];
        return isFloat(x.dtype) ? ['float', go(x.value)] : ['int', go(x.value)];
      case 'call':
      case 'load':
        return unsupported(`${what} depends on ${x.kind === 'call' ? `a call of ${x.op}` : `buffer '${x.buffer.name}'`}`);
    }
  };
  return go(e);
}

/** The product of expressions as one shape expression, constants folded. */
export function shapeProduct(dims: readonly ShapeExpr[]): ShapeExpr {
  let constant = 1;
  let out: ShapeExpr | undefined;
  for (const d of dims) {
    if (typeof d === 'number') constant *= d;
    else out = out === undefined ? d : ['mul', out, d];
  }
  if (out === undefined) return constant;
  return constant === 1 ? out : ['mul', out, constant];
}
