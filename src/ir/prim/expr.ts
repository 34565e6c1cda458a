/**
 * Prim expressions: scalar arithmetic over typed variables, the language of
 * symbolic shapes and of loop-level tensor programs.
 *
 * Nodes are immutable plain objects built only through the factories below.
 * A variable is identified by its object, never by its name: two variables
 * named `n` are different variables.
 */
import { fail, M } from '../../support/messages.ts';
import { type DataType, INDEX_DTYPE, intRange, isBool, isFloat, isInt, shortName } from '../dtype.ts';
import { roundToFloat } from '../float-bits.ts';
import type { Buffer } from '../tir/buffer.ts';
import { intrinsicInfo, type Intrinsic } from './intrinsics.ts';

export interface IntImm {
  readonly kind: 'int';
  readonly dtype: DataType;
  readonly value: number;
}

export interface FloatImm {
  readonly kind: 'float';
  readonly dtype: DataType;
  readonly value: number;
}

export interface BoolImm {
  readonly kind: 'bool';
  readonly dtype: 'bool';
  readonly value: boolean;
}

export interface PrimVar {
  readonly kind: 'var';
  readonly dtype: DataType;
  /** A hint for printing; identity is the object. */
  readonly name: string;
}

export const ARITH_OPS = ['add', 'sub', 'mul', 'div', 'floordiv', 'floormod', 'truncdiv', 'truncmod', 'min', 'max'] as const;
export const COMPARE_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export const LOGIC_OPS = ['and', 'or'] as const;
export const BIT_OPS = ['bitand', 'bitor', 'bitxor', 'shl', 'shr'] as const;

export type ArithOp = (typeof ARITH_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type LogicOp = (typeof LOGIC_OPS)[number];
export type BitOp = (typeof BIT_OPS)[number];
export type BinaryOp = ArithOp | CompareOp | LogicOp | BitOp;

export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  /** The result type: the operands' type, or bool for comparisons and logic. */
  readonly dtype: DataType;
  readonly a: PrimExpr;
  readonly b: PrimExpr;
}

export interface Not {
  readonly kind: 'not';
  readonly dtype: 'bool';
  readonly a: PrimExpr;
}

export interface Select {
  readonly kind: 'select';
  readonly dtype: DataType;
  readonly cond: PrimExpr;
  readonly t: PrimExpr;
  readonly f: PrimExpr;
}

export interface Cast {
  readonly kind: 'cast';
  readonly dtype: DataType;
  readonly value: PrimExpr;
}

/** A call of a math intrinsic (exp, sqrt, pow, ...) or of a target intrinsic (barriers). */
export interface Call {
  readonly kind: 'call';
  readonly dtype: DataType;
  readonly op: Intrinsic;
  readonly args: readonly PrimExpr[];
}

export interface BufferLoad {
  readonly kind: 'load';
  readonly dtype: DataType;
  readonly buffer: Buffer;
  readonly indices: readonly PrimExpr[];
}

export type PrimExpr = IntImm | FloatImm | BoolImm | PrimVar | Binary | Not | Select | Cast | Call | BufferLoad;
export type PrimImm = IntImm | FloatImm | BoolImm;

function bad(what: string, problem: string): never {
  return fail(M.irConstruction, { what, problem });
}

// --- immediates and variables ------------------------------------------------

export function intImm(value: number, dtype: DataType = INDEX_DTYPE): IntImm {
  if (!isInt(dtype)) bad('integer literal', `dtype ${dtype} is not an integer type`);
  if (!Number.isSafeInteger(value)) bad('integer literal', `${value} is not an integer within ±2^53`);
  const r = intRange(dtype);
  if (value < r.min || value > r.max) bad('integer literal', `${value} does not fit ${shortName(dtype)}`);
  return { kind: 'int', dtype, value: value === 0 ? 0 : value };
}

export function floatImm(value: number, dtype: DataType = 'float32'): FloatImm {
  if (!isFloat(dtype)) bad('float literal', `dtype ${dtype} is not a float type`);
  // Stored rounded to its type, so that equal literals are equal however they were written.
  return { kind: 'float', dtype, value: roundToFloat(value, dtype) };
}

