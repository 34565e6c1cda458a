/**
 * Softmax, LogSoftmax and Hardmax. From opset 13 they work along one axis
 * (default -1); before, the input is seen as a matrix whose rows are the
 * dims before `axis` (default 1) flattened, the columns all the rest, and
 * each row is normalized as a whole.
 */
import { type PrimExpr, product } from '../../../../ir/prim/expr.ts';
import { literal, type NodeContext } from '../../context.ts';
import type { Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { normAxis } from '../shape.ts';
import { castTo, idx, reshape } from './common.ts';

type AlongAxis = (ctx: NodeContext, x: Value, dims: readonly PrimExpr[], axis: number) => Value;

function overAxis(ctx: NodeContext, f: AlongAxis): Value {
  const x = ctx.input(0);
  const dims = ctx.shape(0);
  const rank = dims.length;
  if (ctx.opset >= 13) return f(ctx, x, dims, normAxis(ctx, ctx.attr.int('axis', -1), rank));
  // Axis 0 makes the matrix one row, and axis = rank (allowed then) one column.
  const given = ctx.attr.int('axis', 1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis > rank) return ctx.fail(`axis ${given} is out of range for rank ${rank}`);
  if (axis === rank - 1) return f(ctx, x, dims, axis);
  const matrix = [product(dims.slice(0, axis)), product(dims.slice(axis))];
  const y = f(
    ctx,
    reshape(ctx, x, matrix),
    matrix.map((d) => ctx.simplify(d)),
    1,
  );
  return reshape(ctx, y, dims);
}

defineConverter('Softmax', (ctx) => overAxis(ctx, (c, x, _dims, axis) => c.op('softmax', [x], { axis })));

defineConverter('LogSoftmax', (ctx) => overAxis(ctx, (c, x, _dims, axis) => c.op('log_softmax', [x], { axis })));

/** 1 where the first maximum along the axis is, 0 elsewhere: the argmax compared with each position. */
defineConverter('Hardmax', (ctx) =>
  overAxis(ctx, (c, x, dims, axis) => {
    const top = c.op('argmax', [x], { axis, keepdims: true });
    const positions = c.op('arange', [c.primArg(literal(0, 'int64')), c.primArg(dims[axis]!), c.primArg(literal(1, 'int64'))], {
      dtype: 'int64',
    });
    const along = reshape(
      c,
      positions,
      dims.map((d, i) => (i === axis ? d : idx(1))),
    );
    return castTo(c, c.op('equal', [top, along]), ctx.dtype(0));
  }),
);
