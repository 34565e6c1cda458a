/**
 * Flattens buffer accesses (TVM's FlattenBuffer): `A[i, j]` on a buffer of
 * shape [n, m] becomes `A[i * m + j]`, one element offset from the buffer's
 * start, by its explicit strides when it has them. The function is marked
 * `lowered`, where every access has one index whatever the buffer's rank;
 * buffers keep their shapes, which the runtime checks at the call.
 */
import { INDEX_DTYPE } from '../../ir/dtype.ts';
import { add, castIfNeeded, flatLoad, intImm, mapPrimChildren, mul, type PrimExpr } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { mapStmtChildren, type PrimFunc, primFunc, type StmtMapper, store } from '../../ir/tir/stmt.ts';

export function flattenBuffers(f: PrimFunc): PrimFunc {
  if (f.attrs.lowered === true) return f;
  const strides = new Map<Buffer, readonly PrimExpr[]>();
  const offset = (b: Buffer, indices: readonly PrimExpr[]): PrimExpr => {
    let s = strides.get(b);
    if (!s) {
      s = stridesOf(b);
      strides.set(b, s);
    }
    let acc: PrimExpr | undefined;
    indices.forEach((index, k) => {
      // Offsets are computed in the index type, whatever integer type an index has (a loaded int32, say).
      const ix = castIfNeeded(INDEX_DTYPE, index);
      const stride = castIfNeeded(INDEX_DTYPE, s[k]!);
      const term = isOne(stride) ? ix : mul(ix, stride);
      acc = acc === undefined ? term : add(acc, term);
    });
    return acc ?? intImm(0);
  };
  const expr = (e: PrimExpr): PrimExpr => {
    const x = mapPrimChildren(e, expr);
    return x.kind === 'load' ? flatLoad(x.buffer, offset(x.buffer, x.indices)) : x;
  };
  const m: StmtMapper = {
    stmt: (s) => {
      const x = mapStmtChildren(s, m);
      return x.kind === 'store' ? store(x.buffer, [offset(x.buffer, x.indices)], x.value) : x;
    },
    expr,
  };
  return primFunc(f.params, m.stmt(f.body), { ...f.attrs, lowered: true });
}

/** Element strides per dimension: the buffer's own, or row-major over its shape. */
export function stridesOf(b: Buffer): readonly PrimExpr[] {
  if (b.strides.length > 0) return b.strides;
  const out = new Array<PrimExpr>(b.shape.length);
  let acc: PrimExpr = intImm(1);
  for (let k = b.shape.length - 1; k >= 0; k--) {
    out[k] = acc;
    const d = b.shape[k]!;
    acc = isOne(acc) ? d : isOne(d) ? acc : mul(acc, d);
  }
  return out;
}

function isOne(e: PrimExpr): boolean {
  return e.kind === 'int' && e.value === 1;
}
