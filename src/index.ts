/** Kiln's compiler API. The runtime is a separate entry point (kiln/runtime) once it exists. */
export * from './ir/index.ts';
export { allOps, getOp, inferOpCall, normalizeAttrs, opHooks } from './ops/index.ts';
export { KilnError, formatDiagnostic, type Diagnostic, type SourceLocation } from './support/diagnostics.ts';
