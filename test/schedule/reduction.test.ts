import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { reorder, split } from '../../src/schedule/primitives/loops.ts';
import { decomposeReduction } from '../../src/schedule/primitives/reduction.ts';
import { expectFunc, expectSameResults, kernel } from '../helpers/prim-funcs.ts';
import { MATMUL } from './kernels.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const loops = (f: PrimFunc, block: string): PrimVar[] => getLoops(f, block, ctx('get_loops'));
const fails = (fn: () => unknown, primitive: string, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': ${primitive}: ${problem}`));
};

const sumKernel = (k: number): string => `
prim_func k(data: f32[n, ${k}], T_sum: f32[n]) {
  for i, k1 in grid(n, ${k}) {
    block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
      init { T_sum[vi] = 0.0 }
      T_sum[vi] = T_sum[vi] + data[vi, vk1]
    }
  }
}`;

describe('decompose_reduction', () => {
  it('puts the init before the reduce loop of a matmul', () => {
    const f = kernel(MATMUL);
    const [, , k] = loops(f, 'mm');
    const r = decomposeReduction(f, 'mm', k!, ctx('decompose_reduction'));
    expect(r.initBlock).toBe('mm_init');
    expectFunc(
      r.func,
      `prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for i, j in grid(n, 8) {
          block mm_init(vi_init = spatial(i), vj_init = spatial(j)) {
            Y[vi_init, vj_init] = 0.0
          }
          for k in range(16) {
            block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
              Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
            }
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 5 }, 1e-5);
  });

  it('gives the init loops of its own for the spatial loops at or below the loop', () => {
    const f = kernel(MATMUL);
    const [i] = loops(f, 'mm');
    const r = decomposeReduction(f, 'mm', i!, ctx('decompose_reduction'));
    expectFunc(
      r.func,
      `prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for i_init, j_init in grid(n, 8) {
          block mm_init(vi_init = spatial(n, i_init), vj_init = spatial(8, j_init)) {
            Y[vi_init, vj_init] = 0.0
          }
        }
        for i, j, k in grid(n, 8, 16) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 3 }, 1e-5);
  });

  it('keeps the bounds of a split spatial loop on the init', () => {
    const f = kernel(MATMUL);
    const [i] = loops(f, 'mm');
    const s = split(f, i!, [null, 4], ctx('split'));
    const r = decomposeReduction(s.func, 'mm', s.loops[1]!, ctx('decompose_reduction'));
    expectFunc(
      r.func,
      `prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for i_0 in range((n + 3) // 4) {
          for i_1_init, j_init in grid(4, 8) {
            block mm_init(vi_init = spatial(n, i_0 * 4 + i_1_init), vj_init = spatial(8, j_init)) {
              where i_0 * 4 + i_1_init < n
              Y[vi_init, vj_init] = 0.0
            }
          }
          for i_1, j, k in grid(4, 8, 16) {
            block mm(vi = spatial(n, i_0 * 4 + i_1), vj = spatial(j), vk = reduce(k)) {
              where i_0 * 4 + i_1 < n
              Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
            }
          }
        }
      }`,
    );
    for (const n of [4, 7]) expectSameResults(f, r.func, { n }, 1e-5);
  });

  it('drops the bounds of a split reduce loop from the init', () => {
    const f = kernel(sumKernel(30));
    const [, k1] = loops(f, 'T_sum');
    const s = split(f, k1!, [null, 8], ctx('split'));
    const r = decomposeReduction(s.func, 'T_sum', s.loops[0]!, ctx('decompose_reduction'));
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 30], T_sum: f32[n]) {
        for i in range(n) {
          block T_sum_init(vi_init = spatial(n, i)) {
            T_sum[vi_init] = 0.0
          }
          for k1_0, k1_1 in grid(4, 8) {
            block T_sum(vi = spatial(n, i), vk1 = reduce(30, k1_0 * 8 + k1_1)) {
              where k1_0 * 8 + k1_1 < 30
              T_sum[vi] = T_sum[vi] + data[vi, vk1]
            }
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 6 }, 1e-5);
  });

  describe('preconditions', () => {
    const f = kernel(MATMUL);
    const [i, j, k] = loops(f, 'mm');
    const decompose = (g: PrimFunc, block: string, loop: PrimVar) =>
      decomposeReduction(g, block, loop, ctx('decompose_reduction'));

    it('a block with init', () => {
      const d = decompose(f, 'mm', k!).func;
      fails(() => decompose(d, 'mm', k!), 'decompose_reduction', "block 'mm' has no init to decompose");
    });
    it('a loop around the block', () => {
      const d = kernel(`
        prim_func k(A: f32[4], S: f32[1], T: f32[1]) {
          for a in range(4) {
            block S(va = reduce(a)) {
              init { S[0] = 0.0 }
              S[0] = S[0] + A[va]
            }
          }
          for b in range(4) {
            block T(vb = reduce(b)) {
              init { T[0] = 0.0 }
              T[0] = T[0] + A[vb]
            }
          }
        }`);
      fails(() => decompose(d, 'S', loops(d, 'T')[0]!), 'decompose_reduction', "loop 'b' is not around block 'S'");
    });
    it('no reduce loop above the loop', () => {
      const g = reorder(f, [k!, i!], ctx('reorder'));
      fails(
        () => decompose(g, 'mm', j!),
        'decompose_reduction',
        "loop 'k' above loop 'j' drives a reduce iterator of block 'mm': the init would run again on each of its iterations",
      );
    });
    it('a free name for the init block', () => {
      const g = kernel(`
        prim_func k(A: f32[4], S: f32[1]) {
          block S_init() {
            S[0] = 1.0
          }
          for a in range(4) {
            block S(va = reduce(a)) {
              init { S[0] = 0.0 }
              S[0] = S[0] + A[va]
            }
          }
        }`);
      fails(() => decompose(g, 'S', loops(g, 'S')[0]!), 'decompose_reduction', "a block named 'S_init' exists already");
    });
    it('nothing but loops between the loop and the block', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i in range(4) {
            if i < 2 {
              for r in range(4) {
                block S(vi = spatial(4, i), vr = reduce(4, r)) {
                  init { S[vi] = 0.0 }
                  S[vi] = S[vi] + A[vi, vr]
                }
              }
            }
          }
        }`);
      fails(() => decompose(g, 'S', loops(g, 'S')[0]!), 'decompose_reduction', "an if is between loop 'i' and block 'S'");
    });
    it('an init over spatial iterators only', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i, r in grid(4, 4) {
            block S(vi = spatial(i), vr = reduce(r)) {
              init { S[vi] = A[vi, vr] }
              S[vi] = S[vi] + A[vi, vr]
            }
          }
        }`);
      fails(() => decompose(g, 'S', loops(g, 'S')[1]!), 'decompose_reduction', "the init of block 'S' uses reduce iterator 'vr'");
    });
    it('a predicate whose conditions separate spatial from reduce loops', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i, r in grid(4, 4) {
            block S(vi = spatial(i), vr = reduce(r)) {
              where i + r < 6
              init { S[vi] = 0.0 }
              S[vi] = S[vi] + A[vi, vr]
            }
          }
        }`);
      fails(
        () => decompose(g, 'S', loops(g, 'S')[0]!),
        'decompose_reduction',
        "the predicate of block 'S' mixes spatial and reduce loops",
      );
    });
    it('spatial loop ranges that do not depend on the reduce loops', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for r in range(4) {
            for i in range(1, r + 1) {
              block S(vi = spatial(4, i), vr = reduce(4, r)) {
                init { S[vi] = 0.0 }
                S[vi] = S[vi] + A[vi, vr]
              }
            }
          }
        }`);
      fails(
        () => decompose(g, 'S', loops(g, 'S')[0]!),
        'decompose_reduction',
        "the range of loop 'i' depends on reduce loop 'r'",
      );
    });
  });
});
