/** Buffers: the multi-dimensional arrays a PrimFunc reads and writes. */
import { type DataType } from '../dtype.ts';
import { intImm, type PrimExpr } from '../prim/expr.ts';

/** global: device memory; shared: per workgroup; local: per thread (registers). */
export type StorageScope = 'global' | 'shared' | 'local';
export const STORAGE_SCOPES: readonly StorageScope[] = ['global', 'shared', 'local'];

/**
 * A buffer is identified by its object, like a variable; the name is a hint.
 * `strides` is empty for a compact row-major layout.
 */
export interface Buffer {
  readonly kind: 'buffer';
  readonly name: string;
  readonly dtype: DataType;
  readonly shape: readonly PrimExpr[];
  readonly strides: readonly PrimExpr[];
  readonly scope: StorageScope;
}

export function buffer(
  name: string,
  shape: readonly (PrimExpr | number)[],
  dtype: DataType = 'float32',
  options: { strides?: readonly PrimExpr[]; scope?: StorageScope } = {},
): Buffer {
  return {
    kind: 'buffer',
    name,
    dtype,
    shape: shape.map((d) => (typeof d === 'number' ? intImm(d) : d)),
    strides: options.strides ?? [],
    scope: options.scope ?? 'global',
  };
}
