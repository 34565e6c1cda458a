/**
 * matmul with numpy semantics: batch dims broadcast, a 1-D first operand is
 * a row vector and a 1-D second operand a column vector, and the added unit
 * dim is dropped from the result again.
 */
import { z } from 'zod';
import type { PrimExpr } from '../ir/prim/expr.ts';
import * as A from './attr-schema.ts';
import { defineOp } from './registry.ts';
import { argText, broadcastDims, fmtExpr, int, outTensor, provablyDifferent, requireRank, sameDtype } from './shape.ts';

defineOp({
  name: 'matmul',
  args: [
    { name: 'x1', kind: 'tensor' },
    { name: 'x2', kind: 'tensor' },
  ],
  attrs: z.object({ out_dtype: A.optionalDtype() }),
  infer: ({ x1, x2 }, attrs, ctx) => {
    // As in Relax, an explicit out_dtype allows operands of different dtypes (int8 x int8 -> int32 and the like).
    const dtype =
      attrs.out_dtype ??
      sameDtype(ctx, [
        ['x1', x1],
        ['x2', x2],
      ]);
    requireRank(ctx, 'x1', x1, { min: 1 });
    requireRank(ctx, 'x2', x2, { min: 1 });
    if (x1.ndim < 0 || x2.ndim < 0) return outTensor(-1, dtype, x1);
    const vec1 = x1.ndim === 1;
    const vec2 = x2.ndim === 1;
    const ndim = Math.max(x1.ndim, x2.ndim, 2) - (vec1 ? 1 : 0) - (vec2 ? 1 : 0);
    if (!x1.shape || !x2.shape) return outTensor(ndim, dtype, x1);
    const s1: readonly PrimExpr[] = vec1 ? [int(1), x1.shape[0]!] : x1.shape;
    const s2: readonly PrimExpr[] = vec2 ? [x2.shape[0]!, int(1)] : x2.shape;
    const k1 = s1[s1.length - 1]!;
    const k2 = s2[s2.length - 2]!;
    // Relax assumes equal inner dims unless they are provably different; the run-time shape check catches the rest.
    if (provablyDifferent(ctx.analyzer, k1, k2)) {
      ctx.shapeError(
        `inner dimensions differ: ${argText('x1', x1)} has ${fmtExpr(k1)} columns but ${argText('x2', x2)} has ${fmtExpr(k2)} rows`,
      );
    }
    const batch = broadcastDims(
      ctx,
      [
        { name: 'x1', t: x1, dims: s1.slice(0, -2), ndim: s1.length - 2 },
        { name: 'x2', t: x2, dims: s2.slice(0, -2), ndim: s2.length - 2 },
      ],
      'cannot broadcast the batch dims of',
    );
    if (!batch.shape) return outTensor(ndim, dtype, x1);
    const out = [...batch.shape];
    if (!vec1) out.push(s1[s1.length - 2]!);
    if (!vec2) out.push(s2[s2.length - 1]!);
    return outTensor(out, dtype, x1);
  },
});
