/**
 * Importing this module registers the legalization of every operator family.
 */
import '../index.ts';
import './elementwise.ts';
import './reduce.ts';
import './norm.ts';
import './linear.ts';
import './nn.ts';
import './image.ts';
import './sample.ts';
import './create.ts';
import './manipulate.ts';
import './indexing.ts';
import './sort.ts';
import './quantize.ts';
import './recurrent.ts';

export { defineLegalization, getLegalization, legalizedOps, type LegalizeCall, type LegalizeFn } from './registry.ts';
export { lowerOpCall, type LoweredCall } from './lower-call.ts';
