/**
 * Binary elementwise operators with numpy broadcasting, comparisons (bool
 * results) and `where`. Both operands must have one dtype: Kiln, like Relax,
 * never promotes implicitly, so a mixed-precision graph says where it casts.
 */
import { type DataType, isBool, isInt } from '../ir/dtype.ts';
import * as A from './attr-schema.ts';
import { defineOp, type InferContext } from './registry.ts';
import { broadcast, requireDtype, resultTensor, sameDtype } from './shape.ts';
import type { TensorStructInfo } from '../ir/graph/struct-info.ts';

/** What a binary operator accepts and produces. */
type BinaryClass =
  /** numbers in (not bool), same dtype out */
  | 'arith'
  /** integers or bool in, same out */
  | 'bitwise'
  /** anything in, bool out */
  | 'compare'
  /** anything in, bool out; non-zero is true */
  | 'logical';

const BINARY: Readonly<Record<string, BinaryClass>> = {
  add: 'arith',
  subtract: 'arith',
  multiply: 'arith',
  divide: 'arith',
  floor_divide: 'arith',
  power: 'arith',
  maximum: 'arith',
  minimum: 'arith',
  mod: 'arith',
  floor_mod: 'arith',
  bitwise_and: 'bitwise',
  bitwise_or: 'bitwise',
  bitwise_xor: 'bitwise',
  left_shift: 'bitwise',
  right_shift: 'bitwise',
  equal: 'compare',
  not_equal: 'compare',
  less: 'compare',
  less_equal: 'compare',
  greater: 'compare',
  greater_equal: 'compare',
  logical_and: 'logical',
  logical_or: 'logical',
  logical_xor: 'logical',
};

function binaryDtype(ctx: InferContext, cls: BinaryClass, x1: TensorStructInfo, x2: TensorStructInfo): DataType {
  const t = sameDtype(ctx, [
    ['x1', x1],
    ['x2', x2],
  ]);
  switch (cls) {
    case 'arith':
      requireDtype(ctx, 'x1', x1, (d) => !isBool(d), 'a number type (not bool); use the logical_* operators on bool');
      return t;
    case 'bitwise':
      requireDtype(ctx, 'x1', x1, (d) => isInt(d) || isBool(d), 'an integer or bool type');
      return t;
    case 'compare':
    case 'logical':
      return 'bool';
  }
}

for (const [name, cls] of Object.entries(BINARY)) {
  defineOp({
    name,
    args: [
      { name: 'x1', kind: 'tensor' },
      { name: 'x2', kind: 'tensor' },
    ],
    attrs: A.NO_ATTRS_SCHEMA,
    infer: ({ x1, x2 }, _attrs, ctx) => {
      const dtype = binaryDtype(ctx, cls, x1, x2);
      const r = broadcast(ctx, [
        ['x1', x1],
        ['x2', x2],
      ]);
      return resultTensor(r, dtype, x1);
    },
  });
}

/** where(condition, x1, x2): picks x1 where condition holds, all three broadcast together. */
defineOp({
  name: 'where',
  args: [
    { name: 'condition', kind: 'tensor' },
    { name: 'x1', kind: 'tensor' },
    { name: 'x2', kind: 'tensor' },
  ],
  attrs: A.NO_ATTRS_SCHEMA,
  infer: ({ condition, x1, x2 }, _attrs, ctx) => {
    requireDtype(ctx, 'condition', condition, isBool, 'bool');
    const dtype = sameDtype(ctx, [
      ['x1', x1],
      ['x2', x2],
    ]);
    const r = broadcast(ctx, [
      ['condition', condition],
      ['x1', x1],
      ['x2', x2],
    ]);
    return resultTensor(r, dtype, x1);
  },
});
