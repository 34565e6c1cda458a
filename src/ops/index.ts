/**
 * The operator library. Importing this module registers every operator
 * family; consumers use the registry API re-exported here.
 */
import './elementwise.ts';
import './binary.ts';
import './linear.ts';
import './nn.ts';
import './norm.ts';
import './reduce.ts';
import './manipulate.ts';
import './indexing.ts';
import './sort.ts';
import './recurrent.ts';
import './create.ts';
import './image.ts';
import './memory.ts';
import './quantize.ts';
import './data-dependent.ts';

export {
  allOps,
  attrNames,
  defineOp,
  getOp,
  hasOp,
  inferOpCall,
  normalizeAttrs,
  type ArgKind,
  type ArgKindValue,
  type ArgSpec,
  type ArgValues,
  type AttrSchema,
  type InferContext,
  type Legalize,
  type LegalizeInput,
  type OpDefinition,
  type RegisteredOp,
} from './registry.ts';
export { fmtDims, fmtExpr, fmtShape } from './shape.ts';

import type { OpHooks } from '../ir/graph/op-hooks.ts';
import { inferOpCall as infer, normalizeAttrs as normalize } from './registry.ts';

/** The operator hooks the IR's parser, builder and verifier take: `parseModule(text, { ...opHooks })`. */
export const opHooks: OpHooks = {
  inferOp: (op, args, attrs) => infer(op, args, attrs),
  normalizeAttrs: normalize,
};
