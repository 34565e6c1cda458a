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
import './create.ts';
import './image.ts';

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
