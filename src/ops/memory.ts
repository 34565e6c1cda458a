/**
 * The operators of a memory plan (plan-memory, src/passes/plan-memory.ts):
 * the VM runs them itself, they have no kernels.
 *
 *   storage = alloc_storage(shape(bytes))                 a byte arena: Tensor[(bytes,), u8]
 *   t = alloc_tensor(storage, prim(offset), shape(...), dtype="float32")
 *                                                         a tensor at a byte offset of the arena
 *
 * A call_tir whose `dst` is such a tensor writes its output there instead of
 * into memory the VM allocates for it.
 */
import { z } from 'zod';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import { outTensor, requireSizes } from './shape.ts';

defineOp({
  name: 'alloc_storage',
  args: [{ name: 'size', kind: 'shape' }],
  attrs: A.NO_ATTRS_SCHEMA,
  infer: ({ size }, _attrs, ctx) => {
    requireSizes(ctx, 'size', size);
    if (size.values && size.values.length !== 1)
      ctx.shapeError(`size must have one dimension (bytes), not ${size.values.length}`);
    return outTensor(size.values ?? 1, 'uint8');
  },
});

defineOp({
  name: 'alloc_tensor',
  args: [
    { name: 'storage', kind: 'tensor' },
    { name: 'offset', kind: 'prim' },
    { name: 'shape', kind: 'shape' },
  ],
  attrs: z.object({ dtype: A.dtype('float32') }),
  infer: ({ storage, shape }, attrs, ctx) => {
    if (storage.dtype !== 'uint8') ctx.dtypeError(`storage must be a uint8 arena made by alloc_storage, not ${storage.dtype}`);
    requireSizes(ctx, 'shape', shape);
    return outTensor(shape.values ?? shape.ndim, attrs.dtype);
  },
});
