/**
 * Gathers, scatters, OneHot and TopK, and the operators whose output shape
 * depends on the input's values (NonZero, Compress, Unique,
 * NonMaxSuppression): computed at import time when their input is known,
 * otherwise run by a runtime builtin whose result sizes are fresh symbols.
 */
import { INDEX_DTYPE, isInt } from '../../../../ir/dtype.ts';
import { intImm, type PrimExpr, product } from '../../../../ir/prim/expr.ts';
import { shapeSI, tensorSI } from '../../../../ir/graph/struct-info.ts';
import type { NodeContext } from '../../context.ts';
import { literal, literalNumber } from '../../context.ts';
import type { TensorValue, Value } from '../../values.ts';
import { defineConverter } from '../registry.ts';
import { normAxis } from '../shape.ts';
import { scalar } from './reductions.ts';

/** ONNX's reduction attribute → scatter_elements' ('none' replaces). */
function scatterReduction(ctx: NodeContext): string {
  const r = ctx.attr.string('reduction', 'none');
  if (!['none', 'add', 'mul', 'max', 'min'].includes(r)) return ctx.fail(`reduction '${r}' is not supported`);
  return r === 'none' ? 'update' : r;
}

defineConverter('GatherElements', (ctx) => {
  const axis = normAxis(ctx, ctx.attr.int('axis', 0), ctx.rank(0));
  return ctx.op('gather_elements', [ctx.input(0), ctx.input(1)], { axis });
});

defineConverter('GatherND', (ctx) => {
  const batchDims = ctx.attr.int('batch_dims', 0);
  return ctx.op('gather_nd', [ctx.input(0), ctx.input(1)], { batch_dims: batchDims });
});

// Scatter is ScatterElements' name before opset 11.
defineConverter(['ScatterElements', 'Scatter'], (ctx) => {
  const axis = normAxis(ctx, ctx.attr.int('axis', 0), ctx.rank(0));
  return ctx.op('scatter_elements', [ctx.input(0), ctx.input(1), ctx.input(2)], {
    axis,
    reduction: scatterReduction(ctx),
  });
});

/**
 * ScatterND as a scatter_elements of rows: data [d0, ..., dr) becomes
 * [d0 * ... * d(k-1), rest], where each index tuple of depth k addresses one
 * row (its row-major position among the first k axes), and the updates
 * become one row per index tuple.
 */
defineConverter('ScatterND', (ctx) => {
  const dataDims = ctx.shape(0);
  const idxDims = ctx.shape(1);
  const k = literalNumber(idxDims[idxDims.length - 1]!);
  if (k === undefined) return ctx.fail('the last dimension of indices (the index depth) must be static');
  if (k < 1 || k > dataDims.length) return ctx.fail(`an index depth of ${k} does not fit data of rank ${dataDims.length}`);
  const lead = dataDims.slice(0, k);
  const rowLength = product(dataDims.slice(k));
  const rows = product(idxDims.slice(0, -1));

  let indices = ctx.input(1);
  if (ctx.dtype(1) !== 'int64') indices = ctx.op('astype', [indices], { dtype: 'int64' });
  const vector = (xs: readonly PrimExpr[]): Value => ctx.knownValue('int64', [k], xs);
  // Negative indices count from the end of their axis.
  const negative = ctx.op('less', [indices, scalar(ctx, 0, 'int64')]);
  indices = ctx.op('where', [negative, ctx.op('add', [indices, vector(lead)]), indices]);
  const strides = lead.map((_, j) => product(lead.slice(j + 1)));
  const row = ctx.op('sum', [ctx.op('multiply', [indices, vector(strides)])], {
    axis: [idxDims.length - 1],
    keepdims: true,
  });
  const rowIndex = ctx.op('broadcast_to', [ctx.op('reshape', [row, ctx.shapeArg([rows, 1])]), ctx.shapeArg([rows, rowLength])]);
  const data = ctx.op('reshape', [ctx.input(0), ctx.shapeArg([product(lead), rowLength])]);
  const updates = ctx.op('reshape', [ctx.input(2), ctx.shapeArg([rows, rowLength])]);
  const out = ctx.op('scatter_elements', [data, rowIndex, updates], { axis: 0, reduction: scatterReduction(ctx) });
  return ctx.op('reshape', [out, ctx.shapeArg(dataDims)]);
});

/**
 * ReverseSequence as a gather along the time axis: position t of batch b
 * reads t' = len[b] - 1 - t when t < len[b], and itself after the sequence.
 */
