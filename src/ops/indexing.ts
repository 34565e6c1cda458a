/**
 * Operators that select parts of a tensor: split, strided_slice (numpy
 * slicing with symbolic bounds), take, gather_elements, gather_nd and
 * scatter_elements.
 */
import { z } from 'zod';
import { isInt } from '../ir/dtype.ts';
import { add, floordiv, ge, lt, max, min, mul, type PrimExpr, select, sub } from '../ir/prim/expr.ts';
import { shapeSI, tupleSI, type TensorStructInfo } from '../ir/graph/struct-info.ts';
import type { Analyzer } from '../ir/arith/analyzer.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import {
  argText,
  constValue,
  fmtDims,
  fmtExpr,
  int,
  normAxes,
  normAxis,
  outTensor,
  provablyDifferent,
  requireDtype,
  requireRank,
  sameShape,
} from './shape.ts';

/**
 * split: `indices_or_sections` n gives n parts of ceildiv(size, n), the last
 * one taking the rest (Relax's rule); a list of indices cuts before each.
 */
defineOp({
  name: 'split',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({
    indices_or_sections: z.union([z.int().min(1), z.array(z.int().min(0))], {
      error: 'expected a number of sections (>= 1) or a list of non-negative split indices',
    }),
    axis: A.axis(0),
  }),
  infer: ({ data }, attrs, ctx) => {
    const ios = attrs.indices_or_sections;
    const parts = typeof ios === 'number' ? ios : ios.length + 1;
    if (data.ndim < 0) return tupleSI(Array.from({ length: parts }, () => sameShape(data)));
    const axis = normAxis(ctx, attrs.axis, data.ndim, 'data');
    if (!data.shape) return tupleSI(Array.from({ length: parts }, () => sameShape(data)));
    const size = data.shape[axis]!;
    let lengths: PrimExpr[];
    if (typeof ios === 'number') {
      const len = floordiv(add(size, ios - 1), ios);
      const last = sub(size, mul(len, ios - 1));
      if (ctx.analyzer.proveLess(last, int(0))) {
        ctx.shapeError(
          `cannot split axis ${axis} of ${argText('data', data)} into ${ios} sections of ${fmtExpr(ctx.analyzer.simplify(len))}`,
        );
      }
      lengths = [...Array.from({ length: ios - 1 }, () => len), last];
    } else {
      // Cut points past the end are clamped to it, as numpy does.
      const cuts = [int(0), ...ios.map((i) => min(int(i), size)), size];
      lengths = cuts.slice(1).map((c, i) => max(sub(c, cuts[i]!), 0));
    }
    return tupleSI(
      lengths.map((l) =>
        outTensor(
          data.shape!.map((d, i) => (i === axis ? l : d)),
          data.dtype,
          data,
        ),
      ),
    );
  },
});

/** Constants at least this large mean "to the end" (ONNX and PyTorch write INT32_MAX or INT64_MAX). */
const HUGE = 2 ** 31 - 1;

/**
 * A slice bound normalized as numpy does: negative counts from the end, then
 * clamped to [lo, size + hiOffset]. Symbolic bounds of unknown sign become a
 * select that the analyzer keeps when it cannot decide.
 */
function clampBound(an: Analyzer, b: PrimExpr, size: PrimExpr, lo: number, hiOffset: number): PrimExpr {
  const v = constValue(b);
  const hi = add(size, hiOffset);
  if (v !== undefined && v >= HUGE) return hi;
  if (v !== undefined && v <= -HUGE) return int(lo);
  const fromEnd = max(add(b, size), lo);
  const fromStart = min(b, hi);
  if (an.canProve(ge(b, 0))) return fromStart;
  if (an.canProve(lt(b, 0))) return fromEnd;
  return select(lt(b, 0), fromEnd, fromStart);
}

