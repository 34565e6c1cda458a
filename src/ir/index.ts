/** The core IR: the public surface other layers import. */
export * from './attrs.ts';
export * from './blob.ts';
export * from './dtype.ts';
export * from './module.ts';
export * from './prim/expr.ts';
export { INTRINSICS, isIntrinsic, type Intrinsic } from './prim/intrinsics.ts';
export { Analyzer, simplify } from './arith/analyzer.ts';
export type { Interval } from './arith/interval.ts';
export * from './tir/buffer.ts';
export * from './tir/stmt.ts';
export { inferBlockRegions } from './tir/regions.ts';
export * from './graph/expr.ts';
export * from './graph/struct-info.ts';
export { isBaseOf, type Verdict } from './graph/subtype.ts';
export { BlockBuilder, type BlockBuilderOptions } from './builder/block-builder.ts';
export * as te from './builder/te.ts';
export { parseModule, parsePrimExpr, type ParseOptions } from './text/parser.ts';
export { printModule, printPrimExpr, printShape, printStructInfo, type PrintOptions } from './text/printer.ts';
export {
  findMismatch,
  structuralEqual,
  structuralHash,
  primStructuralEqual,
  stmtStructuralEqual,
  type Mismatch,
} from './structural.ts';
export { deserializeModule, serializeModule, collectBlobs, type SerializedModule } from './serialize.ts';
export { assertWellFormed, verifyModule, type VerifyOptions } from './verify/index.ts';
export type { InferOp, NormalizeAttrs, OpHooks } from './graph/op-hooks.ts';
export { encodeValues, decodeValues, type ElementValue } from './tensor-data.ts';
