/**
 * unswitch-guards (src/passes/tir/unswitch-guards.ts): a reduction loop whose
 * body tests a tile's tail lane by lane becomes a test of the whole tile
 * around an unguarded copy and the loop as it was. Before/Expected in the
 * text format, the TIR interpreter running both on random inputs, and the
 * cases it leaves alone (padding bounds, a stride-2 lane load, a guard that
 * changes inside the loop).
 */
import { describe, expect, test } from 'vitest';
import { unswitchGuards } from '../../../src/passes/tir/unswitch-guards.ts';
import { expectFunc, expectSameResults, kernel, printFunc } from '../../helpers/prim-funcs.ts';

const TAIL = `
prim_func k(A: f32[4, 16], B: f32[16, 14], C: f32[4, 14]) {
  for t in range(2) {
    for k in range(16) {
      for j in vectorized(8) {
        if j + t * 8 < 14 {
          C[0, j + t * 8] = C[0, j + t * 8] + A[0, k] * B[k, j + t * 8]
          C[1, j + t * 8] = C[1, j + t * 8] + A[1, k] * B[k, j + t * 8]
        }
      }
    }
  }
}`;

describe('unswitch-guards', () => {
  test("a full tile runs its reduction without the tail's lane test; the tail keeps it", () => {
    const before = kernel(TAIL);
    const after = unswitchGuards(before);
    expectFunc(
      after,
      `
prim_func k(A: f32[4, 16], B: f32[16, 14], C: f32[4, 14]) {
  for t in range(2) {
    if t < 2 && t < 1 {
      for k2 in range(16) {
        for j2 in vectorized(8) {
          C[0, j2 + t * 8] = C[0, j2 + t * 8] + A[0, k2] * B[k2, j2 + t * 8]
          C[1, j2 + t * 8] = C[1, j2 + t * 8] + A[1, k2] * B[k2, j2 + t * 8]
        }
      }
    } else {
      for k in range(16) {
        for j in vectorized(8) {
          if j + t * 8 < 14 {
            C[0, j + t * 8] = C[0, j + t * 8] + A[0, k] * B[k, j + t * 8]
            C[1, j + t * 8] = C[1, j + t * 8] + A[1, k] * B[k, j + t * 8]
          }
        }
      }
    }
  }
}`,
    );
    expectSameResults(before, after);
  });

  test('leaves padding bounds, a stride-2 lane load and a guard that moves with the loop alone', () => {
    const padding = kernel(`
prim_func k(X: f32[18], W: f32[3], Y: f32[16]) {
  for t in range(2) {
    for r in range(3) {
      for j in vectorized(8) {
        if 0 <= j + t * 8 + r - 1 && j + t * 8 + r - 1 < 16 {
          Y[j + t * 8] = Y[j + t * 8] + X[j + t * 8 + r] * W[r]
        }
      }
    }
  }
}`);
    expect(unswitchGuards(padding)).toBe(padding);
    const strided = kernel(`
prim_func k(X: f32[4, 28], Y: f32[14]) {
  for t in range(2) {
    for k in range(4) {
      for j in vectorized(8) {
        if j + t * 8 < 14 {
          Y[j + t * 8] = Y[j + t * 8] + X[k, (j + t * 8) * 2]
        }
      }
    }
  }
}`);
    expect(unswitchGuards(strided)).toBe(strided);
    const moving = kernel(`
prim_func k(X: f32[16, 8], Y: f32[8]) {
  for k in range(16) {
    for j in vectorized(8) {
      if j + k < 20 {
        Y[j] = Y[j] + X[k, j]
      }
    }
  }
}`);
    expect(unswitchGuards(moving)).toBe(moving);
  });

  test("a tile vectorized across its rows (a register tile read at stride 4) unswitches a row's tail guard", () => {
    // acc is local: its lanes four apart are one register, not a strided read of memory.
    const before = kernel(`
prim_func k(X: f32[16, 7], W: f32[16, 8], Y: f32[8, 7]) {
  for t in range(2) {
    alloc acc: f32[32] local
    for i in range(32) {
      acc[i] = 0.0
    }
    for k in range(16) {
      for j in vectorized(8) {
        acc[j * 4] = acc[j * 4] + X[k, t * 4] * W[k, j]
      }
      for j in vectorized(8) {
        if t * 4 + 3 < 7 {
          acc[j * 4 + 3] = acc[j * 4 + 3] + X[k, t * 4 + 3] * W[k, j]
        }
      }
    }
    for j in range(8) {
      Y[j, t * 4] = acc[j * 4]
      if t * 4 + 3 < 7 {
        Y[j, t * 4 + 3] = acc[j * 4 + 3]
      }
    }
  }
}`);
    const after = unswitchGuards(before);
    expect(after).not.toBe(before);
    // The condition simplified: t * 4 + 3 < 7 is t < 1.
    expect(printFunc(after)).toMatch(/if t < 1 \{\n\s+for k in range\(16\)/);
    expectSameResults(before, after);
  });

  test('merged guards (a row bound and a lane tail) are unswitched conjunct by conjunct', () => {
    const before = kernel(`
prim_func k(A: f32[6, 16], B: f32[16, 14], C: f32[6, 14]) {
  for i in range(8) {
    for t in range(2) {
      for k in range(16) {
        for j in vectorized(8) {
          if i < 6 && j + t * 8 < 14 {
            C[i, j + t * 8] = C[i, j + t * 8] + A[i, k] * B[k, j + t * 8]
          }
        }
      }
    }
  }
}`);
    const after = unswitchGuards(before);
    expect(printFunc(after)).toMatch(
      /if i < 6 && \(t < 2 && t < 1\) \{\n\s+for \w+ in range\(16\) \{\n\s+for \w+ in vectorized\(8\) \{\n\s+C\[/,
    );
    expectSameResults(before, after);
  });

  test('leaves a lower bound merged with a tail, and a loop with a GPU barrier, alone', () => {
    const lower = kernel(`
prim_func k(X: f32[16, 18], Y: f32[16]) {
  for t in range(2) {
    for k in range(16) {
      for j in vectorized(8) {
        if 1 <= j + t * 8 && j + t * 8 < 15 {
          Y[j + t * 8] = Y[j + t * 8] + X[k, j + t * 8]
        }
      }
    }
  }
}`);
    expect(unswitchGuards(lower)).toBe(lower);
    const barrier = kernel(`
prim_func k(A: f32[16, 64], C: f32[64]) {
  for tx in thread_binding(8, "threadIdx.x") {
    alloc tile: f32[64] shared
    for k in range(16) {
      for j in vectorized(8) {
        tile[tx * 8 + j] = A[k, tx * 8 + j]
      }
      eval workgroup_barrier()
      for j in vectorized(8) {
        if tx * 8 + j < 60 {
          C[tx * 8 + j] = C[tx * 8 + j] + tile[tx * 8 + j]
        }
      }
      eval workgroup_barrier()
    }
  }
}`);
    expect(unswitchGuards(barrier)).toBe(barrier);
  });
});
