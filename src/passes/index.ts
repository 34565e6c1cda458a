/**
 * IRModule → IRModule transformations. Importing this module registers the
 * built-in passes; stages look them up by name with `createPass`.
 */
export {
  allPasses,
  createPass,
  definePass,
  getPass,
  runPass,
  sequential,
  type DefinedPass,
  type Pass,
  type PassContext,
  type PassDefinition,
  type PassInstrument,
  type RegisteredPass,
} from './registry.ts';
export { DCE, dce, eliminateDeadCode } from './dce.ts';
export { LEGALIZE, LEGALIZE_VERSION } from './legalize-pass.ts';
export { SIMPLIFY, simplify, simplifyGraphFunc, simplifyModule } from './simplify.ts';
export { simplifyPrimFunc } from './simplify-tir.ts';