export function boolImm(value: boolean): BoolImm {
  return value ? TRUE : FALSE;
}

const TRUE: BoolImm = { kind: 'bool', dtype: 'bool', value: true };
const FALSE: BoolImm = { kind: 'bool', dtype: 'bool', value: false };

/** A literal of any type: bool, integer or float according to dtype. */
export function imm(value: number | boolean, dtype: DataType): PrimImm {
  if (isBool(dtype)) return boolImm(Boolean(value));
  if (isFloat(dtype)) return floatImm(Number(value), dtype);
  return intImm(Number(value), dtype);
}

export function primVar(name: string, dtype: DataType = INDEX_DTYPE): PrimVar {
  return { kind: 'var', dtype, name };
}

export function isImm(e: PrimExpr): e is PrimImm {
  return e.kind === 'int' || e.kind === 'float' || e.kind === 'bool';
}

/** The integer value of an integer literal, else undefined. */
export function constInt(e: PrimExpr): number | undefined {
  return e.kind === 'int' ? e.value : undefined;
}

// --- operators ---------------------------------------------------------------

export type PrimLike = PrimExpr | number;

/** Numbers become literals of the other operand's type. */
function lift(x: PrimLike, other: PrimLike): PrimExpr {
  if (typeof x !== 'number') return x;
  const dtype =
    typeof other === 'number' ? (Number.isInteger(x) && Number.isInteger(other) ? INDEX_DTYPE : 'float32') : other.dtype;
  return isFloat(dtype) ? floatImm(x, dtype) : isBool(dtype) ? boolImm(x !== 0) : intImm(x, dtype);
}

export function binary(op: BinaryOp, a: PrimLike, b: PrimLike): Binary {
  const x = lift(a, b);
  const y = lift(b, a);
  if (x.dtype !== y.dtype) {
    bad(`operator ${op}`, `operands have different types ${shortName(x.dtype)} and ${shortName(y.dtype)}`);
  }
  const t = x.dtype;
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'min':
    case 'max':
      if (isBool(t)) bad(`operator ${op}`, 'operands must be numbers, not bool');
      return { kind: 'binary', op, dtype: t, a: x, b: y };
    case 'div':
      if (!isFloat(t)) bad('operator div', `true division needs float operands, found ${shortName(t)}; use floordiv or truncdiv`);
      return { kind: 'binary', op, dtype: t, a: x, b: y };
    case 'floordiv':
    case 'floormod':
    case 'truncdiv':
    case 'truncmod':
      if (isBool(t)) bad(`operator ${op}`, 'operands must be numbers, not bool');
      return { kind: 'binary', op, dtype: t, a: x, b: y };
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return { kind: 'binary', op, dtype: 'bool', a: x, b: y };
    case 'and':
    case 'or':
      if (!isBool(t)) bad(`operator ${op}`, `operands must be bool, found ${shortName(t)}`);
      return { kind: 'binary', op, dtype: 'bool', a: x, b: y };
    case 'bitand':
    case 'bitor':
    case 'bitxor':
    case 'shl':
    case 'shr':
      if (!isInt(t)) bad(`operator ${op}`, `operands must be integers, found ${shortName(t)}`);
      return { kind: 'binary', op, dtype: t, a: x, b: y };
  }
}

