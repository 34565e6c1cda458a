/** The intrinsic functions a prim expression may call, with their typing rules. */
import { type DataType, isFloat, isInt, shortName } from '../dtype.ts';

interface Typed {
  readonly dtype: DataType;
}

export interface IntrinsicInfo {
  readonly arity: number;
  /** False for calls with effects (barriers): two such calls are never the same value. */
  readonly pure?: boolean;
  /** The result type for these arguments; calls `fail` when they are not allowed. */
  readonly resultType: (args: readonly Typed[], fail: (problem: string) => never) => DataType;
}

function sameTypes(args: readonly Typed[], fail: (problem: string) => never): DataType {
  const t = args[0]!.dtype;
  for (const a of args) if (a.dtype !== t) fail(`arguments have different types ${shortName(t)} and ${shortName(a.dtype)}`);
  return t;
}

const floatMath: IntrinsicInfo = {
  arity: 1,
  resultType: (args, fail) => {
    const t = args[0]!.dtype;
    if (!isFloat(t)) fail(`needs a float argument, found ${shortName(t)}`);
    return t;
  },
};

const floatMath2: IntrinsicInfo = {
  arity: 2,
  resultType: (args, fail) => {
    const t = sameTypes(args, fail);
    if (!isFloat(t)) fail(`needs float arguments, found ${shortName(t)}`);
    return t;
  },
};

const numeric: IntrinsicInfo = {
  arity: 1,
  resultType: (args, fail) => {
    const t = args[0]!.dtype;
    if (!isFloat(t) && !isInt(t)) fail(`needs a number, found ${shortName(t)}`);
    return t;
  },
};

const floatPredicate: IntrinsicInfo = {
  arity: 1,
  resultType: (args, fail) => {
    if (!isFloat(args[0]!.dtype)) fail(`needs a float argument, found ${shortName(args[0]!.dtype)}`);
    return 'bool';
  },
};

/** Barriers return nothing useful; they are int32 to stay a prim expression (as in TVM). */
const barrier: IntrinsicInfo = { arity: 0, pure: false, resultType: () => 'int32' };

/** The index of the running workgroup or thread along one axis, after thread bindings are lowered. */
const threadIndex: IntrinsicInfo = { arity: 0, resultType: () => 'int32' };

const TABLE = {
  exp: floatMath,
  exp2: floatMath,
  log: floatMath,
  log2: floatMath,
  log10: floatMath,
  log1p: floatMath,
  expm1: floatMath,
  sqrt: floatMath,
  rsqrt: floatMath,
  sin: floatMath,
  cos: floatMath,
  tan: floatMath,
  asin: floatMath,
  acos: floatMath,
  atan: floatMath,
  sinh: floatMath,
  cosh: floatMath,
  tanh: floatMath,
  asinh: floatMath,
  acosh: floatMath,
  atanh: floatMath,
  erf: floatMath,
  sigmoid: floatMath,
  floor: floatMath,
  ceil: floatMath,
  round: floatMath,
  trunc: floatMath,
  pow: floatMath2,
  atan2: floatMath2,
  fmod: floatMath2,
  abs: numeric,
  sign: numeric,
  isnan: floatPredicate,
  isinf: floatPredicate,
  isfinite: floatPredicate,
  workgroup_barrier: barrier,
  storage_barrier: barrier,
  block_idx_x: threadIndex,
  block_idx_y: threadIndex,
  block_idx_z: threadIndex,
  thread_idx_x: threadIndex,
  thread_idx_y: threadIndex,
  thread_idx_z: threadIndex,
} satisfies Record<string, IntrinsicInfo>;

export type Intrinsic = keyof typeof TABLE;

export const INTRINSICS = Object.keys(TABLE) as Intrinsic[];

export function isIntrinsic(name: string): name is Intrinsic {
  return Object.hasOwn(TABLE, name);
}

export function intrinsicInfo(op: Intrinsic): IntrinsicInfo {
  return TABLE[op];
}
