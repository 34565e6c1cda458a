/**
 * Struct info: the type of a graph value. A tensor's shape is a list of prim
 * expressions over symbolic variables (`(n, 4096)`), or unknown with a known
 * rank, or unknown altogether.
 */
import { type DataType, INDEX_DTYPE } from '../dtype.ts';
import { intImm, type PrimExpr } from '../prim/expr.ts';

export interface TensorStructInfo {
  readonly kind: 'tensor';
  readonly dtype: DataType;
  /** Undefined when only the rank (or nothing) is known. */
  readonly shape?: readonly PrimExpr[];
  /** -1 when unknown; equal to shape.length when the shape is known. */
  readonly ndim: number;
  /** A device name ("cpu", "webgpu"), when the value is pinned to one. */
  readonly device?: string;
}

export interface TupleStructInfo {
  readonly kind: 'tuple';
  readonly fields: readonly StructInfo[];
}

export interface ShapeStructInfo {
  readonly kind: 'shape';
  readonly values?: readonly PrimExpr[];
  readonly ndim: number;
}

export interface PrimStructInfo {
  readonly kind: 'prim';
  readonly dtype: DataType;
  /** The value, when it is known symbolically. */
  readonly value?: PrimExpr;
}

export interface ObjectStructInfo {
  readonly kind: 'object';
}

export interface FuncStructInfo {
  readonly kind: 'func';
  /** Undefined for a function whose parameters are not known (an opaque callable). */
  readonly params?: readonly StructInfo[];
  readonly ret: StructInfo;
}

export type StructInfo =
  TensorStructInfo | TupleStructInfo | ShapeStructInfo | PrimStructInfo | ObjectStructInfo | FuncStructInfo;

type Dim = PrimExpr | number;

function dims(shape: readonly Dim[]): PrimExpr[] {
  return shape.map((d) => (typeof d === 'number' ? intImm(d, INDEX_DTYPE) : d));
}

export function tensorSI(shape: readonly Dim[] | number | undefined, dtype: DataType, device?: string): TensorStructInfo {
  const base =
    shape === undefined
      ? { kind: 'tensor' as const, dtype, ndim: -1 }
      : typeof shape === 'number'
        ? { kind: 'tensor' as const, dtype, ndim: shape }
        : { kind: 'tensor' as const, dtype, shape: dims(shape), ndim: shape.length };
  return device === undefined ? base : { ...base, device };
}

export function tupleSI(fields: readonly StructInfo[]): TupleStructInfo {
  return { kind: 'tuple', fields };
}

export function shapeSI(values: readonly Dim[] | number | undefined): ShapeStructInfo {
  if (values === undefined) return { kind: 'shape', ndim: -1 };
  if (typeof values === 'number') return { kind: 'shape', ndim: values };
  return { kind: 'shape', values: dims(values), ndim: values.length };
}

export function primSI(dtype: DataType, value?: PrimExpr): PrimStructInfo {
  return value === undefined ? { kind: 'prim', dtype } : { kind: 'prim', dtype, value };
}

export const OBJECT_SI: ObjectStructInfo = { kind: 'object' };

export function funcSI(params: readonly StructInfo[] | undefined, ret: StructInfo): FuncStructInfo {
  return params === undefined ? { kind: 'func', ret } : { kind: 'func', params, ret };
}

export function isTensorSI(s: StructInfo): s is TensorStructInfo {
  return s.kind === 'tensor';
}

/** Rebuilds struct info with `f` applied to every prim expression in it. */
export function mapStructInfoExprs(s: StructInfo, f: (e: PrimExpr) => PrimExpr): StructInfo {
  const mapList = (xs: readonly PrimExpr[]): readonly PrimExpr[] => {
    let changed = false;
    const ys = xs.map((x) => {
      const y = f(x);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? ys : xs;
  };
  switch (s.kind) {
    case 'tensor': {
      if (!s.shape) return s;
      const shape = mapList(s.shape);
      return shape === s.shape ? s : { ...s, shape };
    }
    case 'shape': {
      if (!s.values) return s;
      const values = mapList(s.values);
      return values === s.values ? s : { ...s, values };
    }
    case 'prim': {
      if (!s.value) return s;
      const value = f(s.value);
      return value === s.value ? s : { ...s, value };
    }
    case 'tuple': {
      let changed = false;
      const fields = s.fields.map((x) => {
        const y = mapStructInfoExprs(x, f);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? { kind: 'tuple', fields } : s;
    }
    case 'object':
      return s;
    case 'func': {
      const params = s.params?.map((p) => mapStructInfoExprs(p, f));
      const ret = mapStructInfoExprs(s.ret, f);
      const same = ret === s.ret && (s.params === undefined || s.params.every((p, i) => p === params![i]));
      return same ? s : funcSI(params, ret);
    }
  }
}

/** Calls `f` on every prim expression of `s`, in order. */
export function visitStructInfoExprs(s: StructInfo, f: (e: PrimExpr) => void): void {
  switch (s.kind) {
    case 'tensor':
      s.shape?.forEach(f);
      return;
    case 'shape':
      s.values?.forEach(f);
      return;
    case 'prim':
      if (s.value) f(s.value);
      return;
    case 'tuple':
      for (const x of s.fields) visitStructInfoExprs(x, f);
      return;
    case 'object':
      return;
    case 'func':
      s.params?.forEach((p) => visitStructInfoExprs(p, f));
      visitStructInfoExprs(s.ret, f);
      return;
  }
}
