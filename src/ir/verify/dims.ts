/**
 * Dimensions that cannot be: a tensor's or buffer's dimension must be an
 * integer expression, a constant one non-negative, and a shape of constants
 * must count fewer elements than 2^53 (sizes and offsets are JavaScript
 * numbers in the runtime). Found here, such a shape is a located verifier
 * error at build time instead of a crash when the artifact runs.
 */
import { isInt } from '../dtype.ts';
import type { StructInfo } from '../graph/struct-info.ts';
import type { PrimExpr } from '../prim/expr.ts';
import { printPrimExpr } from '../text/printer.ts';

/** The problems of one shape, in words; `what` names it ("buffer 'A'", "Tensor[(0.5, 4), f32]"). */
export function shapeProblems(shape: readonly PrimExpr[], what: string): string[] {
  const out: string[] = [];
  let elements = 1;
  for (const d of shape) {
    if (!isInt(d.dtype)) out.push(`${what}: dimension ${printPrimExpr(d)} is not an integer (it is ${d.dtype})`);
    else if (d.kind === 'int' && d.value < 0) out.push(`${what}: dimension ${d.value} is negative`);
    else if (d.kind === 'int') elements *= d.value;
  }
  if (elements > Number.MAX_SAFE_INTEGER) out.push(`${what}: ${elements.toExponential(2)} elements, more than 2^53`);
  return out;
}

/** The shapes inside a struct info (tensors and shape values, in tuples too): their problems. */
export function structInfoShapeProblems(s: StructInfo, print: (s: StructInfo) => string): string[] {
  switch (s.kind) {
    case 'tensor':
      return s.shape ? shapeProblems(s.shape, print(s)) : [];
    case 'shape':
      return s.values ? shapeProblems(s.values, print(s)) : [];
    case 'tuple':
      return s.fields.flatMap((f) => structInfoShapeProblems(f, print));
    case 'func':
      return [...(s.params ?? []).flatMap((p) => structInfoShapeProblems(p, print)), ...structInfoShapeProblems(s.ret, print)];
    case 'prim':
    case 'object':
      return [];
  }
}
