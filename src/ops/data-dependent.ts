/**
 * Operators whose output shape depends on the input's values: nonzero,
 * unique, non_max_suppression, and tensor_to_shape (a tensor's values read as
 * a shape, e.g. a TopK's K computed by the graph). Their inference gives only ranks (the
 * sizes are not known until the data is); the importer binds the unknown
 * sizes to fresh symbolic variables with a match_cast after the call, so
 * everything downstream stays symbolic. They are not legalized to kernels:
 * each is run by the runtime builtin its `builtin` names (a host function
 * over the downloaded input, as onnxruntime runs these on the CPU too).
 */
import { z } from 'zod';
import { INDEX_DTYPE, isFloat, isInt } from '../ir/dtype.ts';
import { shapeSI, tensorSI, tupleSI } from '../ir/graph/struct-info.ts';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import { argText, constValue, normAxis, requireRank } from './shape.ts';

/** nonzero(x): the indices of x's non-zero elements, one column per element: int64 (rank, count). */
defineOp({
  name: 'nonzero',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: A.NO_ATTRS_SCHEMA,
  builtin: 'kiln.nonzero',
  infer: () => tensorSI(2, INDEX_DTYPE),
});

/**
 * unique(x): the distinct elements (or slices along `axis`), sorted or in
 * order of first appearance, with the index of each one's first occurrence,
 * the inverse indices that rebuild x, and the counts (ONNX Unique).
 */
defineOp({
  name: 'unique',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: z.object({ axis: A.optionalAxis(), sorted: A.flag(true) }),
  builtin: 'kiln.unique',
  infer: ({ data }, attrs, ctx) => {
    const axis = attrs.axis;
    if (axis !== null && data.ndim >= 0) normAxis(ctx, axis, data.ndim, 'data');
    if (axis !== null && data.ndim < 0) ctx.shapeError(`an axis needs the rank of ${argText('data', data)}`);
    const values = tensorSI(axis === null ? 1 : data.ndim, data.dtype);
    const index = tensorSI(1, INDEX_DTYPE);
    return tupleSI([values, index, index, index]);
  },
});

/**
 * non_max_suppression(boxes [b, n, 4], scores [b, c, n], max_per_class,
 * iou_threshold, score_threshold): the selected boxes as int64 rows
 * (batch, class, box), per ONNX NonMaxSuppression.
 */
defineOp({
  name: 'non_max_suppression',
  args: [
    { name: 'boxes', kind: 'tensor' },
    { name: 'scores', kind: 'tensor' },
    { name: 'max_output_boxes_per_class', kind: 'tensor' },
    { name: 'iou_threshold', kind: 'tensor' },
    { name: 'score_threshold', kind: 'tensor' },
  ],
  attrs: z.object({ center_point_box: A.flag(false) }),
  builtin: 'kiln.non_max_suppression',
  infer: ({ boxes, scores, iou_threshold, score_threshold }, _attrs, ctx) => {
    requireRank(ctx, 'boxes', boxes, 3);
    requireRank(ctx, 'scores', scores, 3);
    for (const [name, t] of [
      ['boxes', boxes],
      ['scores', scores],
      ['iou_threshold', iou_threshold],
      ['score_threshold', score_threshold],
    ] as const) {
      if (!isFloat(t.dtype)) ctx.dtypeError(`${argText(name, t)} must be a float tensor`);
    }
    return tensorSI(2, INDEX_DTYPE);
  },
});

/** tensor_to_shape(t): the elements of a 1-d integer tensor as a shape value (Relax's tensor_to_shape). */
defineOp({
  name: 'tensor_to_shape',
  args: [{ name: 'data', kind: 'tensor' }],
  attrs: A.NO_ATTRS_SCHEMA,
  builtin: 'kiln.tensor_to_shape',
  infer: ({ data }, _attrs, ctx) => {
    requireRank(ctx, 'data', data, 1);
    if (!isInt(data.dtype)) ctx.dtypeError(`${argText('data', data)} must be an integer tensor`);
    return shapeSI(constValue(data.shape?.[0]) ?? -1);
  },
});
