/**
 * Operators that rearrange dims without computing: reshape, permute_dims,
 * expand_dims, squeeze, flatten, concat, broadcast_to, tile, repeat, flip and
 * shape_of. Element counts are compared with the analyzer, so `(n, 4)` to
 * `(-1, 2)` gives `(n * 2, 2)` and `(n, 4)` to `(n, 5)` is an error.
 */
import { z } from 'zod';
import { add, floordiv, floormod, mul, ne, product } from '../ir/prim/expr.ts';
import { shapeSI } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import {
  argText,
  constValue,
  fmtDims,
  fmtExpr,
  fmtShape,
  int,
  normAxes,
  normAxis,
  outTensor,
  provablyDifferent,
  provablyEqual,
  requireSizes,
  sameDtype,
  sameShape,
} from './shape.ts';

defineOp({
  name: 'reshape',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'shape', kind: 'shape' },
  ],
  attrs: A.NO_ATTRS_SCHEMA,
  infer: ({ data, shape }, _attrs, ctx) => {
    const target = shape.values;
    if (!target) return outTensor(shape.ndim, data.dtype, data);
    const to = `to ${fmtDims(target)}`;
    const wild = target.flatMap((d, i) => (constValue(d) === -1 ? [i] : []));
    if (wild.length > 1) ctx.shapeError(`cannot reshape ${argText('data', data)} ${to}: at most one dim may be -1`);
    for (const d of target) {
      const v = constValue(d);
      if (v !== undefined && v < -1) ctx.shapeError(`cannot reshape ${argText('data', data)} ${to}: dim ${v} is negative`);
    }
    if (!data.shape) return outTensor(wild.length > 0 ? target.length : target, data.dtype, data);
    const an = ctx.analyzer;
    const count = product(data.shape);
    const w = wild[0];
    if (w === undefined) {
      const newCount = product(target);
      if (provablyDifferent(an, count, newCount)) {
        ctx.shapeError(
          `cannot reshape ${argText('data', data)} ${to}: ${fmtExpr(an.simplify(count))} elements do not fill ${fmtExpr(an.simplify(newCount))}`,
        );
      }
      return outTensor(target, data.dtype, data);
    }
    // The -1 dim takes what the others leave: floordiv(count, product(others)), exact when divisible.
    const others = product(target.filter((_, i) => i !== w));
    if (provablyEqual(an, others, int(0)) || an.canProve(ne(floormod(count, others), 0))) {
      ctx.shapeError(
        `cannot reshape ${argText('data', data)} ${to}: ${fmtExpr(an.simplify(count))} elements are not a multiple of ${fmtExpr(an.simplify(others))}`,
      );
    }
    return outTensor(
      target.map((d, i) => (i === w ? floordiv(count, others) : d)),
      data.dtype,
      data,
    );
  },
});

/** permute_dims: axes[i] is the input axis that becomes output axis i; no axes reverses them. */
defineOp({
  name: 'permute_dims',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axes: z.array(z.int()).nullable().default(null) }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim < 0) return outTensor(attrs.axes?.length ?? -1, data.dtype, data);
    const ndim = data.ndim;
    const axes = attrs.axes ?? Array.from({ length: ndim }, (_, i) => ndim - 1 - i);
    if (axes.length !== ndim) {
      ctx.shapeError(`axes [${axes.join(', ')}] must list each of the ${ndim} axes of ${argText('data', data)} once`);
    }
    const perm = normAxes(ctx, axes, ndim, 'data');
    return data.shape
      ? outTensor(
          perm.map((a) => data.shape![a]!),
          data.dtype,
          data,
        )
      : sameShape(data);
  },
});

/** expand_dims: inserts unit dims; `axis` are positions in the result. */
defineOp({
  name: 'expand_dims',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: A.requiredAxes() }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim < 0) return outTensor(-1, data.dtype, data);
    const ndim = data.ndim + attrs.axis.length;
    const inserted = new Set(normAxes(ctx, attrs.axis, ndim, 'result', ` of expanding ${argText('data', data)}`));
    if (!data.shape) return outTensor(ndim, data.dtype, data);
    const rest = [...data.shape];
    const out = Array.from({ length: ndim }, (_, i) => (inserted.has(i) ? int(1) : rest.shift()!));
    return outTensor(out, data.dtype, data);
  },
});

