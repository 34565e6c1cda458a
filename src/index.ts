/**
 * Kiln's compiler API: the IR, operators and their legalizations, passes,
 * stages (for stages of your own: `export default defineStage({...})`) and
 * artifact building. The runtime is a separate entry point: kiln/runtime.
 */
export * from './ir/index.ts';
export { allOps, defineOp, getOp, inferOpCall, normalizeAttrs, opHooks } from './ops/index.ts';
export { defineLegalization, type LegalizeCall, type LegalizeFn } from './ops/legalize/index.ts';
export { allPasses, createPass, definePass, type Pass, type PassContext, runPass, sequential } from './passes/index.ts';
export { defineStage, type StageContext, type StageDefinition } from './stages/index.ts';
export { type Artifact, buildArtifact } from './codegen/artifact.ts';
export {
  allBackends,
  type Backend,
  type BackendOutput,
  type Composite,
  defineBackend,
  getBackend,
  registerBackend,
} from './codegen/backends/index.ts';
export { KilnError, formatDiagnostic, type Diagnostic, type SourceLocation } from './support/diagnostics.ts';
