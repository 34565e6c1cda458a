/**
 * Legalization of matmul, numpy's semantics: a 1-D first operand is a row,
 * a 1-D second operand a column (and their unit dim is not in the result),
 * batch dims broadcast. Products accumulate in the result's dtype (float32
 * for half floats, cast back at the end); a bool matmul is an or of ands.
 */
import { compute, type Reduction, reduceAxis, reduction, sum, type Tensor } from '../../ir/builder/te.ts';
import { isBool } from '../../ir/dtype.ts';
import { and, intImm, mul, type PrimExpr } from '../../ir/prim/expr.ts';
import { convert, isOne } from './common.ts';
import { ANY, accumDtype } from './reduce.ts';
import { defineLegalization } from './registry.ts';

/** The batch index of `t` (its dims before the last two) that output batch index `batch` reads, broadcasting dims of 1. */
function batchIndex(t: Tensor, batch: readonly PrimExpr[]): PrimExpr[] {
  const dims = t.shape.slice(0, -2);
  const offset = batch.length - dims.length;
  return dims.map((d, j) => (isOne(d) ? intImm(0, d.dtype) : batch[offset + j]!));
}

defineLegalization('matmul', (c) => {
  const a = c.tensor('x1');
  const b = c.tensor('x2');
  const out = c.outDtype();
  const acc = accumDtype(out);
  const vec1 = a.shape.length === 1;
  const vec2 = b.shape.length === 1;
  const k = reduceAxis(a.shape[a.shape.length - 1]!, 'k');
  const shape = c.outShape();
  const nb = shape.length - (vec1 ? 0 : 1) - (vec2 ? 0 : 1);

  const product = (i: readonly PrimExpr[]): Reduction => {
    const batch = i.slice(0, nb);
    const x = a.at(...(vec1 ? [k.var] : [...batchIndex(a, batch), i[nb]!, k.var]));
    const y = b.at(...(vec2 ? [k.var] : [...batchIndex(b, batch), k.var, i[i.length - 1]!]));
    if (isBool(acc)) return reduction(ANY, [and(convert(x, 'bool'), convert(y, 'bool'))], [k]);
    return sum(mul(convert(x, acc), convert(y, acc)), [k]);
  };
  if (acc === out) return compute(shape, product, 'T_matmul');
  const r = compute(shape, product, 'T_matmul_acc');
  return compute(shape, (i) => convert(r.at(...i), out), 'T_matmul');
});