/** The number of elements a slice [b, e) with a constant step takes from an axis of `size`. */
function sliceLength(an: Analyzer, size: PrimExpr, b: PrimExpr, e: PrimExpr, step: number, inbound: boolean): PrimExpr {
  if (inbound) {
    const norm = (x: PrimExpr): PrimExpr => ((constValue(x) ?? 0) < 0 ? add(x, size) : x);
    const span = step > 0 ? sub(norm(e), norm(b)) : sub(norm(b), norm(e));
    return floordiv(add(span, Math.abs(step) - 1), Math.abs(step));
  }
  if (step > 0) {
    // A begin that is known non-negative needs no clamping: past the end, the span is negative and the count 0 anyway.
    const begin = an.canProve(ge(b, 0)) ? b : clampBound(an, b, size, 0, 0);
    const span = sub(clampBound(an, e, size, 0, 0), begin);
    return max(floordiv(add(span, step - 1), step), 0);
  }
  // A negative step walks from b down to e (exclusive); -1 stands for "before the first element".
  const span = sub(clampBound(an, b, size, -1, -1), clampBound(an, e, size, -1, -1));
  return max(floordiv(add(span, -step - 1), -step), 0);
}

defineOp({
  name: 'strided_slice',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'begin', kind: 'shape' },
    { name: 'end', kind: 'shape' },
    { name: 'strides', kind: 'shape', optional: true },
  ],
  attrs: z.object({ axes: A.optionalAxes(), assume_inbound: A.flag(false) }),
  infer: ({ data, begin, end, strides }, attrs, ctx) => {
    const n = begin.ndim;
    for (const [name, s] of [
      ['end', end],
      ['strides', strides],
    ] as const) {
      if (s && n >= 0 && s.ndim >= 0 && s.ndim !== n) {
        ctx.shapeError(`argument 'begin' has ${n} values but argument '${name}' has ${s.ndim}`);
      }
    }
    if (attrs.axes && n >= 0 && attrs.axes.length !== n) {
      ctx.shapeError(`axes [${attrs.axes.join(', ')}] name ${attrs.axes.length} axes but argument 'begin' has ${n} values`);
    }
    if (data.ndim < 0) return sameShape(data);
    if (n > data.ndim) ctx.shapeError(`argument 'begin' has ${n} values but ${argText('data', data)} has only ${data.ndim} axes`);
    const axes = normAxes(ctx, attrs.axes ?? Array.from({ length: Math.max(n, 0) }, (_, i) => i), data.ndim, 'data');
    const steps = strides ? strides.values?.map(constValue) : axes.map(() => 1);
    for (const s of steps ?? []) if (s === 0) ctx.shapeError(`a stride is 0 in argument 'strides' ${fmtDims(strides!.values!)}`);
    if (!data.shape || !begin.values || !end.values || !steps || steps.some((s) => s === undefined)) {
      return outTensor(data.ndim, data.dtype, data);
    }
    const out = [...data.shape];
    axes.forEach((a, i) => {
      out[a] = sliceLength(ctx.analyzer, data.shape![a]!, begin.values![i]!, end.values![i]!, steps[i]!, attrs.assume_inbound);
    });
    return outTensor(out, data.dtype, data);
  },
});

/**
 * check_slice_bounds(data, begin, end): `end`, once the runtime has checked that on each of
 * `axes` the slice [begin, end) lies within `data` (0 <= begin <= end <= size), failing the
 * call otherwise with a message naming `node`. A slice whose bounds the graph computes (a
 * loop's `x[i:i+1]`) is legalized as in range (strided_slice's assume_inbound, so its length
 * stays `end - begin`); this check, run by the builtin its definition names, is what makes
 * that assumption safe. The strided_slice takes the returned `end`, which orders the two.
 */
defineOp({
  name: 'check_slice_bounds',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'begin', kind: 'shape' },
    { name: 'end', kind: 'shape' },
  ],
  attrs: z.object({ axes: z.array(z.int().min(0)), node: z.string().default('') }),
  builtin: 'kiln.check_slice_bounds',
  infer: ({ data, begin, end }, attrs, ctx) => {
    for (const [name, s] of [
      ['begin', begin],
      ['end', end],
    ] as const) {
      if (s.ndim >= 0 && s.ndim !== attrs.axes.length)
        ctx.shapeError(`argument '${name}' has ${s.ndim} values but axes [${attrs.axes.join(', ')}] name ${attrs.axes.length}`);
    }
    for (const a of attrs.axes)
      if (data.ndim >= 0 && a >= data.ndim) ctx.shapeError(`axis ${a} is past ${argText('data', data)}`);
    return end.values ? shapeSI(end.values) : shapeSI(end.ndim);
  },
});

function requireIndices(ctx: InferContext, t: TensorStructInfo): void {
  requireDtype(ctx, 'indices', t, isInt, 'an integer type');
}

