/**
 * Shape and data-movement operators. Each computes its result at import
 * time when its inputs are known (that is what turns `Shape → Gather →
 * Unsqueeze → Concat → Reshape` into a symbolic shape), and emits Kiln
 * operators otherwise.
 */
import { INDEX_DTYPE } from '../../../ir/dtype.ts';
import { add, floordiv, intImm, type PrimExpr, product } from '../../../ir/prim/expr.ts';
import type { NodeContext } from '../context.ts';
import { literal, literalNumber } from '../context.ts';
import type { KnownValue, Value } from '../values.ts';
import { knownSize } from '../values.ts';
import { defineConverter } from './registry.ts';

const idx = (n: number): PrimExpr => intImm(n, INDEX_DTYPE);

/** An axis counted from the end when negative; out of range fails. */
export function normAxis(ctx: NodeContext, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) return ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Axes from an attribute (older opsets) or an input (newer ones); undefined when neither is given. */
export function axesOf(ctx: NodeContext, inputIndex: number, attrSinceOpset: number): number[] | undefined {
  if (ctx.opset < attrSinceOpset) return ctx.attr.has('axes') ? ctx.attr.ints('axes') : undefined;
  if (!ctx.has(inputIndex)) return undefined;
  const axes = ctx.knownInts(inputIndex);
  if (!axes) return ctx.fail(`input ${inputIndex} (axes) must be a constant`);
  return axes;
}

