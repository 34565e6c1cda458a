/**
 * The TIR lowering passes every emitter shares (src/passes/tir): Before/Expected
 * in the text format, and the TIR interpreter running before and after on
 * random inputs.
 */
import { describe, expect, test } from 'vitest';
import { lowerBlocks, flattenBuffers, lowerPrimFunc, lowerThreadBindings, unrollLoops } from '../../../src/passes/tir/lower.ts';
import { primFunc } from '../../../src/ir/tir/stmt.ts';
import { parseModule } from '../../../src/ir/text/parser.ts';
import { expectFunc, expectSameResults, kernel, printFunc } from '../../helpers/prim-funcs.ts';
import { MATMUL } from '../../schedule/kernels.ts';

describe('lower-blocks', () => {
  test('iterators become the values bound to them; init runs on the first reduce iteration; a predicate becomes an if', () => {
    const before = kernel(`
prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
  for io, j, k in grid((n + 3) // 4, 8, 16) {
    for ii in range(4) {
      block mm(vi = spatial(n, io * 4 + ii), vj = spatial(j), vk = reduce(k)) {
        where io * 4 + ii < n
        init { Y[vi, vj] = 0.0 }
        Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
      }
    }
  }
}`);
    const after = lowerBlocks(before);
    expectFunc(
      after,
      `
prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
  for io, j, k in grid((n + 3) // 4, 8, 16) {
    for ii in range(4) {
      if io * 4 + ii < n {
        if k == 0 {
          Y[io * 4 + ii, j] = 0.0
        }
        Y[io * 4 + ii, j] = Y[io * 4 + ii, j] + X[io * 4 + ii, k] * W[k, j]
      }
    }
  }
}`,
    );
    expectSameResults(before, after, { n: 7 });
  });

  test('a block without reduce iterators runs its init unconditionally; nested blocks see their parents values', () => {
    const before = kernel(`
prim_func k(A: f32[4, 4], B: f32[4]) {
  for i in range(4) {
    block outer(vi = spatial(i)) {
      init { B[vi] = 1.0 }
      for j in range(4) {
        block inner(wi = spatial(4, vi), wj = reduce(j)) {
          B[wi] = B[wi] + A[wi, wj]
        }
      }
    }
  }
}`);
    const after = lowerBlocks(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[4, 4], B: f32[4]) {
  for i in range(4) {
    B[i] = 1.0
    for j in range(4) {
      B[i] = B[i] + A[i, j]
    }
  }
}`,
    );
    expectSameResults(before, after);
  });
});

describe('flatten-buffers', () => {
  test('row-major offsets over symbolic shapes, explicit strides, scalars; the function is marked lowered', () => {
    const before = kernel(`
prim_func k(A: f32[n, m, 4], S: f32[8, 2] strides(1, 8), C: f32[], B: f32[n, m]) {
  for i, j in grid(n, m) {
    alloc T: f32[2, 4] local
    T[1, 3] = A[i, j, 3] + S[i % 8, j % 2]
    B[i, j] = T[1, 3] + C[]
  }
}`);
    const after = flattenBuffers(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[n, m, 4], S: f32[8, 2] strides(1, 8), C: f32[], B: f32[n, m]) attrs(lowered=true) {
  for i, j in grid(n, m) {
    alloc T: f32[2, 4] local
    T[1 * 4 + 3] = A[i * (4 * m) + j * 4 + 3] + S[i % 8 + j % 2 * 8]
    B[i * m + j] = T[1 * 4 + 3] + C[0]
  }
}`,
    );
    expectSameResults(before, after, { n: 3, m: 5 });
  });

  test('an index of another integer type is cast to the index type', () => {
    const before = kernel(`
prim_func k(I: i32[4], A: f32[8, 8], B: f32[4]) {
  for i in range(4) {
    B[i] = A[I[i], i]
  }
}`);
    expectFunc(
      flattenBuffers(before),
      `
prim_func k(I: i32[4], A: f32[8, 8], B: f32[4]) attrs(lowered=true) {
  for i in range(4) {
    B[i] = A[i64(I[i]) * 8 + i]
  }
}`,
    );
  });

  test('flat indices parse back only in lowered functions', () => {
    expect(() =>
      parseModule(
        `
prim_func k(A: f32[4, 4]) {
  A[5] = 1.0
}`,
        { file: 'flat.kir' },
      ),
    ).toThrow(/flat.kir:3:3.*store to A.*expected 2 indices, found 1/s);
  });
});