export const add = (a: PrimLike, b: PrimLike): PrimExpr => binary('add', a, b);
export const sub = (a: PrimLike, b: PrimLike): PrimExpr => binary('sub', a, b);
export const mul = (a: PrimLike, b: PrimLike): PrimExpr => binary('mul', a, b);
export const div = (a: PrimLike, b: PrimLike): PrimExpr => binary('div', a, b);
export const floordiv = (a: PrimLike, b: PrimLike): PrimExpr => binary('floordiv', a, b);
export const floormod = (a: PrimLike, b: PrimLike): PrimExpr => binary('floormod', a, b);
export const truncdiv = (a: PrimLike, b: PrimLike): PrimExpr => binary('truncdiv', a, b);
export const truncmod = (a: PrimLike, b: PrimLike): PrimExpr => binary('truncmod', a, b);
export const min = (a: PrimLike, b: PrimLike): PrimExpr => binary('min', a, b);
export const max = (a: PrimLike, b: PrimLike): PrimExpr => binary('max', a, b);
export const eq = (a: PrimLike, b: PrimLike): PrimExpr => binary('eq', a, b);
export const ne = (a: PrimLike, b: PrimLike): PrimExpr => binary('ne', a, b);
export const lt = (a: PrimLike, b: PrimLike): PrimExpr => binary('lt', a, b);
export const le = (a: PrimLike, b: PrimLike): PrimExpr => binary('le', a, b);
export const gt = (a: PrimLike, b: PrimLike): PrimExpr => binary('gt', a, b);
export const ge = (a: PrimLike, b: PrimLike): PrimExpr => binary('ge', a, b);
export const and = (a: PrimExpr, b: PrimExpr): PrimExpr => binary('and', a, b);
export const or = (a: PrimExpr, b: PrimExpr): PrimExpr => binary('or', a, b);

export function not(a: PrimExpr): Not {
  if (!isBool(a.dtype)) bad('operator not', `operand must be bool, found ${shortName(a.dtype)}`);
  return { kind: 'not', dtype: 'bool', a };
}

export function select(cond: PrimExpr, t: PrimLike, f: PrimLike): Select {
  if (!isBool(cond.dtype)) bad('select', `condition must be bool, found ${shortName(cond.dtype)}`);
  const x = lift(t, f);
  const y = lift(f, t);
  if (x.dtype !== y.dtype) bad('select', `branches have different types ${shortName(x.dtype)} and ${shortName(y.dtype)}`);
  return { kind: 'select', dtype: x.dtype, cond, t: x, f: y };
}

export function cast(dtype: DataType, value: PrimExpr): Cast {
  return { kind: 'cast', dtype, value };
}

/** A cast only when the type differs. */
export function castIfNeeded(dtype: DataType, value: PrimExpr): PrimExpr {
  return value.dtype === dtype ? value : cast(dtype, value);
}

export function call(op: Intrinsic, args: readonly PrimExpr[]): Call {
  const info = intrinsicInfo(op);
  if (info.arity !== args.length) bad(`intrinsic ${op}`, `expects ${info.arity} arguments, found ${args.length}`);
  const dtype = info.resultType(args, (problem) => bad(`intrinsic ${op}`, problem));
  return { kind: 'call', dtype, op, args };
}

export function load(buffer: Buffer, indices: readonly PrimLike[]): BufferLoad {
  if (indices.length !== buffer.shape.length) {
    bad(`load of ${buffer.name}`, `buffer has ${buffer.shape.length} dimensions, found ${indices.length} indices`);
  }
  const idx = indices.map((i) => (typeof i === 'number' ? intImm(i) : i));
  for (const i of idx)
    if (!isInt(i.dtype)) bad(`load of ${buffer.name}`, `index has type ${shortName(i.dtype)}, expected an integer`);
  return { kind: 'load', dtype: buffer.dtype, buffer, indices: idx };
}

/**
 * A load by one flat element offset, whatever the buffer's rank: the form of
 * lowered PrimFuncs (attribute `lowered`, see src/passes/tir/flatten-buffers.ts),
 * where the verifier and the parser allow it.
 */
export function flatLoad(buffer: Buffer, offset: PrimExpr): BufferLoad {
  if (!isInt(offset.dtype)) bad(`load of ${buffer.name}`, `offset has type ${shortName(offset.dtype)}, expected an integer`);
  return { kind: 'load', dtype: buffer.dtype, buffer, indices: [offset] };
}

