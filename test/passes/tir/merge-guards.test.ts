/**
 * merge-guards (src/passes/tir/merge-guards.ts): adjacent ifs with one
 * condition become one. Before/Expected in the text format, and the TIR
 * interpreter running both on random inputs.
 */
import { describe, expect, test } from 'vitest';
import { mergeGuards } from '../../../src/passes/tir/merge-guards.ts';
import { expectFunc, expectSameResults, kernel } from '../../helpers/prim-funcs.ts';

describe('merge-guards', () => {
  test("an unrolled tile's rows under one padding check share one if", () => {
    const before = kernel(`
prim_func k(X: f32[10], W: f32[2], Y: f32[2, 8]) {
  for x in range(8) {
    if 1 <= x + 1 && x + 1 < 9 {
      Y[0, x] = Y[0, x] + X[x + 1] * W[0]
    }
    if 1 <= x + 1 && x + 1 < 9 {
      Y[1, x] = Y[1, x] + X[x + 1] * W[1]
    }
    if x < 4 {
      Y[0, x] = 0.0
    }
  }
}`);
    const after = mergeGuards(before);
    expectFunc(
      after,
      `
prim_func k(X: f32[10], W: f32[2], Y: f32[2, 8]) {
  for x in range(8) {
    if 1 <= x + 1 && x + 1 < 9 {
      Y[0, x] = Y[0, x] + X[x + 1] * W[0]
      Y[1, x] = Y[1, x] + X[x + 1] * W[1]
    }
    if x < 4 {
      Y[0, x] = 0.0
    }
  }
}`,
    );
    expectSameResults(before, after);
  });

  test("the rows of a tile's tail, each with its padding check, become one tail check around one padding check", () => {
    const before = kernel(`
prim_func k(X: f32[10], W: f32[2], Y: f32[2, 8]) {
  for x in range(8) {
    if x < 7 {
      if 1 <= x && x < 8 {
        Y[0, x] = Y[0, x] + X[x + 1] * W[0]
      }
    }
    if x < 7 {
      if 1 <= x && x < 8 {
        Y[1, x] = Y[1, x] + X[x + 1] * W[1]
      }
    }
  }
}`);
    const after = mergeGuards(before);
    expectFunc(
      after,
      `
prim_func k(X: f32[10], W: f32[2], Y: f32[2, 8]) {
  for x in range(8) {
    if x < 7 {
      if 1 <= x && x < 8 {
        Y[0, x] = Y[0, x] + X[x + 1] * W[0]
        Y[1, x] = Y[1, x] + X[x + 1] * W[1]
      }
    }
  }
}`,
    );
    expectSameResults(before, after);
  });

  test('conditions alike but over different variables stay apart (a 3x3 window: the row check, then the column check)', () => {
    const before = kernel(`
prim_func k(X: f32[4, 4], Y: f32[4, 4]) {
  for r, c in grid(4, 4) {
    if 1 <= r {
      Y[r, c] = Y[r, c] + X[r - 1, c]
    }
    if 1 <= c {
      Y[r, c] = Y[r, c] + X[r, c - 1]
    }
  }
}`);
    const after = mergeGuards(before);
    expect(after).toBe(before);
    expectSameResults(before, after);
  });

  test('a condition that reads memory, or an if with an else, stays apart', () => {
    const before = kernel(`
prim_func k(F: f32[1], Y: f32[2]) {
  if F[0] > 0.0 {
    F[0] = 0.0 - 1.0
  }
  if F[0] > 0.0 {
    Y[0] = 1.0
  }
  if F[0] < 2.0 {
    Y[1] = 2.0
  } else {
    Y[1] = 3.0
  }
  if F[0] < 2.0 {
    Y[0] = 4.0
  }
}`);
    expect(mergeGuards(before)).toBe(before);
  });
});