/** take: gathers whole slices of `data` along `axis` at `indices`; no axis indexes the flattened tensor. */
defineOp({
  name: 'take',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'indices', kind: 'tensor' },
  ],
  attrs: z.object({ axis: A.optionalAxis(), mode: A.choice(['fast', 'clip', 'wrap'], 'fast') }),
  infer: ({ data, indices }, attrs, ctx) => {
    requireIndices(ctx, indices);
    if (attrs.axis === null) return outTensor(indices.shape ?? indices.ndim, data.dtype, data);
    if (data.ndim === 0) ctx.shapeError(`cannot take along an axis of 0-d ${argText('data', data)}`);
    if (data.ndim < 0 || indices.ndim < 0) return outTensor(-1, data.dtype, data);
    const axis = normAxis(ctx, attrs.axis, data.ndim, 'data');
    if (!data.shape || !indices.shape) return outTensor(data.ndim - 1 + indices.ndim, data.dtype, data);
    return outTensor([...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)], data.dtype, data);
  },
});

/** gather_elements: out[i][j] = data[indices[i][j]][j] (for axis 0); the result has the shape of `indices`. */
defineOp({
  name: 'gather_elements',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'indices', kind: 'tensor' },
  ],
  attrs: z.object({ axis: A.axis(0) }),
  infer: ({ data, indices }, attrs, ctx) => {
    requireIndices(ctx, indices);
    if (data.ndim >= 0 && indices.ndim >= 0 && data.ndim !== indices.ndim) {
      ctx.shapeError(`${argText('indices', indices)} must have the rank of ${argText('data', data)}`);
    }
    if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
    return outTensor(indices.shape ?? (indices.ndim >= 0 ? indices.ndim : data.ndim), data.dtype, data);
  },
});

/** gather_nd: the last axis of `indices` indexes the leading axes of `data` (after batch_dims). */
defineOp({
  name: 'gather_nd',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'indices', kind: 'tensor' },
  ],
  attrs: z.object({ batch_dims: z.int().min(0).default(0) }),
  infer: ({ data, indices }, attrs, ctx) => {
    requireIndices(ctx, indices);
    requireRank(ctx, 'indices', indices, { min: 1 });
    // How many axes each index addresses: the last dim of `indices`, which must be a constant to know the rank.
    const k = constValue(indices.shape?.[indices.ndim - 1]);
    if (data.ndim < 0 || k === undefined) return outTensor(-1, data.dtype, data);
    const bd = attrs.batch_dims;
    if (bd + k > data.ndim || bd >= indices.ndim) {
      ctx.shapeError(
        `${argText('indices', indices)} indexes ${k} axes after ${bd} batch dims, more than ${argText('data', data)} has`,
      );
    }
    if (!data.shape) return outTensor(indices.ndim - 1 + data.ndim - bd - k, data.dtype, data);
    return outTensor([...indices.shape!.slice(0, -1), ...data.shape.slice(bd + k)], data.dtype, data);
  },
});

/** scatter_elements: data with the elements at `indices` replaced (or combined) by `updates`. */
defineOp({
  name: 'scatter_elements',
  args: [
    { name: 'data', kind: 'tensor' },
    { name: 'indices', kind: 'tensor' },
    { name: 'updates', kind: 'tensor' },
  ],
  attrs: z.object({ axis: A.axis(0), reduction: A.choice(['update', 'add', 'mul', 'mean', 'max', 'min'], 'update') }),
  infer: ({ data, indices, updates }, attrs, ctx) => {
    requireIndices(ctx, indices);
    if (updates.dtype !== data.dtype) {
      ctx.dtypeError(`argument 'data' has dtype ${data.dtype} but argument 'updates' has dtype ${updates.dtype}`);
    }
    for (const [name, t] of [
      ['indices', indices],
      ['updates', updates],
    ] as const) {
      if (data.ndim >= 0 && t.ndim >= 0 && t.ndim !== data.ndim)
        ctx.shapeError(`${argText(name, t)} must have the rank of ${argText('data', data)}`);
    }
    if (indices.shape && updates.shape) {
      indices.shape.forEach((d, i) => {
        if (provablyDifferent(ctx.analyzer, d, updates.shape![i]!)) {
          ctx.shapeError(`${argText('indices', indices)} and ${argText('updates', updates)} must have one shape`);
        }
      });
    }
    if (data.ndim >= 0) normAxis(ctx, attrs.axis, data.ndim, 'data');
    return sameShape(data);
  },
});
