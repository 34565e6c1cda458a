/** The prim binary operators the runtime's shape expressions evaluate (src/runtime/shape-expr.ts). */
import type { ShapeOp } from '../runtime/program.ts';

export const SHAPE_OPS: Partial<Record<string, ShapeOp>> = {
  add: 'add',
  sub: 'sub',
  mul: 'mul',
  div: 'div',
  floordiv: 'floordiv',
  floormod: 'floormod',
  truncdiv: 'truncdiv',
  truncmod: 'truncmod',
  min: 'min',
  max: 'max',
  eq: 'eq',
  ne: 'ne',
  lt: 'lt',
  le: 'le',
  gt: 'gt',
  ge: 'ge',
  and: 'and',
  or: 'or',
};
