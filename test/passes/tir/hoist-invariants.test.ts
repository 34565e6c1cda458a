/**
 * hoist-invariants (src/passes/tir/hoist-invariants.ts): loop-invariant index
 * arithmetic bound once outside serial loops. Before/Expected in the text
 * format, and the TIR interpreter running both on random inputs.
 */
import { describe, expect, test } from 'vitest';
import { primVar } from '../../../src/ir/prim/expr.ts';
import { mapStmtChildren, type PrimFunc, primFunc, type Stmt } from '../../../src/ir/tir/stmt.ts';
import { substituteStmt } from '../../../src/ir/tir/subst.ts';
import { hoistInvariants } from '../../../src/passes/tir/hoist-invariants.ts';
import { expectFunc, expectSameResults, kernel } from '../../helpers/prim-funcs.ts';

describe('hoist-invariants', () => {
  test("the parts of an index that do not move with the loop (a parallel loop's divisions) are computed once", () => {
    const before = kernel(`
prim_func k(A: f32[64], B: f32[64], C: f32[64]) {
  for p in parallel(16) {
    for k in range(4) {
      C[p // 4 * 16 + p % 4 * 4 + k] = A[p // 4 * 16 + k] + B[p % 4 * 4 + k * 16]
    }
  }
}`);
    const after = hoistInvariants(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[64], B: f32[64], C: f32[64]) {
  for p in parallel(16) {
    let inv0 = p // 4 * 16 + p % 4 * 4
    let inv1 = p // 4 * 16
    let inv2 = p % 4 * 4
    for k in range(4) {
      C[inv0 + k] = A[inv1 + k] + B[inv2 + k * 16]
    }
  }
}`,
    );
    expectSameResults(before, after);
  });

  test("a division by a symbolic tile count (a symbolic extent's parallel tiles) moves out too", () => {
    const before = kernel(`
prim_func k(A: f32[n, 4], C: f32[n]) {
  for p in parallel((n + 1) // 2 * 2) {
    for k in range(4) {
      if p % ((n + 1) // 2) * 2 < n {
        C[p % ((n + 1) // 2) * 2] = C[p % ((n + 1) // 2) * 2] + A[p % ((n + 1) // 2) * 2, k]
      }
    }
  }
}`);
    const after = hoistInvariants(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[n, 4], C: f32[n]) {
  for p in parallel((n + 1) // 2 * 2) {
    let inv0 = p % ((n + 1) // 2) * 2 < n
    let inv1 = p % ((n + 1) // 2) * 2
    for k in range(4) {
      if inv0 {
        C[inv1] = C[inv1] + A[inv1, k]
      }
    }
  }
}`,
    );
    expectSameResults(before, after, { n: 7 });
  });

  test('loads, divisions by what the loop moves and what the loop itself defines stay inside', () => {
    const before = kernel(`
prim_func k(A: f32[8, 8], N: i64[1], C: f32[8]) {
  for i in range(8) {
    for j in range(8) {
      C[i] = C[i] + A[i, j % (N[0] % 8 + 8)] * A[j, (i + 1) // (j + 2)] + A[(N[0] % 8 + 8) // 2 - 4, i * 2 // 3]
    }
  }
}`);
    const after = hoistInvariants(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[8, 8], N: i64[1], C: f32[8]) {
  for i in range(8) {
    let inv0 = i + 1
    let inv1 = i * 2 // 3
    for j in range(8) {
      C[i] = C[i] + A[i, j % (N[0] % 8 + 8)] * A[j, inv0 // (j + 2)] + A[(N[0] % 8 + 8) // 2 - 4, inv1]
    }
  }
}`,
    );
    expectSameResults(before, after);
  });

  test('distinct variables that share a name (a loop variable b, a shape variable b) stay distinct', () => {
    // Hoisted expressions were keyed by their text: with both variables printed as `b`, b * 8 of
    // either was one subexpression, and the loop's offset was computed from the shape's.
    const parsed = kernel(`
prim_func k(A: f32[b * 16], C: f32[b * 16]) {
  for c in range(b) {
    for j in range(8) {
      C[c * 8 + j] = A[b * 8 + j]
    }
  }
}`);
    const before = renameLoopVar(parsed, 'c', 'b');
    const after = hoistInvariants(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[b * 16], C: f32[b * 16]) {
  let inv0 = b * 8
  for c in range(b) {
    let inv0_1 = c * 8
    let inv1 = inv0
    for j in range(8) {
      C[inv0_1 + j] = A[inv1 + j]
    }
  }
}`,
    );
    // (Not run through the TIR interpreter, which binds variables by name and so cannot hold both b.)
  });

  test('a loop without invariant subexpressions is returned as it was', () => {
    const before = kernel(`
prim_func k(A: f32[16], C: f32[16]) {
  for i in range(16) {
    C[i] = A[i] * 2.0
  }
}`);
    expect(hoistInvariants(before)).toBe(before);
  });
});

/** `f` with loop variable `from` replaced by a new variable named `to` (the text format cannot shadow a name). */
function renameLoopVar(f: PrimFunc, from: string, to: string): PrimFunc {
  const rename = (s: Stmt): Stmt => {
    if (s.kind === 'for' && s.loopVar.name === from) {
      const v = primVar(to, s.loopVar.dtype);
      return { ...s, loopVar: v, body: substituteStmt(s.body, new Map([[s.loopVar, v]])) };
    }
    return mapStmtChildren(s, { stmt: rename, expr: (e) => e });
  };
  return primFunc(f.params, rename(f.body), f.attrs);
}
