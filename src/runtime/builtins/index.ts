/**
 * The runtime's own registry functions: operators whose output shape only the
 * data decides, and checks of values the graph computes (legalize calls them as
 * extern functions). The loader registers
 * the ones a program calls unless the registry it was given has them already,
 * so an application can replace one.
 */
import type { PackedFunc } from '../registry.ts';
import { checkSliceBounds } from './check-slice-bounds.ts';
import { nonMaxSuppression } from './non-max-suppression.ts';
import { nonzero } from './nonzero.ts';
import { tensorToShape } from './tensor-to-shape.ts';
import { unique } from './unique.ts';

export const BUILTINS: ReadonlyMap<string, PackedFunc> = new Map<string, PackedFunc>([
  ['kiln.nonzero', nonzero],
  ['kiln.unique', unique],
  ['kiln.non_max_suppression', nonMaxSuppression],
  ['kiln.tensor_to_shape', tensorToShape],
  ['kiln.check_slice_bounds', checkSliceBounds],
]);