/** The elements of a known value along its flat index, by row-major multi-index. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1]! * shape[k + 1]!;
  return s;
}

function knownGather(
  ctx: NodeContext,
  data: KnownValue,
  indices: readonly number[],
  idxShape: readonly number[],
  axis: number,
): KnownValue {
  const dim = data.shape[axis]!;
  const outer = knownSize(data.shape.slice(0, axis));
  const inner = knownSize(data.shape.slice(axis + 1));
  const values: PrimExpr[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices) {
      const i = raw < 0 ? raw + dim : raw;
      if (i < 0 || i >= dim) return ctx.fail(`index ${raw} is out of range for a dimension of size ${dim}`);
      for (let k = 0; k < inner; k++) values.push(data.values[(o * dim + i) * inner + k]!);
    }
  }
  return ctx.knownValue(data.dtype, [...data.shape.slice(0, axis), ...idxShape, ...data.shape.slice(axis + 1)], values);
}

defineConverter('Shape', (ctx) => {
  const dims = ctx.shape(0);
  const rank = dims.length;
  // Opset 15 slices the shape with start/end, clamped like Python slices.
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(ctx.attr.int('start', 0));
  const end = clamp(ctx.attr.int('end', rank));
  const picked = dims.slice(start, Math.max(start, end));
  return ctx.knownValue('int64', [picked.length], picked);
});

defineConverter('Size', (ctx) => ctx.knownValue('int64', [], [product([...ctx.shape(0)])]));

defineConverter('Identity', (ctx) => ctx.input(0));

defineConverter('Constant', (ctx) => {
  const a = ctx.attr;
  const t = a.tensor('value');
  if (t) return ctx.tensorProto(t);
  if (a.has('value_float')) return ctx.knownValue('float32', [], [literal(a.float('value_float'), 'float32')]);
  if (a.has('value_floats')) {
    const fs = a.floats('value_floats');
    return fs.length <= 64
      ? ctx.knownValue(
          'float32',
          [fs.length],
          fs.map((f) => literal(f, 'float32')),
        )
      : ctx.constant('float32', [fs.length], fs);
  }
  if (a.has('value_int')) return ctx.knownValue('int64', [], [literal(a.int('value_int'), 'int64')]);
  if (a.has('value_ints')) {
    const is = a.ints('value_ints');
    return ctx.knownValue(
      'int64',
      [is.length],
      is.map((i) => literal(i, 'int64')),
    );
  }
  return ctx.fail('only tensor, float(s) and int(s) values are supported (not strings or sparse tensors)');
});

defineConverter('ConstantOfShape', (ctx) => {
  const shape = ctx.known(0);
  if (!shape) return ctx.fail('the shape input must be known at import time (a constant or computed from shapes)');
  const t = ctx.attr.tensor('value');
  const value = t ? ctx.tensorProto(t) : undefined;
  const v = value?.kind === 'known' ? value : undefined;
  if (value && !v) return ctx.fail('the value attribute must be a one-element tensor');
  const dtype = v?.dtype ?? 'float32';
  const fill = v?.values[0] ?? literal(0, 'float32');
  const dims = shape.values;
  const literalDims = dims.map(literalNumber);
  if (literalDims.every((d) => d !== undefined) && knownSize(literalDims) <= 64) {
    const n = knownSize(literalDims);
    return ctx.knownValue(
      dtype,
      literalDims,
      Array.from({ length: n }, () => fill),
    );
  }
  return ctx.op('full', [ctx.shapeArg(dims), ctx.primArg(fill)], { dtype });
});

defineConverter('Reshape', (ctx) => {
  const target = ctx.known(1);
  if (!target) return ctx.fail('the shape input must be known at import time (a constant or computed from shapes)');
  const inDims = ctx.shape(0);
  const allowZero = ctx.attr.int('allowzero', 0) === 1;
  const out: (PrimExpr | undefined)[] = target.values.map((d, i) => {
    const n = literalNumber(d);
    if (n === 0 && !allowZero) {
      if (i >= inDims.length) return ctx.fail(`shape value 0 at position ${i} copies a dimension the input does not have`);
      return inDims[i]!;
    }
    if (n === -1) return undefined;
    return d;
  });
  const unknown = out.filter((d) => d === undefined).length;
  if (unknown > 1) return ctx.fail('the shape has more than one -1');
  if (unknown === 1) {
    const known = out.filter((d): d is PrimExpr => d !== undefined);
    const inferred = ctx.simplify(floordiv(product([...inDims]), product(known)));
    out[out.indexOf(undefined)] = inferred;
  }
  const dims = out as PrimExpr[];
  const data = ctx.input(0);
  if (data.kind === 'known') {
    const literalDims = dims.map((d) => literalNumber(ctx.simplify(d)));
    if (literalDims.every((d) => d !== undefined)) return ctx.knownValue(data.dtype, literalDims, data.values);
  }
  return ctx.op('reshape', [data, ctx.shapeArg(dims)]);
});

defineConverter('Flatten', (ctx) => {
  const dims = ctx.shape(0);
  const axis = ctx.attr.int('axis', 1);
  const a = axis < 0 ? axis + dims.length : axis;
  if (a < 0 || a > dims.length) return ctx.fail(`axis ${axis} is out of range for rank ${dims.length}`);
  const outer = product(dims.slice(0, a));
  const inner = product(dims.slice(a));
  const data = ctx.input(0);
  if (data.kind === 'known') {
    const o = literalNumber(ctx.simplify(outer));
    const i = literalNumber(ctx.simplify(inner));
    if (o !== undefined && i !== undefined) return ctx.knownValue(data.dtype, [o, i], data.values);
  }
  return ctx.op('reshape', [data, ctx.shapeArg([outer, inner])]);
});

defineConverter('Squeeze', (ctx) => {
  const dims = ctx.shape(0);
  const axes = axesOf(ctx, 1, 13);
  const data = ctx.input(0);
  const norm = axes?.map((a) => normAxis(ctx, a, dims.length));
  if (data.kind === 'known') {
    const drop = new Set(norm ?? data.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
    return ctx.knownValue(
      data.dtype,
      data.shape.filter((_, i) => !drop.has(i)),
      data.values,
    );
  }
  if (norm === undefined) {
    // Without axes every dim of size 1 goes; symbolic dims must then be known not to be 1.
    const ones = dims.flatMap((d, i) => (literalNumber(d) === 1 ? [i] : []));
    return ctx.op('squeeze', [data], { axis: ones });
  }
  return ctx.op('squeeze', [data], { axis: norm });
});

defineConverter('Unsqueeze', (ctx) => {
  const dims = ctx.shape(0);
  const axes = axesOf(ctx, 1, 13);
  if (!axes) return ctx.fail('axes are required');
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => normAxis(ctx, a, rank)).sort((a, b) => a - b);
  const out: PrimExpr[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? idx(1) : dims[k++]!);
  const data = ctx.input(0);
  if (data.kind === 'known')
    return ctx.knownValue(
      data.dtype,
      out.map((d) => literalNumber(d)!),
      data.values,
    );
  return ctx.op('reshape', [data, ctx.shapeArg(out)]);
});

defineConverter('Concat', (ctx) => {
  const n = ctx.inputCount;
  const inputs = Array.from({ length: n }, (_, i) => ctx.input(i));
  const axis = normAxis(ctx, ctx.attr.int('axis'), ctx.rank(0));
  if (inputs.every((v): v is KnownValue => v.kind === 'known')) {
    const dtype = inputs[0]!.dtype;
    const outer = knownSize(inputs[0]!.shape.slice(0, axis));
    const values: PrimExpr[] = [];
    for (let o = 0; o < outer; o++) {
      for (const v of inputs) {
        const chunk = knownSize(v.shape.slice(axis));
        values.push(...v.values.slice(o * chunk, (o + 1) * chunk));
      }
    }
    const total = inputs.reduce((s, v) => s + v.shape[axis]!, 0);
    const shape = [...inputs[0]!.shape];
    shape[axis] = total;
    return ctx.knownValue(dtype, shape, values);
  }
  // Empty inputs (a dimension of literal 0) contribute nothing.
  const parts = inputs.filter((v, i) => literalNumber(ctx.shape(i)[axis]!) !== 0 || v === inputs[0]);
  if (parts.length === 1) return parts[0]!;
  return ctx.op('concat', [{ kind: 'tuple', fields: parts.map((p) => ctx.materialize(p).expr) }], { axis });
});

defineConverter('Gather', (ctx) => {
  const axis = normAxis(ctx, ctx.attr.int('axis', 0), ctx.rank(0));
  const data = ctx.known(0);
  const indices = ctx.knownInts(1);
  if (data && indices) return knownGather(ctx, data, indices, ctx.known(1)!.shape, axis);
  return ctx.op('take', [ctx.input(0), ctx.input(1)], { axis, mode: 'fast' });
});

defineConverter('Transpose', (ctx) => {
  const rank = ctx.rank(0);
  const perm = ctx.attr.ints(
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
  const data = ctx.input(0);
  if (data.kind === 'known') {
    const shape = perm.map((p) => data.shape[p]!);
    const inStrides = strides(data.shape);
    const outStrides = strides(shape);
    const values: PrimExpr[] = [];
    for (let flat = 0; flat < data.values.length; flat++) {
      let src = 0;
      let r = flat;
      for (let k = 0; k < rank; k++) {
        const i = Math.floor(r / outStrides[k]!);
        r -= i * outStrides[k]!;
        src += i * inStrides[perm[k]!]!;
      }
      values.push(data.values[src]!);
    }
    return ctx.knownValue(data.dtype, shape, values);
  }
  return ctx.op('permute_dims', [data], { axes: perm });
});

defineConverter('Expand', (ctx) => {
  const target = ctx.known(1);
  if (!target) return ctx.fail('the shape input must be known at import time');
  // Expand broadcasts both ways: the result is broadcast(input shape, shape).
  const inDims = ctx.shape(0);
  const rank = Math.max(inDims.length, target.values.length);
  const out: PrimExpr[] = [];
  for (let k = 0; k < rank; k++) {
    const a = inDims[inDims.length - rank + k];
    const b = target.values[target.values.length - rank + k];
    if (a === undefined) out.push(b!);
    else if (b === undefined || literalNumber(b) === 1) out.push(a);
    else if (literalNumber(a) === 1) out.push(b);
    else out.push(ctx.analyzer.proveEqual(a, b) ? a : b);
  }
  return ctx.op('broadcast_to', [ctx.input(0), ctx.shapeArg(out)]);
});

defineConverter('Tile', (ctx) => {
  const repeats = ctx.knownInts(1);
  if (!repeats) return ctx.fail('the repeats input must be a constant');
  return ctx.op('tile', [ctx.input(0)], { repeats });
});

defineConverter('Range', (ctx) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => {
    const k = ctx.known(i);
    if (!k) return ctx.fail(`input ${i} must be known at import time (a constant or computed from shapes)`);
    return k.values[0]!;
  });
  const dtype = ctx.dtype(0);
  const s = literalNumber(start!);
  const l = literalNumber(limit!);
  const d = literalNumber(delta!);
  if (s !== undefined && l !== undefined && d !== undefined) {
    const n = Math.max(Math.ceil((l - s) / d), 0);
    if (n <= 64)
      return ctx.knownValue(
        dtype,
        [n],
        Array.from({ length: n }, (_, i) => literal(s + i * d, dtype)),
      );
  }
  return ctx.op('arange', [ctx.primArg(start!), ctx.primArg(limit!), ctx.primArg(delta!)], { dtype });
});

defineConverter('Split', (ctx) => {
  const dims = ctx.shape(0);
  const axis = normAxis(ctx, ctx.attr.int('axis', 0), dims.length);
  const outputs = ctx.node.output.length;
  let sizes: number[] | undefined;
  if (ctx.opset >= 13 && ctx.has(1)) sizes = ctx.knownInts(1) ?? ctx.fail('the split input must be a constant');
  else if (ctx.opset < 13 && ctx.attr.has('split')) sizes = ctx.attr.ints('split');
  if (sizes) {
    const cuts: number[] = [];
    let at = 0;
    for (const s of sizes.slice(0, -1)) cuts.push((at += s));
    return ctx.opTuple('split', [ctx.input(0)], { indices_or_sections: cuts, axis });
  }
  const dim = literalNumber(dims[axis]!);
  if (dim !== undefined && dim % outputs !== 0) {
    // Opset 18: uneven splits give ceil(dim / n) to all but the last.
    const chunk = Math.ceil(dim / outputs);
    const cuts = Array.from({ length: outputs - 1 }, (_, i) => Math.min((i + 1) * chunk, dim));
    return ctx.opTuple('split', [ctx.input(0)], { indices_or_sections: cuts, axis });
  }
  return ctx.opTuple('split', [ctx.input(0)], { indices_or_sections: outputs, axis });
});

defineConverter('Slice', (ctx) => {
  const dims = ctx.shape(0);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.attr.ints('starts');
    ends = ctx.attr.ints('ends');
    axes = ctx.attr.has('axes') ? ctx.attr.ints('axes') : undefined;
  } else {
    const need = (i: number, what: string): number[] => ctx.knownInts(i) ?? ctx.fail(`${what} must be constant`);
    // Bounds known as symbolic expressions (a loop's iteration number): strided_slice takes them as they are.
    const symbolic = (i: number): PrimExpr[] | undefined => (ctx.knownInts(i) ? undefined : ctx.known(i)?.values.slice());
    const sb = symbolic(1);
    const se = symbolic(2);
    if ((sb || se) && !ctx.has(4)) {
      const count = (sb ?? se)!.length;
      const axs = (ctx.has(3) ? need(3, 'axes') : Array.from({ length: count }, (_, i) => i)).map((a) =>
        normAxis(ctx, a, dims.length),
      );
      // A literal bound is made what ONNX means by it (from the end when negative, the end when huge);
      // a computed one is taken as it is, so that `x[i:i+1]` has length 1 (strided_slice's assume_inbound).
      const literalBound = (v: number, k: number): PrimExpr => {
        const size = dims[axs[k]!]!;
        if (v >= 2 ** 31 - 1) return size;
        if (v <= -(2 ** 31)) return literal(0, 'int64');
        return v < 0 ? ctx.simplify(add(size, v)) : literal(v, 'int64');
      };
      const bounds = (known: readonly PrimExpr[] | undefined, i: number, what: string): PrimExpr[] =>
        known ? known.map((x, k) => (x.kind === 'int' ? literalBound(x.value, k) : x)) : need(i, what).map(literalBound);
      const b = bounds(sb, 1, 'starts');
      const e = bounds(se, 2, 'ends');
      // The runtime checks the computed bounds lie within the tensor before the slice reads it (K8203).
      const end = ctx.opValue('check_slice_bounds', [ctx.tensor(0), ctx.shapeArg(b), ctx.shapeArg(e)], {
        axes: axs,
        node: ctx.node.name,
      });
      return ctx.op('strided_slice', [ctx.tensor(0), ctx.shapeArg(b), end], { axes: axs, assume_inbound: true });
    }
    starts = need(1, 'starts');
    ends = need(2, 'ends');
    axes = ctx.has(3) ? need(3, 'axes') : undefined;
    steps = ctx.has(4) ? need(4, 'steps') : undefined;
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(ctx, a, dims.length));
  const st = steps ?? starts.map(() => 1);
  const data = ctx.input(0);
  if (data.kind === 'known' && data.shape.length === 1 && ax.length === 1) {
    const n = data.shape[0]!;
    const step = st[0]!;
    const clampStart = (v: number): number => (v < 0 ? Math.max(v + n, step > 0 ? 0 : -1) : Math.min(v, step > 0 ? n : n - 1));
    const b = clampStart(starts[0]!);
    const e = clampStart(ends[0]!);
    const picked: PrimExpr[] = [];
    for (let i = b; step > 0 ? i < e : i > e; i += step) picked.push(data.values[i]!);
    return ctx.knownValue(data.dtype, [picked.length], picked);
  }
  const big = (v: number): number => Math.max(Math.min(v, 2 ** 31 - 1), -(2 ** 31));
  return ctx.op('strided_slice', [data, ctx.shapeArg(starts.map(big)), ctx.shapeArg(ends.map(big)), ctx.shapeArg(st)], {
    axes: ax,
  });
});

/** Values of a known tensor as a graph-level shape, for ops that take one. */
export function knownDims(ctx: NodeContext, v: Value, what: string): PrimExpr[] {
  if (v.kind !== 'known') return ctx.fail(`${what} must be known at import time`);
  return [...v.values];
}