/** squeeze: drops unit dims (listed ones, or every dim proven to be 1). */
defineOp({
  name: 'squeeze',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: A.optionalAxes() }),
  infer: ({ data }, attrs, ctx) => {
    const an = ctx.analyzer;
    const one = int(1);
    if (attrs.axis === null) {
      if (!data.shape) return outTensor(data.ndim === 0 ? 0 : -1, data.dtype, data);
      // A dim that might or might not be 1 leaves even the rank unknown, as in Relax.
      if (data.shape.some((d) => !provablyEqual(an, d, one) && !provablyDifferent(an, d, one)))
        return outTensor(-1, data.dtype, data);
      return outTensor(
        data.shape.filter((d) => !provablyEqual(an, d, one)),
        data.dtype,
        data,
      );
    }
    if (data.ndim < 0) return outTensor(-1, data.dtype, data);
    const drop = new Set(normAxes(ctx, attrs.axis, data.ndim, 'data'));
    if (!data.shape) return outTensor(data.ndim - drop.size, data.dtype, data);
    for (const a of drop) {
      const d = data.shape[a]!;
      if (provablyDifferent(an, d, one))
        ctx.shapeError(`cannot squeeze axis ${a} of ${argText('data', data)}: its size ${fmtExpr(d)} is not 1`);
    }
    return outTensor(
      data.shape.filter((_, i) => !drop.has(i)),
      data.dtype,
      data,
    );
  },
});

/** flatten: merges the axes start_dim..end_dim (inclusive) into one; the defaults flatten everything, as Relax does. */
defineOp({
  name: 'flatten',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ start_dim: A.axis(0), end_dim: A.axis(-1) }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim < 0) return outTensor(-1, data.dtype, data);
    if (data.ndim === 0) return outTensor([int(1)], data.dtype, data);
    const s = normAxis(ctx, attrs.start_dim, data.ndim, 'data');
    const e = normAxis(ctx, attrs.end_dim, data.ndim, 'data');
    if (s > e) ctx.shapeError(`start_dim ${attrs.start_dim} comes after end_dim ${attrs.end_dim} for ${argText('data', data)}`);
    const ndim = data.ndim - (e - s);
    if (!data.shape) return outTensor(ndim, data.dtype, data);
    const sh = data.shape;
    return outTensor([...sh.slice(0, s), product(sh.slice(s, e + 1)), ...sh.slice(e + 1)], data.dtype, data);
  },
});

/** concat: tensors of one rank and dtype, equal except along `axis`, where the sizes add up. */
defineOp({
  name: 'concat',
  args: [{ name: 'tensors', kind: 'tensors' }],
  attrs: z.object({ axis: A.axis(0) }),
  infer: ({ tensors }, attrs, ctx) => {
    if (tensors.length === 0) ctx.shapeError(`argument 'tensors' is an empty tuple; there is nothing to concatenate`);
    const named = tensors.map((t, i) => [`tensors[${i}]`, t] as const);
    const dtype = sameDtype(ctx, named);
    const ranked = named.filter(([, t]) => t.ndim >= 0);
    const [n0, t0] = ranked[0] ?? named[0]!;
    for (const [n, t] of ranked) {
      if (t.ndim !== t0.ndim) ctx.shapeError(`${argText(n0, t0)} and ${argText(n, t)} have different ranks`);
    }
    if (t0.ndim < 0) return outTensor(-1, dtype, t0);
    if (t0.ndim === 0) ctx.shapeError(`cannot concatenate 0-d ${argText(n0, t0)}`);
    const axis = normAxis(ctx, attrs.axis, t0.ndim, n0);
    const an = ctx.analyzer;
    let known = ranked.length === named.length && named.every(([, t]) => t.shape !== undefined);
    const withShape = named.filter(([, t]) => t.shape !== undefined);
    const first = withShape[0];
    for (const [n, t] of withShape) {
      t.shape!.forEach((d, i) => {
        if (i === axis || !first) return;
        const f = first[1].shape![i]!;
        if (provablyDifferent(an, f, d)) {
          ctx.shapeError(
            `${argText(first[0], first[1])} and ${argText(n, t)} differ in dim ${i}, which is not the concat axis ${axis}`,
          );
        }
        if (!provablyEqual(an, f, d)) known = false;
      });
    }
    if (!known || !first) return outTensor(t0.ndim, dtype, t0);
    const out = first[1].shape!.map((d, i) =>
      i === axis ? withShape.map(([, t]) => t.shape![axis]!).reduce((a, b) => add(a, b)) : d,
    );
    return outTensor(out, dtype, first[1]);
  },
});