/** Product and sum of a list, with the identity for the empty list. */
export function product(xs: readonly PrimExpr[], dtype: DataType = INDEX_DTYPE): PrimExpr {
  return xs.length === 0 ? intImm(1, dtype) : xs.reduce((acc, x) => mul(acc, x));
}

export function sum(xs: readonly PrimExpr[], dtype: DataType = INDEX_DTYPE): PrimExpr {
  return xs.length === 0 ? intImm(0, dtype) : xs.reduce((acc, x) => add(acc, x));
}

// --- generic traversal ------------------------------------------------------

/**
 * Rebuilds `e` with `f` applied to each direct child; returns `e` itself when
 * no child changed, so unchanged subtrees stay shared.
 */
export function mapPrimChildren(e: PrimExpr, f: (child: PrimExpr) => PrimExpr): PrimExpr {
  switch (e.kind) {
    case 'int':
    case 'float':
    case 'bool':
    case 'var':
      return e;
    case 'binary': {
      const a = f(e.a);
      const b = f(e.b);
      return a === e.a && b === e.b ? e : { ...e, a, b };
    }
    case 'not': {
      const a = f(e.a);
      return a === e.a ? e : { ...e, a };
    }
    case 'select': {
      const cond = f(e.cond);
      const t = f(e.t);
      const fe = f(e.f);
      return cond === e.cond && t === e.t && fe === e.f ? e : { ...e, cond, t, f: fe };
    }
    case 'cast': {
      const value = f(e.value);
      return value === e.value ? e : { ...e, value };
    }
    case 'call': {
      const args = mapArray(e.args, f);
      return args === e.args ? e : { ...e, args };
    }
    case 'load': {
      const indices = mapArray(e.indices, f);
      return indices === e.indices ? e : { ...e, indices };
    }
  }
}

/** Maps an array, returning the same array when no element changed. */
export function mapArray<T>(xs: readonly T[], f: (x: T) => T): readonly T[] {
  let out: T[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const y = f(x);
    if (out === undefined && y !== x) out = xs.slice(0, i);
    if (out !== undefined) out.push(y);
  }
  return out ?? xs;
}

/** Calls `f` on every node of `e`, parents before children. */
export function visitPrim(e: PrimExpr, f: (node: PrimExpr) => void): void {
  f(e);
  switch (e.kind) {
    case 'int':
    case 'float':
    case 'bool':
    case 'var':
      return;
    case 'binary':
      visitPrim(e.a, f);
      visitPrim(e.b, f);
      return;
    case 'not':
      visitPrim(e.a, f);
      return;
    case 'select':
      visitPrim(e.cond, f);
      visitPrim(e.t, f);
      visitPrim(e.f, f);
      return;
    case 'cast':
      visitPrim(e.value, f);
      return;
    case 'call':
      for (const a of e.args) visitPrim(a, f);
      return;
    case 'load':
      for (const i of e.indices) visitPrim(i, f);
      return;
  }
}

/** Replaces variables by the expressions `map` gives them. */
export function substitute(e: PrimExpr, map: ReadonlyMap<PrimVar, PrimExpr>): PrimExpr {
  if (map.size === 0) return e;
  const go = (x: PrimExpr): PrimExpr => (x.kind === 'var' ? (map.get(x) ?? x) : mapPrimChildren(x, go));
  return go(e);
}

/** The free variables of `e`, in order of first occurrence. */
export function primVars(e: PrimExpr, into: Set<PrimVar> = new Set()): Set<PrimVar> {
  visitPrim(e, (x) => {
    if (x.kind === 'var') into.add(x);
  });
  return into;
}

/** The operands of a chain of `&&` (`true` has none; a lone condition is its own). */
export function conjuncts(p: PrimExpr): PrimExpr[] {
  if (p.kind === 'bool' && p.value) return [];
  if (p.kind === 'binary' && p.op === 'and') return [...conjuncts(p.a), ...conjuncts(p.b)];
  return [p];
}

export function usesVar(e: PrimExpr, v: PrimVar): boolean {
  let found = false;
  visitPrim(e, (x) => {
    if (x === v) found = true;
  });
  return found;
}
