import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { rfactor } from '../../src/schedule/primitives/rfactor.ts';
import { expectFunc, expectSameResults, kernel } from '../helpers/prim-funcs.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const loops = (f: PrimFunc, block: string): PrimVar[] => getLoops(f, block, ctx('get_loops'));
const rf = (f: PrimFunc, loop: PrimVar, axis: number) => rfactor(f, loop, axis, ctx('rfactor'));
const fails = (fn: () => unknown, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': rfactor: ${problem}`));
};
/** Partial sums add up in another order: equal up to float32 rounding. */
const TOL = 1e-5;

/** A row sum with its reduce loop split by 4. */
const SUM = `
prim_func k(data: f32[n, 32], T_sum: f32[n]) {
  for i, k_0, k_1 in grid(n, 8, 4) {
    block T_sum(vi = spatial(i), vk = reduce(32, k_0 * 4 + k_1)) {
      init { T_sum[vi] = 0.0 }
      T_sum[vi] = T_sum[vi] + data[vi, vk]
    }
  }
}`;

describe('rfactor', () => {
  it('factors a sum over the inner loop of its split reduction', () => {
    const f = kernel(SUM);
    const [, , k1] = loops(f, 'T_sum');
    const r = rf(f, k1!, 0);
    expect(r.block).toBe('T_sum_rf');
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        alloc T_sum_rf: f32[4, n]
        for i, k_0, k_1 in grid(n, 8, 4) {
          block T_sum_rf(vk_1 = spatial(k_1), vi = spatial(i), vk_0 = reduce(k_0)) {
            init { T_sum_rf[vk_1, vi] = 0.0 }
            T_sum_rf[vk_1, vi] = T_sum_rf[vk_1, vi] + data[vi, vk_0 * 4 + vk_1]
          }
        }
        for i_1, k_1_1 in grid(n, 4) {
          block T_sum(vk_1_1 = reduce(k_1_1), vi_1 = spatial(i_1)) {
            init { T_sum[vi_1] = 0.0 }
            T_sum[vi_1] = T_sum[vi_1] + T_sum_rf[vk_1_1, vi_1]
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 3 }, TOL);
  });

  it('puts the factored axis last with factor_axis -1, over the outer loop', () => {
    const f = kernel(SUM);
    const [, k0] = loops(f, 'T_sum');
    const r = rf(f, k0!, -1);
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        alloc T_sum_rf: f32[n, 8]
        for i, k_0, k_1 in grid(n, 8, 4) {
          block T_sum_rf(vk_0 = spatial(k_0), vi = spatial(i), vk_1 = reduce(k_1)) {
            init { T_sum_rf[vi, vk_0] = 0.0 }
            T_sum_rf[vi, vk_0] = T_sum_rf[vi, vk_0] + data[vi, vk_0 * 4 + vk_1]
          }
        }
        for i_1, k_0_1 in grid(n, 8) {
          block T_sum(vk_0_1 = reduce(k_0_1), vi_1 = spatial(i_1)) {
            init { T_sum[vi_1] = 0.0 }
            T_sum[vi_1] = T_sum[vi_1] + T_sum_rf[vi_1, vk_0_1]
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 2 }, TOL);
  });

  it('keeps a reduce bounds predicate on the partial sums and a spatial one on both', () => {
    const text = `
      prim_func k(data: f32[n, 30], T_max: f32[n]) {
        for i_0, i_1, k_0, k_1 in grid((n + 1) // 2, 2, 4, 8) {
          block T_max(vi = spatial(n, i_0 * 2 + i_1), vk = reduce(30, k_0 * 8 + k_1)) {
            where i_0 * 2 + i_1 < n && k_0 * 8 + k_1 < 30
            init { T_max[vi] = -inf }
            T_max[vi] = max(T_max[vi], data[vi, vk])
          }
        }
      }`;
    const f = kernel(text);
    const [, , , k1] = loops(f, 'T_max');
    const r = rf(f, k1!, 1);
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 30], T_max: f32[n]) {
        alloc T_max_rf: f32[n, 8]
        for i_0, i_1, k_0, k_1 in grid((n + 1) // 2, 2, 4, 8) {
          block T_max_rf(vk_1 = spatial(k_1), vi = spatial(n, i_0 * 2 + i_1), vk_0 = reduce(k_0)) {
            where i_0 * 2 + i_1 < n && k_0 * 8 + k_1 < 30
            init { T_max_rf[vi, vk_1] = -inf }
            T_max_rf[vi, vk_1] = max(T_max_rf[vi, vk_1], data[vi, vk_0 * 8 + vk_1])
          }
        }
        for i_0_1, i_1_1, k_1_1 in grid((n + 1) // 2, 2, 8) {
          block T_max(vk_1_1 = reduce(k_1_1), vi_1 = spatial(n, i_0_1 * 2 + i_1_1)) {
            where i_0_1 * 2 + i_1_1 < n
            init { T_max[vi_1] = -inf }
            T_max[vi_1] = max(T_max[vi_1], T_max_rf[vi_1, vk_1_1])
          }
        }
      }`,
    );
    // max is exact whatever the order.
    expectSameResults(f, r.func, { n: 5 });
  });

  it('factors an unsplit reduction (one partial result per reduced element)', () => {
    const text = `
      prim_func k(A: i32[4, 6], P: i32[4]) {
        for i, k in grid(4, 6) {
          block P(vi = spatial(i), vk = reduce(k)) {
            init { P[vi] = 1 }
            P[vi] = A[vi, vk] * P[vi]
          }
        }
      }`;
    const f = kernel(text);
    const r = rf(f, loops(f, 'P')[1]!, 0);
    expectFunc(
      r.func,
      `prim_func k(A: i32[4, 6], P: i32[4]) {
        alloc P_rf: i32[6, 4]
        for i, k in grid(4, 6) {
          block P_rf(vk = spatial(k), vi = spatial(i)) {
            init { P_rf[vk, vi] = 1 }
            P_rf[vk, vi] = P_rf[vk, vi] * A[vi, vk]
          }
        }
        for i_1, k_1 in grid(4, 6) {
          block P(vk_1 = reduce(k_1), vi_1 = spatial(i_1)) {
            init { P[vi_1] = 1 }
            P[vi_1] = P[vi_1] * P_rf[vk_1, vi_1]
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  describe('refuses', () => {
    it('a loop driving a spatial iterator', () => {
      const f = kernel(SUM);
      fails(
        () => rf(f, loops(f, 'T_sum')[0]!, 0),
        `loop 'i' drives spatial iterator 'vi' of block 'T_sum'; rfactor needs a loop that drives reduce iterators only`,
      );
    });

    it('a factor_axis out of range', () => {
      const f = kernel(SUM);
      fails(
        () => rf(f, loops(f, 'T_sum')[2]!, 2),
        `factor_axis 2 is out of range: 'T_sum' has 1 dimension\\(s\\), so it must be in \\[-2, 1\\]`,
      );
    });

    it('a block that is not a reduction', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 4], B: f32[4, 4]) {
          for i, j in grid(4, 4) {
            block B(vi = spatial(i), vj = spatial(j)) { B[vi, vj] = A[vi, vj] }
          }
        }`);
      fails(() => rf(f, loops(f, 'B')[1]!, 0), `block 'B' is not a reduction \\(it needs an init and a reduce iterator\\)`);
    });

    it('an init that is not the identity', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i, k in grid(4, 4) {
            block S(vi = spatial(i), vk = reduce(k)) {
              init { S[vi] = 1.0 }
              S[vi] = S[vi] + A[vi, vk]
            }
          }
        }`);
      fails(
        () => rf(f, loops(f, 'S')[1]!, 0),
        `the init value 1.0 of block 'S' is not the identity of add \\(0.0\\); partial results would each start from it`,
      );
    });

    it('an update it does not recognize', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i, k in grid(4, 4) {
            block S(vi = spatial(i), vk = reduce(k)) {
              init { S[vi] = 0.0 }
              S[vi] = S[vi] - A[vi, vk]
            }
          }
        }`);
      fails(
        () => rf(f, loops(f, 'S')[1]!, 0),
        `block 'S' updates 'S' with S\\[vi\\] - A\\[vi, vk\\]; rfactor recognizes S\\[...\\] combined with a value by \\+, \\*, max or min`,
      );
    });

    it('a loop bound to a thread', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 32], S: f32[4]) {
          for i in range(4) {
            for k in thread_binding(32, "threadIdx.x") {
              block S(vi = spatial(i), vk = reduce(k)) {
                init { S[vi] = 0.0 }
                S[vi] = S[vi] + A[vi, vk]
              }
            }
          }
        }`);
      fails(() => rf(f, loops(f, 'S')[1]!, 0), `loop 'k' is bound to threadIdx.x; rfactor needs a serial loop`);
    });

    it('a loop driving both kinds of iterators', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 8], S: f32[4]) {
          for f in range(32) {
            block S(vi = spatial(4, f // 8), vk = reduce(8, f % 8)) {
              init { S[vi] = 0.0 }
              S[vi] = S[vi] + A[vi, vk]
            }
          }
        }`);
      fails(
        () => rf(f, loops(f, 'S')[0]!, 0),
        `loop 'f' drives both spatial iterator 'vi' and reduce iterator 'vk' of block 'S'`,
      );
    });

    it('a predicate that may skip the first step of a partial reduction', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 16], S: f32[4]) {
          for i, k_0, k_1 in grid(4, 4, 4) {
            block S(vi = spatial(i), vk = reduce(16, k_0 * 4 + k_1)) {
              where k_0 * 4 + k_1 >= 2
              init { S[vi] = 0.0 }
              S[vi] = S[vi] + A[vi, vk]
            }
          }
        }`);
      fails(
        () => rf(f, loops(f, 'S')[2]!, 0),
        `the predicate k_0 \\* 4 \\+ k_1 >= 2 of block 'S' may exclude the first step of a partial reduction, which would leave it uninitialized`,
      );
    });

    it('a later block of the nest writing what the reduction reads', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4]) {
          for i in range(4) {
            for k in range(4) {
              block S(vi = spatial(i), vk = reduce(k)) {
                init { S[vi] = 0.0 }
                S[vi] = S[vi] + A[vi, vk]
              }
            }
            for j in range(4) {
              block W(wi = spatial(i), wj = spatial(j)) { A[3 - wi, wj] = 0.0 }
            }
          }
        }`);
      fails(
        () => rf(f, loops(f, 'S')[1]!, 0),
        `block 'W' writes 'A', which block 'S' reads, in loop 'i'; the partial results, computed before the loop, would read the old values`,
      );
    });

    it('two blocks under the loop', () => {
      const f = kernel(`
        prim_func k(A: f32[4, 4], S: f32[4], T: f32[4, 4]) {
          for i, k in grid(4, 4) {
            block S(vi = spatial(i), vk = reduce(k)) {
              init { S[vi] = 0.0 }
              S[vi] = S[vi] + A[vi, vk]
            }
            block T(ti = spatial(i), tk = spatial(k)) { T[ti, tk] = A[ti, tk] }
          }
        }`);
      fails(() => rf(f, loops(f, 'S')[1]!, 0), `loop 'k' has 2 blocks under it; rfactor needs exactly one reduction block`);
    });
  });
});