describe('unroll-loops', () => {
  test('constant unrolled loops are written out with fresh variables; symbolic and oversized ones stay loops', () => {
    const before = kernel(`
prim_func k(A: f32[n], B: f32[2, 3], C: f32[100]) {
  for i in unrolled(2) {
    for j in unrolled(3) {
      let t = f32(i * 3 + j)
      B[i, j] = t * 2.0
    }
  }
  for p in unrolled(n) {
    A[p] = 1.0
  }
  for q in unrolled(100) {
    C[q] = 2.0
  }
}`);
    const after = unrollLoops(before, 8);
    expectFunc(
      after,
      `
prim_func k(A: f32[n], B: f32[2, 3], C: f32[100]) {
  let t = f32(0 * 3 + 0) {
    B[0, 0] = t * 2.0
  }
  let t1 = f32(0 * 3 + 1) {
    B[0, 1] = t1 * 2.0
  }
  let t2 = f32(0 * 3 + 2) {
    B[0, 2] = t2 * 2.0
  }
  let t3 = f32(1 * 3 + 0) {
    B[1, 0] = t3 * 2.0
  }
  let t4 = f32(1 * 3 + 1) {
    B[1, 1] = t4 * 2.0
  }
  let t5 = f32(1 * 3 + 2) {
    B[1, 2] = t5 * 2.0
  }
  for p in unrolled(n) {
    A[p] = 1.0
  }
  for q in unrolled(100) {
    C[q] = 2.0
  }
}`,
    );
    expectSameResults(before, after, { n: 5 });
  });

  test("a loop's own max_copies budget (the schedule's unroll) overrides the default, for it and what it holds", () => {
    const before = kernel(`
prim_func k(B: f32[4, 4], C: f32[4, 4]) {
  for i in unrolled(4) attrs(max_copies=16) {
    for j in unrolled(4) attrs(max_copies=16) {
      B[i, j] = 1.0
    }
  }
  for p in unrolled(4) {
    for q in unrolled(4) {
      C[p, q] = 2.0
    }
  }
}`);
    const text = printFunc(unrollLoops(before, 8));
    // B's 16 copies are written out; C's nest keeps its outer loop (16 copies pass the default of 8).
    expect(text.match(/B\[\d, \d\] = 1\.0/g)).toHaveLength(16);
    expect(text).toMatch(/for p in unrolled\(4\) \{\s+C\[p, 0\] = 2\.0/);
    expectSameResults(before, unrollLoops(before, 8));
  });

  test('innermost loops first: past the copy budget the outer loop stays a loop around the written-out inner one', () => {
    const before = kernel(`
prim_func k(B: f32[4, 4]) {
  for i in unrolled(4) {
    for j in unrolled(4) {
      B[i, j] = 1.0
    }
  }
}`);
    expectFunc(
      unrollLoops(before, 8),
      `
prim_func k(B: f32[4, 4]) {
  for i in unrolled(4) {
    B[i, 0] = 1.0
    B[i, 1] = 1.0
    B[i, 2] = 1.0
    B[i, 3] = 1.0
  }
}`,
    );
  });
});

describe('lower-thread-bindings', () => {
  test('thread loops become the invocation ids, guarded where the launch runs more of them', () => {
    const f = kernel(`
prim_func k(A: f32[n]) {
  for bx in thread_binding((n + 63) // 64, "blockIdx.x") {
    for tx in thread_binding(64, "threadIdx.x") {
      if bx * 64 + tx < n {
        A[bx * 64 + tx] = 1.0
      }
    }
    for ty in thread_binding(2, 32, "threadIdx.x") {
      A[ty] = 2.0
    }
  }
}`);
    const body = lowerThreadBindings(f.body, (loop) => loop.loopVar.name === 'ty');
    expectFunc(
      primFunc(f.params, body, f.attrs),
      `
prim_func k(A: f32[n]) {
  let bx = i64(block_idx_x())
  let tx = i64(thread_idx_x()) {
    if bx * 64 + tx < n {
      A[bx * 64 + tx] = 1.0
    }
  }
  if thread_idx_x() < 30i32 {
    let ty = i64(thread_idx_x()) + 2
    A[ty] = 2.0
  }
}`,
    );
  });
});

describe('the whole lowering', () => {
  test('a matmul lowers to loops over flat offsets, simplified, with the same numbers', () => {
    const before = kernel(MATMUL);
    const after = lowerPrimFunc(before);
    expectFunc(
      after,
      `
prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) attrs(lowered=true) {
  for i, j, k in grid(n, 8, 16) {
    if k == 0 {
      Y[i * 8 + j] = 0.0
    }
    Y[i * 8 + j] = Y[i * 8 + j] + X[i * 16 + k] * W[j + k * 8]
  }
}`,
    );
    expectSameResults(before, after, { n: 3 });
  });
});