defineConverter('ReverseSequence', (ctx) => {
  const dims = ctx.shape(0);
  const rank = dims.length;
  const timeAxis = normAxis(ctx, ctx.attr.int('time_axis', 0), rank, 'time_axis');
  const batchAxis = normAxis(ctx, ctx.attr.int('batch_axis', 1), rank, 'batch_axis');
  const along = (axis: number): PrimExpr[] => dims.map((d, i) => (i === axis ? d : intImm(1, INDEX_DTYPE)));
  let lens = ctx.input(1);
  if (ctx.dtype(1) !== 'int64') lens = ctx.op('astype', [lens], { dtype: 'int64' });
  lens = ctx.op('reshape', [lens, ctx.shapeArg(along(batchAxis))]);
  const zero = intImm(0, INDEX_DTYPE);
  const one = intImm(1, INDEX_DTYPE);
  const range = ctx.op('arange', [ctx.primArg(zero), ctx.primArg(dims[timeAxis]!), ctx.primArg(one)], { dtype: 'int64' });
  const t = ctx.op('reshape', [range, ctx.shapeArg(along(timeAxis))]);
  const reversed = ctx.op('subtract', [ctx.op('subtract', [lens, scalar(ctx, 1, 'int64')]), t]);
  const source = ctx.op('where', [ctx.op('less', [t, lens]), reversed, t]);
  const index = ctx.op('broadcast_to', [source, ctx.shapeArg(dims)]);
  return ctx.op('gather_elements', [ctx.input(0), index], { axis: timeAxis });
});

defineConverter('OneHot', (ctx) => {
  const depthValue = ctx.known(1)?.values[0];
  const depthNumber = depthValue && literalNumber(depthValue);
  if (depthNumber === undefined) return ctx.fail('the depth input must be a constant');
  const depth = Math.trunc(depthNumber);
  if (depth < 1) return ctx.fail(`depth ${depth} is not positive`);
  const axis = ctx.attr.int('axis', -1);

  // Indices may be of any numeric type; ONNX casts them to int64.
  const dtype = isInt(ctx.dtype(0)) ? ctx.dtype(0) : 'int64';
  let indices = dtype === ctx.dtype(0) ? ctx.input(0) : ctx.op('astype', [ctx.input(0)], { dtype });
  // ONNX counts negative indices from the end; Kiln's one_hot gives off_value for them.
  const negative = ctx.op('less', [indices, scalar(ctx, 0, dtype)]);
  indices = ctx.op('where', [negative, ctx.op('add', [indices, scalar(ctx, depth, dtype)]), indices]);

  const values = ctx.known(2);
  if (values) {
    const [off, on] = values.values;
    return ctx.op('one_hot', [indices, ctx.primArg(on!), ctx.primArg(off!)], { depth, axis });
  }
  // Values computed by the graph: a mask of the positions, then one of the two values per element.
  const mask = ctx.op('one_hot', [indices, ctx.primArg(literal(1, 'bool')), ctx.primArg(literal(0, 'bool'))], { depth, axis });
  const pick = (i: number): Value => ctx.op('take', [ctx.input(2), scalar(ctx, i, INDEX_DTYPE)], { axis: 0 });
  return ctx.op('where', [mask, pick(1), pick(0)]);
});

defineConverter('TopK', (ctx) => {
  let k: number;
  const axis = ctx.attr.int('axis', -1);
  const largest = ctx.attr.int('largest', 1) !== 0;
  if (ctx.opset >= 10) {
    const given = ctx.knownInts(1);
    if (!given) return topKComputed(ctx, axis, largest);
    if (given.length !== 1) return ctx.fail(`the K input must have one element, it has ${given.length}`);
    k = given[0]!;
  } else {
    k = ctx.attr.int('k');
  }
  // Kiln's topk reads k < 1 as "everything".
  if (k < 1) return ctx.fail(`K = ${k} (an empty result) is not supported`);
  // sorted = 0 leaves the order free: the sorted order is one of the allowed ones.
  return ctx.opTuple('topk', [ctx.input(0)], { k, axis, ret_type: 'both', largest, dtype: 'int64' });
});

/**
 * TopK with K computed by the graph: K's value is read at run time as a shape and
 * bound to a symbol; the whole axis is sorted (what topk does anyway) and the first K kept
 * (at most the whole axis: a K past it, which onnxruntime refuses, cannot read past the end).
 */