/** broadcast_to: numpy broadcasting of `data` to exactly `shape`. */
defineOp({
  name: 'broadcast_to',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'shape', kind: 'shape' },
  ],
  attrs: A.NO_ATTRS_SCHEMA,
  infer: ({ data, shape }, _attrs, ctx) => {
    const target = shape.values;
    const an = ctx.analyzer;
    requireSizes(ctx, 'shape', shape);
    if (data.ndim >= 0 && shape.ndim >= 0 && data.ndim > shape.ndim) {
      ctx.shapeError(`cannot broadcast ${argText('data', data)} to the lower rank shape ${fmtShape(shape)}`);
    }
    if (data.shape && target) {
      data.shape.forEach((d, i) => {
        const t = target[target.length - data.ndim + i]!;
        if (provablyDifferent(an, d, int(1)) && provablyDifferent(an, d, t)) {
          ctx.shapeError(
            `cannot broadcast ${argText('data', data)} to shape ${fmtDims(target)}: dim ${fmtExpr(d)} is neither 1 nor ${fmtExpr(t)}`,
          );
        }
      });
    }
    return outTensor(target ?? shape.ndim, data.dtype, data);
  },
});

/** tile: repeats each axis; a short `repeats` applies to the trailing axes, a long one adds leading axes. */
defineOp({
  name: 'tile',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ repeats: z.array(z.int().min(0)) }),
  infer: ({ data }, attrs) => {
    if (data.ndim < 0) return outTensor(-1, data.dtype, data);
    const ndim = Math.max(data.ndim, attrs.repeats.length);
    if (!data.shape) return outTensor(ndim, data.dtype, data);
    const dims = [...Array.from({ length: ndim - data.ndim }, () => int(1)), ...data.shape];
    const reps = [...Array.from({ length: ndim - attrs.repeats.length }, () => 1), ...attrs.repeats];
    return outTensor(
      dims.map((d, i) => mul(d, reps[i]!)),
      data.dtype,
      data,
    );
  },
});

/** repeat: repeats each element `repeats` times along `axis`; no axis repeats the flattened tensor. */
defineOp({
  name: 'repeat',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ repeats: z.int().min(0), axis: A.optionalAxis() }),
  infer: ({ data }, attrs, ctx) => {
    if (attrs.axis === null) return outTensor(data.shape ? [mul(product(data.shape), attrs.repeats)] : 1, data.dtype, data);
    if (data.ndim < 0) return outTensor(-1, data.dtype, data);
    const axis = normAxis(ctx, attrs.axis, data.ndim, 'data');
    if (!data.shape) return sameShape(data);
    return outTensor(
      data.shape.map((d, i) => (i === axis ? mul(d, attrs.repeats) : d)),
      data.dtype,
      data,
    );
  },
});

defineOp({
  name: 'flip',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: z.int() }),
  infer: ({ data }, attrs, ctx) => {
    if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
    return sameShape(data);
  },
});

/** shape_of: the shape of a tensor as a shape value. */
defineOp({
  name: 'shape_of',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: A.NO_ATTRS_SCHEMA,
  infer: ({ data }) => shapeSI(data.shape ?? (data.ndim < 0 ? undefined : data.ndim)),
});
