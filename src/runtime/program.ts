/**
 * The VM program format: what `codegen` writes to program.json and the VM
 * runs. One function per graph function of the module; registers hold
 * values, symbolic variables live in numbered slots bound by `match`.
 *
 * Shape expressions are JSON: a number, `["v", slot]`, or
 * `[op, ...operands]` with the ops of SHAPE_OPS.
 */

export const PROGRAM_VERSION = 1;

export type ShapeOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'floordiv'
  | 'floormod'
  | 'truncdiv'
  | 'truncmod'
  | 'min'
  | 'max'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or'
  | 'not'
  | 'select'
  | 'int'
  | 'float';

export type ShapeExpr = number | boolean | readonly ['v', number] | readonly [ShapeOp, ...ShapeExpr[]];

/** One dimension (or prim value) of a pattern: bind a slot, check an expression, or accept anything. */
export type DimPattern = { readonly bind: number } | { readonly eq: ShapeExpr } | null;

export type Pattern =
  | {
      readonly k: 'tensor';
      readonly dtype?: string;
      /** -1 when the rank is not checked. */
      readonly ndim: number;
      readonly dims?: readonly DimPattern[];
    }
  | { readonly k: 'tuple'; readonly fields: readonly Pattern[] }
  | { readonly k: 'shape'; readonly ndim: number; readonly dims?: readonly DimPattern[] }
  | { readonly k: 'prim'; readonly dtype: string; readonly value?: DimPattern }
  | { readonly k: 'any' };

export type Instr =
  /** Checks the value in `src` against `pattern`, binding slots; `what` names it in errors. */
  | { readonly op: 'match'; readonly src: number; readonly pattern: Pattern; readonly what: string }
  /** A new tensor of `shape` on the function's device. */
  | { readonly op: 'alloc'; readonly dst: number; readonly dtype: string; readonly shape: readonly ShapeExpr[] }
  /** Runs a kernel of the artifact on tensors and prims in `args`, then `scalars` (tir_vars). */
  | { readonly op: 'kernel'; readonly kernel: string; readonly args: readonly number[]; readonly scalars: readonly ShapeExpr[] }
  /** Calls a registry function destination-passing style (its outputs are among `args`). */
  | { readonly op: 'packed'; readonly func: string; readonly args: readonly number[] }
  /** Calls a registry function and keeps its result. */
  | { readonly op: 'extern'; readonly dst: number; readonly func: string; readonly args: readonly number[] }
  /** Calls another function of the program. */
  | {
      readonly op: 'call';
      readonly dst: number;
      readonly func: string;
      readonly args: readonly number[];
      /** The function returns this call's result as it is: the VM runs the callee in this frame (a loop). */
      readonly tail?: boolean;
    }
  | { readonly op: 'tuple'; readonly dst: number; readonly fields: readonly number[] }
  | { readonly op: 'get'; readonly dst: number; readonly src: number; readonly index: number }
  | { readonly op: 'shape'; readonly dst: number; readonly dims: readonly ShapeExpr[] }
  | { readonly op: 'shape_of'; readonly dst: number; readonly src: number }
  /** A byte arena of a memory plan (alloc_storage). */
  | { readonly op: 'storage'; readonly dst: number; readonly bytes: ShapeExpr }
  /** A tensor at a byte offset of arena `src` (alloc_tensor); a device without views allocates it instead. */
  | {
      readonly op: 'view';
      readonly dst: number;
      readonly src: number;
      readonly offset: ShapeExpr;
      readonly dtype: string;
      readonly shape: readonly ShapeExpr[];
    }
  | { readonly op: 'prim'; readonly dst: number; readonly value: ShapeExpr; readonly dtype: string }
  | { readonly op: 'string'; readonly dst: number; readonly value: string }
  /** Loads parameter `index` of the artifact (a constant of the module). */
  | { readonly op: 'const'; readonly dst: number; readonly index: number }
  | { readonly op: 'move'; readonly dst: number; readonly src: number }
  /** Jumps to `else` when the condition (a bool prim or 0-d tensor) is false. */
  | { readonly op: 'branch'; readonly cond: number; readonly else: number }
  | { readonly op: 'jump'; readonly to: number }
  | { readonly op: 'ret'; readonly src: number };

export interface ParamInfo {
  readonly name: string;
  /** The parameter's struct info in the text format, for messages and the manifest. */
  readonly type: string;
  /** For a tensor of known rank: its dtype and dims, over the function's variable slots (`vars`). */
  readonly tensor?: { readonly dtype: string; readonly dims?: readonly ShapeExpr[] };
}

export interface VMFunction {
  readonly params: readonly ParamInfo[];
  /** The return struct info in the text format. */
  readonly ret: string;
  /** The names of the results (the model's output names), when the module records them. */
  readonly outputs?: readonly string[];
  readonly registers: number;
  /** The name of each symbolic variable slot, for messages. */
  readonly vars: readonly string[];
  /** Per slot, the declared upper bound of its variable (null: none); checked whenever the slot is bound. */
  readonly upper?: readonly (number | null)[];
  readonly code: readonly Instr[];
}

export interface VMProgram {
  readonly version: number;
  readonly functions: Readonly<Record<string, VMFunction>>;
}
