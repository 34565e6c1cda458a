/**
 * What the IR needs to know about operators, injected by the caller: `ir`
 * imports nothing above it, and the operator library (src/ops) provides
 * these as `opHooks`.
 */
import type { AttrMap } from '../attrs.ts';
import type { StructInfo } from './struct-info.ts';

/** Struct-info inference of an operator call. */
export type InferOp = (op: string, args: readonly StructInfo[], attrs: AttrMap) => StructInfo;

/** Validates an operator's attributes and fills in defaults, so equal calls have equal attributes. */
export type NormalizeAttrs = (op: string, attrs: AttrMap) => AttrMap;

export interface OpHooks {
  readonly inferOp?: InferOp;
  readonly normalizeAttrs?: NormalizeAttrs;
}
