/**
 * Legalizations of the operators of src/ops/create.ts: tensors filled with a
 * value, ranges, triangular masks, identity matrices and one-hot encodings,
 * each one compute over the result shape.
 */
import { compute, type Tensor } from '../../ir/builder/te.ts';
import { type DataType, INDEX_DTYPE, isFloat } from '../../ir/dtype.ts';
import { add, eq, ge, le, mul, type PrimExpr, select } from '../../ir/prim/expr.ts';
import { convert, lit, normAxis } from './common.ts';
import { defineLegalization, type LegalizeCall } from './registry.ts';

/** A tensor of the result's shape holding `value` (of the result's dtype) everywhere. */
function fill(c: LegalizeCall, value: (dtype: DataType) => PrimExpr): Tensor {
  const v = value(c.outDtype());
  return compute(c.outShape(), () => v, c.op);
}

defineLegalization(['full', 'full_like'], (c) => fill(c, (t) => convert(c.scalar('fill_value'), t)));
defineLegalization(['zeros', 'zeros_like'], (c) => fill(c, (t) => lit(0, t)));
defineLegalization(['ones', 'ones_like'], (c) => fill(c, (t) => lit(1, t)));

/**
 * arange: element i is start + i * step, computed in the bounds' float type
 * when they have one (as the inference types the result), else exactly in
 * integers, then converted to the result type.
 */
defineLegalization('arange', (c) => {
  const bounds = [c.prim('start'), c.prim('end'), c.prim('step')];
  const work = bounds.find((b) => isFloat(b.dtype))?.dtype ?? INDEX_DTYPE;
  const start = convert(bounds[0]!, work);
  const step = convert(bounds[2]!, work);
  const dtype = c.outDtype();
  return compute(c.outShape(), ([i]) => convert(add(start, mul(convert(i!, work), step)), dtype), 'arange');
});

/** tril keeps the elements on and below diagonal k of the last two axes, triu those on and above it. */
for (const op of ['tril', 'triu'] as const) {
  defineLegalization(op, (c) => {
    const x = c.tensor('data');
    const k = c.attr<number>('k');
    const zero = lit(0, x.dtype);
    return compute(
      c.outShape(),
      (idx) => {
        const row = idx[idx.length - 2]!;
        const col = idx[idx.length - 1]!;
        const diagonal = k === 0 ? row : add(row, k);
        return select(op === 'tril' ? le(col, diagonal) : ge(col, diagonal), x.at(...idx), zero);
      },
      op,
    );
  });
}

defineLegalization('eye', (c) => {
  const k = c.attr<number>('k');
  const dtype = c.outDtype();
  return compute(c.outShape(), ([i, j]) => select(eq(j!, k === 0 ? i! : add(i!, k)), lit(1, dtype), lit(0, dtype)), 'eye');
});

/**
 * one_hot: on_value where the index equals the position along the new axis.
 * As in Relax and TensorFlow, an index outside [0, depth) gives off_value
 * everywhere (ONNX's negative indices must be wrapped before).
 */
defineLegalization('one_hot', (c) => {
  const indices = c.tensor('indices');
  const on = c.prim('on_value');
  const off = c.prim('off_value');
  const shape = c.outShape();
  const axis = normAxis(c.attr<number>('axis'), shape.length);
  return compute(
    shape,
    (idx) => {
      const at = indices.at(...idx.filter((_, d) => d !== axis));
      return select(eq(convert(at, INDEX_DTYPE), idx[axis]!), on, off);
    },
    'one_hot',
  );
});