function topKComputed(ctx: NodeContext, axis: number, largest: boolean): TensorValue[] {
  const k = ctx.sizeSymbol('k');
  if (ctx.rank(1) !== 1) return ctx.fail(`the K input must be a 1-d tensor of one element, it has rank ${ctx.rank(1)}`);
  ctx.bindSizes('tensor_to_shape', [ctx.input(1)], {}, shapeSI([k]));
  const sorted = ctx.opTuple('topk', [ctx.input(0)], { k: 0, axis, ret_type: 'both', largest, dtype: 'int64' });
  const first = normAxis(ctx, axis, ctx.rank(0));
  return sorted.map((t) => ctx.op('strided_slice', [t, ctx.shapeArg([0]), ctx.shapeArg([k])], { axes: [first] }));
}

// --- data-dependent shapes ------------------------------------------------------------------
// A known input is computed here; otherwise the result's size is a fresh symbol the runtime binds.

defineConverter('NonZero', (ctx) => {
  // knownInts gives the literal elements, floats and bools too.
  const values = ctx.knownInts(0);
  if (!values) {
    // A 0-d input counts as one axis, as onnxruntime does.
    const rank = Math.max(1, ctx.rank(0));
    return ctx.dataDependent('nonzero', [ctx.input(0)], {}, [tensorSI([rank, ctx.sizeSymbol('count')], 'int64')])[0]!;
  }
  const shape = ctx.known(0)!.shape;
  // One column per non-zero element: its index along each axis.
  const coords: number[][] = shape.map(() => []);
  values.forEach((v, flat) => {
    if (v === 0) return;
    let rest = flat;
    for (let a = shape.length - 1; a >= 0; a--) {
      coords[a]!.push(rest % shape[a]!);
      rest = Math.floor(rest / shape[a]!);
    }
  });
  const count = values.filter((v) => v !== 0).length;
  return ctx.knownValue(
    'int64',
    [shape.length, count],
    coords.flat().map((c) => literal(c, 'int64')),
  );
});

defineConverter('Compress', (ctx) => {
  const flat = !ctx.attr.has('axis');
  const axis = flat ? 0 : normAxis(ctx, ctx.attr.int('axis'), ctx.rank(0));
  const length = literalNumber(ctx.simplify(flat ? product([...ctx.shape(0)]) : ctx.shape(0)[axis]!));
  // No axis: select from the flattened input.
  const data = flat ? ctx.op('reshape', [ctx.input(0), ctx.shapeArg([product([...ctx.shape(0)])])]) : ctx.input(0);
  const condition = ctx.knownInts(1);
  if (!condition) {
    // The positions of the true elements (nonzero of a 1-d condition), then a take of them.
    const count = ctx.sizeSymbol('count');
    const [found] = ctx.dataDependent('nonzero', [ctx.input(1)], {}, [tensorSI([1, count], 'int64')]);
    const positions = ctx.op('reshape', [found!, ctx.shapeArg([count])]);
    return ctx.op('take', [data, positions], { axis });
  }
  if (length !== undefined && condition.length > length) {
    return ctx.fail(`the condition has ${condition.length} elements, more than the ${length} it selects from`);
  }
  const picked = condition.flatMap((c, i) => (c !== 0 ? [i] : []));
  const indices = ctx.constant('int64', [picked.length], picked);
  return ctx.op('take', [data, indices], { axis });
});

defineConverter('Unique', (ctx) => {
  const shape = ctx.shape(0);
  const axis = ctx.attr.has('axis') ? normAxis(ctx, ctx.attr.int('axis'), ctx.rank(0)) : null;
  const sorted = ctx.attr.int('sorted', 1) !== 0;
  const count = ctx.sizeSymbol('count');
  const length = axis === null ? product([...shape]) : shape[axis]!;
  const values = axis === null ? [count] : shape.map((d, i) => (i === axis ? count : d));
  return ctx.dataDependent('unique', [ctx.input(0)], { axis, sorted }, [
    tensorSI(values, ctx.dtype(0)),
    tensorSI([count], 'int64'),
    tensorSI([ctx.simplify(length)], 'int64'),
    tensorSI([count], 'int64'),
  ]);
});

defineConverter('NonMaxSuppression', (ctx) => {
  // Absent inputs: no boxes kept (ONNX's default of 0), IoU threshold 0, no score threshold.
  const optional = (i: number, dtype: 'int64' | 'float32', def: number): Value =>
    ctx.has(i) ? ctx.input(i) : ctx.constant(dtype, [1], [def]);
  const args = [
    ctx.input(0),
    ctx.input(1),
    optional(2, 'int64', 0),
    optional(3, 'float32', 0),
    optional(4, 'float32', -Infinity),
  ];
  const centerPointBox = ctx.attr.int('center_point_box', 0) !== 0;
  return ctx.dataDependent('non_max_suppression', args, { center_point_box: centerPointBox }, [
    tensorSI([ctx.sizeSymbol('selected'), 3], 'int64'),
  ])[0]!;
});
