import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { bind, unroll } from '../../src/schedule/primitives/annotate.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { fuse, reorder, split } from '../../src/schedule/primitives/loops.ts';
import { crossThreadReduction, decomposeReduction } from '../../src/schedule/primitives/reduction.ts';
import { expectFunc, expectSameResults, kernel } from '../helpers/prim-funcs.ts';
import { lockstep } from './lockstep.ts';

// cross_thread_reduction cannot run in the interpreter as it is (threads run one after another
// there, and barriers order them); lockstep() runs its phases the way a GPU does.

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

/** The schedule of the default reduction rule: spatial loops fused to blockIdx.x, the reduce loop split by T with T outermost on threadIdx.x. */
function ruleSchedule(f: PrimFunc, block: string, spatial: number, threads: number): PrimFunc {
  const all = loops(f, block);
  let g = f;
  if (spatial > 0) {
    const s = spatial > 1 ? fuse(g, all.slice(0, spatial), ctx('fuse')) : { func: g, loop: all[0]! };
    g = bind(s.func, s.loop, 'blockIdx.x', ctx('bind'));
  }
  const r = split(g, all[spatial]!, [null, threads], ctx('split'));
  g = reorder(r.func, [r.loops[1]!, r.loops[0]!], ctx('reorder'));
  return bind(g, r.loops[1]!, 'threadIdx.x', ctx('bind'));
}

describe('cross_thread_reduction', () => {
  it('reduces a row with 64 threads through workgroup memory', () => {
    const f = kernel(sumKernel(256));
    const g = crossThreadReduction(ruleSchedule(f, 'T_sum', 1, 64), 'T_sum', ctx('cross_thread_reduction'));
    expectFunc(
      g,
      `prim_func k(data: f32[n, 256], T_sum: f32[n]) {
        for i in thread_binding(n, "blockIdx.x") {
          for k1_1 in thread_binding(64, "threadIdx.x") {
            alloc T_sum_shared: f32[64] shared
            alloc T_sum_local: f32[1] local
            T_sum_local[0] = 0.0
            for k1_0 in range(4) {
              block T_sum(vi = spatial(n, i), vk1 = reduce(256, k1_0 * 64 + k1_1)) {
                T_sum_local[0] = T_sum_local[0] + data[vi, vk1]
              }
            }
            T_sum_shared[k1_1] = T_sum_local[0]
            eval workgroup_barrier()
            if k1_1 < 32 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 32]
            }
            eval workgroup_barrier()
            if k1_1 < 16 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 16]
            }
            eval workgroup_barrier()
            if k1_1 < 8 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 8]
            }
            eval workgroup_barrier()
            if k1_1 < 4 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 4]
            }
            eval workgroup_barrier()
            if k1_1 < 2 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 2]
            }
            eval workgroup_barrier()
            if k1_1 < 1 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 1]
            }
            if k1_1 == 0 {
              T_sum[i] = T_sum_shared[0]
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(g), { n: 3 }, 1e-5);
  });

  it('folds a thread count that is not a power of two onto the largest power of two below it', () => {
    const f = kernel(sumKernel(100));
    const g = crossThreadReduction(ruleSchedule(f, 'T_sum', 1, 6), 'T_sum', ctx('cross_thread_reduction'));
    expectFunc(
      g,
      `prim_func k(data: f32[n, 100], T_sum: f32[n]) {
        for i in thread_binding(n, "blockIdx.x") {
          for k1_1 in thread_binding(6, "threadIdx.x") {
            alloc T_sum_shared: f32[6] shared
            alloc T_sum_local: f32[1] local
            T_sum_local[0] = 0.0
            for k1_0 in range(17) {
              block T_sum(vi = spatial(n, i), vk1 = reduce(100, k1_0 * 6 + k1_1)) {
                where k1_0 * 6 + k1_1 < 100
                T_sum_local[0] = T_sum_local[0] + data[vi, vk1]
              }
            }
            T_sum_shared[k1_1] = T_sum_local[0]
            eval workgroup_barrier()
            if k1_1 < 2 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 4]
            }
            eval workgroup_barrier()
            if k1_1 < 2 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 2]
            }
            eval workgroup_barrier()
            if k1_1 < 1 {
              T_sum_shared[k1_1] = T_sum_shared[k1_1] + T_sum_shared[k1_1 + 1]
            }
            if k1_1 == 0 {
              T_sum[i] = T_sum_shared[0]
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(g), { n: 4 }, 1e-5);
    for (const t of [1, 2, 3, 5, 7, 12, 33, 100, 128]) {
      const h = crossThreadReduction(ruleSchedule(f, 'T_sum', 1, t), 'T_sum', ctx('cross_thread_reduction'));
      expectSameResults(f, lockstep(h), { n: 2 }, 1e-5);
    }
  });

  it('keeps a max reduction and its -inf init (softmax row max)', () => {
    const f = kernel(`
      prim_func k(data: f32[n, 32], M: f32[n, 1]) {
        for i, j, k in grid(n, 1, 32) {
          block M(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { M[vi, vj] = -inf }
            M[vi, vj] = max(M[vi, vj], data[vi, vk])
          }
        }
      }`);
    const g = crossThreadReduction(ruleSchedule(f, 'M', 2, 4), 'M', ctx('cross_thread_reduction'));
    expectFunc(
      g,
      `prim_func k(data: f32[n, 32], M: f32[n, 1]) {
        for i_j_fused in thread_binding(n, "blockIdx.x") {
          for k_1 in thread_binding(4, "threadIdx.x") {
            alloc M_shared: f32[4] shared
            alloc M_local: f32[1] local
            M_local[0] = -inf
            for k_0 in range(8) {
              block M(vi = spatial(n, i_j_fused), vj = spatial(1, 0), vk = reduce(32, k_0 * 4 + k_1)) {
                M_local[0] = max(M_local[0], data[vi, vk])
              }
            }
            M_shared[k_1] = M_local[0]
            eval workgroup_barrier()
            if k_1 < 2 {
              M_shared[k_1] = max(M_shared[k_1], M_shared[k_1 + 2])
            }
            eval workgroup_barrier()
            if k_1 < 1 {
              M_shared[k_1] = max(M_shared[k_1], M_shared[k_1 + 1])
            }
            if k_1 == 0 {
              M[i_j_fused, 0] = M_shared[0]
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(g), { n: 3 });
  });

  it('combines an init that is not the identity once, after the tree', () => {
    const f = kernel(`
      prim_func k(A: f32[4, 8], B: f32[4], P: f32[4]) {
        for i, r in grid(4, 8) {
          block P(vi = spatial(i), vr = reduce(r)) {
            init { P[vi] = B[vi] }
            P[vi] = A[vi, vr] * P[vi]
          }
        }
      }`);
    const g = crossThreadReduction(ruleSchedule(f, 'P', 1, 2), 'P', ctx('cross_thread_reduction'));
    expectFunc(
      g,
      `prim_func k(A: f32[4, 8], B: f32[4], P: f32[4]) {
        for i in thread_binding(4, "blockIdx.x") {
          for r_1 in thread_binding(2, "threadIdx.x") {
            alloc P_shared: f32[2] shared
            alloc P_local: f32[1] local
            P_local[0] = 1.0
            for r_0 in range(4) {
              block P(vi = spatial(4, i), vr = reduce(8, r_0 * 2 + r_1)) {
                P_local[0] = A[vi, vr] * P_local[0]
              }
            }
            P_shared[r_1] = P_local[0]
            eval workgroup_barrier()
            if r_1 < 1 {
              P_shared[r_1] = P_shared[r_1] * P_shared[r_1 + 1]
            }
            if r_1 == 0 {
              P[i] = B[i] * P_shared[0]
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(g), {}, 1e-6);
  });

  it('keeps ifs in the body and guards the output store with the spatial bounds', () => {
    const f = kernel(`
      prim_func k(A: f32[n, 40], S: f32[n]) {
        for i, r in grid(n, 40) {
          block S(vi = spatial(i), vr = reduce(r)) {
            init { S[vi] = 0.0 }
            if vr % 3 != 0 {
              S[vi] = S[vi] + A[vi, vr]
            }
          }
        }
      }`);
    const [i, r] = loops(f, 'S');
    const s = split(f, i!, [null, 2], ctx('split'));
    let g = bind(bind(s.func, s.loops[0]!, 'blockIdx.y', ctx('bind')), s.loops[1]!, 'blockIdx.x', ctx('bind'));
    g = bind(g, r!, 'threadIdx.x', ctx('bind'));
    const h = crossThreadReduction(g, 'S', ctx('cross_thread_reduction'));
    expectFunc(
      h,
      `prim_func k(A: f32[n, 40], S: f32[n]) {
        for i_0 in thread_binding((n + 1) // 2, "blockIdx.y") {
          for i_1 in thread_binding(2, "blockIdx.x") {
            for r in thread_binding(40, "threadIdx.x") {
              alloc S_shared: f32[40] shared
              alloc S_local: f32[1] local
              S_local[0] = 0.0
              block S(vi = spatial(n, i_0 * 2 + i_1), vr = reduce(40, r)) {
                where i_0 * 2 + i_1 < n
                if vr % 3 != 0 {
                  S_local[0] = S_local[0] + A[vi, vr]
                }
              }
              S_shared[r] = S_local[0]
              eval workgroup_barrier()
              if r < 8 {
                S_shared[r] = S_shared[r] + S_shared[r + 32]
              }
              eval workgroup_barrier()
              if r < 16 {
                S_shared[r] = S_shared[r] + S_shared[r + 16]
              }
              eval workgroup_barrier()
              if r < 8 {
                S_shared[r] = S_shared[r] + S_shared[r + 8]
              }
              eval workgroup_barrier()
              if r < 4 {
                S_shared[r] = S_shared[r] + S_shared[r + 4]
              }
              eval workgroup_barrier()
              if r < 2 {
                S_shared[r] = S_shared[r] + S_shared[r + 2]
              }
              eval workgroup_barrier()
              if r < 1 {
                S_shared[r] = S_shared[r] + S_shared[r + 1]
              }
              if r == 0 && i_0 * 2 + i_1 < n {
                S[i_0 * 2 + i_1] = S_shared[0]
              }
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(h), { n: 5 }, 1e-5);
  });

  it('reduces per spatial thread when spatial threadIdx loops come first (GEMV: threads along the output and the reduction)', () => {
    const f = kernel(`
      prim_func k(x: f32[32], W: f32[32, n], y: f32[n]) {
        for j, r in grid(n, 32) {
          block y(vj = spatial(j), vr = reduce(r)) {
            init { y[vj] = 0.0 }
            y[vj] = y[vj] + x[vr] * W[vr, vj]
          }
        }
      }`);
    const [j, r] = loops(f, 'y');
    const sj = split(f, j!, [null, 4], ctx('split'));
    let g = bind(bind(sj.func, sj.loops[0]!, 'blockIdx.x', ctx('bind')), sj.loops[1]!, 'threadIdx.x', ctx('bind'));
    const sr = split(g, r!, [null, 4], ctx('split'));
    g = reorder(sr.func, [sr.loops[1]!, sr.loops[0]!], ctx('reorder'));
    g = bind(g, sr.loops[1]!, 'threadIdx.y', ctx('bind'));
    const h = crossThreadReduction(g, 'y', ctx('cross_thread_reduction'));
    expectFunc(
      h,
      `prim_func k(x: f32[32], W: f32[32, n], y: f32[n]) {
        for j_0 in thread_binding((n + 3) // 4, "blockIdx.x") {
          for j_1 in thread_binding(4, "threadIdx.x") {
            for r_1 in thread_binding(4, "threadIdx.y") {
              alloc y_shared: f32[4, 4] shared
              alloc y_local: f32[1] local
              y_local[0] = 0.0
              for r_0 in range(8) {
                block y(vj = spatial(n, j_0 * 4 + j_1), vr = reduce(32, r_0 * 4 + r_1)) {
                  where j_0 * 4 + j_1 < n
                  y_local[0] = y_local[0] + x[vr] * W[vr, vj]
                }
              }
              y_shared[r_1, j_1] = y_local[0]
              eval workgroup_barrier()
              if r_1 < 2 {
                y_shared[r_1, j_1] = y_shared[r_1, j_1] + y_shared[r_1 + 2, j_1]
              }
              eval workgroup_barrier()
              if r_1 < 1 {
                y_shared[r_1, j_1] = y_shared[r_1, j_1] + y_shared[r_1 + 1, j_1]
              }
              if r_1 == 0 && j_0 * 4 + j_1 < n {
                y[j_0 * 4 + j_1] = y_shared[0, j_1]
              }
            }
          }
        }
      }`,
    );
    expectSameResults(f, lockstep(h), { n: 10 }, 1e-5);
  });

  it('reduces to a single output without workgroup loops', () => {
    const f = kernel(`
      prim_func k(A: f32[50], S: f32[1]) {
        for r in range(50) {
          block S(vr = reduce(r)) {
            init { S[0] = 0.0 }
            S[0] = S[0] + A[vr]
          }
        }
      }`);
    const g = crossThreadReduction(ruleSchedule(f, 'S', 0, 16), 'S', ctx('cross_thread_reduction'));
    expectSameResults(f, lockstep(g), {}, 1e-5);
  });

  describe('preconditions', () => {
    const cross = (g: PrimFunc, block = 'T_sum'): PrimFunc => crossThreadReduction(g, block, ctx('cross_thread_reduction'));
    const failsOn = (g: PrimFunc, problem: string, block = 'T_sum'): void =>
      fails(() => cross(g, block), 'cross_thread_reduction', problem);
    const f = kernel(sumKernel(64));
    const [i, k1] = loops(f, 'T_sum');

    it('a block with init', () => {
      const g = ruleSchedule(f, 'T_sum', 1, 16);
      const d = decomposeReduction(g, 'T_sum', loops(g, 'T_sum')[1]!, ctx('decompose_reduction')).func;
      failsOn(d, "block 'T_sum' has no init; only a reduction block can be reduced across threads");
    });
    it('a reduce loop bound to threadIdx', () =>
      failsOn(
        bind(f, i!, 'blockIdx.x', ctx('bind')),
        "no loop around block 'T_sum' is bound to a threadIdx axis; bind its outermost reduce loop",
      ));
    it('a thread loop over reduce iterators only', () => {
      const fused = fuse(f, [i!, k1!], ctx('fuse'));
      failsOn(
        bind(fused.func, fused.loop, 'threadIdx.x', ctx('bind')),
        "loop 'i_k1_fused' \\(bound to threadIdx.x\\) also drives spatial iterator 'vi'",
      );
      failsOn(
        bind(f, i!, 'threadIdx.x', ctx('bind')),
        "loop 'i' \\(bound to threadIdx.x\\) drives no reduce iterator of block 'T_sum'",
      );
    });
    it('a constant thread count', () => {
      const g = kernel(`
        prim_func k(data: f32[4, m], T_sum: f32[4]) {
          for i, k1 in grid(4, m) {
            block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
              init { T_sum[vi] = 0.0 }
              T_sum[vi] = T_sum[vi] + data[vi, vk1]
            }
          }
        }`);
      const [a, b] = loops(g, 'T_sum');
      const h = bind(bind(g, a!, 'blockIdx.x', ctx('bind')), b!, 'threadIdx.x', ctx('bind'));
      failsOn(h, "loop 'k1' \\(bound to threadIdx.x\\) needs range\\(T\\) with a constant T");
    });
    it('a reduce thread loop on an axis of its own, after spatial thread loops of constant extent', () => {
      const g = kernel(`
        prim_func k(data: f32[n, 64], T_sum: f32[n]) {
          for i0 in thread_binding((n + 3) // 4, "blockIdx.x") {
            for i1 in thread_binding(4, "threadIdx.x") {
              for k1 in thread_binding(4, "threadIdx.x") {
                for k0 in range(16) {
                  block T_sum(vi = spatial(n, i0 * 4 + i1), vk = reduce(64, k0 * 4 + k1)) {
                    where i0 * 4 + i1 < n
                    init { T_sum[vi] = 0.0 }
                    T_sum[vi] = T_sum[vi] + data[vi, vk]
                  }
                }
              }
            }
          }
        }`);
      failsOn(
        g,
        "loops 'i1' and 'k1' are both bound to threadIdx.x; each thread loop of a cross-thread reduction needs an axis of its own",
      );
      const h = kernel(`
        prim_func k(data: f32[n, 64], T_sum: f32[n]) {
          for i in thread_binding(n, "threadIdx.x") {
            for k1 in thread_binding(4, "threadIdx.y") {
              for k0 in range(16) {
                block T_sum(vi = spatial(n, i), vk = reduce(64, k0 * 4 + k1)) {
                  init { T_sum[vi] = 0.0 }
                  T_sum[vi] = T_sum[vi] + data[vi, vk]
                }
              }
            }
          }
        }`);
      failsOn(h, "loop 'i' \\(bound to threadIdx.x\\) needs range\\(S\\) with a constant S: it sizes the workgroup memory");
      const t = kernel(`
        prim_func k(data: f32[n, 64], T_sum: f32[n]) {
          for i in thread_binding(n, "blockIdx.x") {
            for t in thread_binding(4, "threadIdx.x") {
              for k1 in thread_binding(4, "threadIdx.y") {
                for k0 in range(16) {
                  block T_sum(vi = spatial(n, i), vk = reduce(64, k0 * 4 + k1)) {
                    init { T_sum[vi] = 0.0 }
                    T_sum[vi] = T_sum[vi] + data[vi, vk]
                  }
                }
              }
            }
          }
        }`);
      failsOn(
        t,
        "loop 't' \\(bound to threadIdx.x\\) drives no iterator of block 'T_sum'; its threads would all compute the same output",
      );
    });

    it('only blockIdx loops around the thread loop', () => {
      failsOn(
        bind(f, k1!, 'threadIdx.x', ctx('bind')),
        "loop 'i' around the thread loop is serial; only blockIdx loops may enclose it",
      );
      const g = kernel(`
        prim_func k(data: f32[4, 64], T_sum: f32[4]) {
          for k0 in thread_binding(4, "blockIdx.x") {
            for i in thread_binding(4, "blockIdx.y") {
              for k1 in thread_binding(16, "threadIdx.x") {
                block T_sum(vi = spatial(4, i), vk = reduce(64, k0 * 16 + k1)) {
                  init { T_sum[vi] = 0.0 }
                  T_sum[vi] = T_sum[vi] + data[vi, vk]
                }
              }
            }
          }
        }`);
      failsOn(
        g,
        "loop 'k0' \\(bound to blockIdx.x\\) drives a reduce iterator; all reduce loops must be at or inside the thread loop",
      );
    });
    it('uniform control flow around the thread loop', () => {
      const g = kernel(`
        prim_func k(data: f32[4, 16], T_sum: f32[4]) {
          for i in thread_binding(4, "blockIdx.x") {
            if i < 3 {
              for k1 in thread_binding(16, "threadIdx.x") {
                block T_sum(vi = spatial(4, i), vk = reduce(16, k1)) {
                  init { T_sum[vi] = 0.0 }
                  T_sum[vi] = T_sum[vi] + data[vi, vk]
                }
              }
            }
          }
        }`);
      failsOn(g, 'an if encloses the thread loop; its barriers need uniform control flow');
    });
    it('only serial reduce loops inside the thread loop', () => {
      // Threads over the outer part of the reduce loop (contiguous chunks per thread) are fine too, unrolled or not.
      const s = split(bind(f, i!, 'blockIdx.x', ctx('bind')), k1!, [4, 16], ctx('split'));
      const unrolled = unroll(s.func, s.loops[1]!, ctx('unroll'));
      const chunks = cross(bind(unrolled, s.loops[0]!, 'threadIdx.x', ctx('bind')));
      expectSameResults(f, lockstep(chunks), { n: 2 }, 1e-5);
      const g = kernel(`
        prim_func k(data: f32[4, 64], T_sum: f32[4]) {
          for k1 in thread_binding(16, "threadIdx.x") {
            for i in range(4) {
              for k0 in range(4) {
                block T_sum(vi = spatial(4, i), vk = reduce(64, k0 * 16 + k1)) {
                  init { T_sum[vi] = 0.0 }
                  T_sum[vi] = T_sum[vi] + data[vi, vk]
                }
              }
            }
          }
        }`);
      failsOn(g, "loop 'i' inside the thread loop drives spatial iterator 'vi'; each thread must reduce into one output");
      const h = kernel(`
        prim_func k(data: f32[64], T_sum: f32[1]) {
          for k1 in thread_binding(16, "threadIdx.x") {
            for k0 in vectorized(4) {
              block T_sum(vk = reduce(64, k1 * 4 + k0)) {
                init { T_sum[0] = 0.0 }
                T_sum[0] = T_sum[0] + data[vk]
              }
            }
          }
        }`);
      failsOn(h, "loop 'k0' inside the thread loop is vectorized; it must be serial or unrolled");
      const between = kernel(`
        prim_func k(data: f32[64], T_sum: f32[1]) {
          for k1 in thread_binding(64, "threadIdx.x") {
            if k1 < 60 {
              block T_sum(vk = reduce(64, k1)) {
                init { T_sum[0] = 0.0 }
                T_sum[0] = T_sum[0] + data[vk]
              }
            }
          }
        }`);
      failsOn(between, "an if is between the thread loop 'k1' and block 'T_sum'; only its serial reduce loops may be");
    });

    const oneThread = (init: string, body: string, where = ''): PrimFunc =>
      kernel(`
        prim_func k(data: f32[4, 16], T_sum: f32[4]) {
          for i in thread_binding(4, "blockIdx.x") {
            for k1 in thread_binding(16, "threadIdx.x") {
              block T_sum(vi = spatial(4, i), vk = reduce(16, k1)) {
                ${where}
                init { ${init} }
                ${body}
              }
            }
          }
        }`);
    it('a combine of add, mul, max or min', () => {
      expect(() => cross(oneThread('T_sum[vi] = 0.0', 'T_sum[vi] = min(data[vi, vk], T_sum[vi])'))).not.toThrow();
      failsOn(
        oneThread('T_sum[vi] = 0.0', 'T_sum[vi] = T_sum[vi] - data[vi, vk]'),
        "the body of block 'T_sum' must be T_sum\\[...\\] = combine\\(T_sum\\[...\\], value\\), possibly under ifs, with combine one of add, mul, max, min",
      );
      failsOn(
        oneThread('T_sum[vi] = 0.0', 'T_sum[vi] = T_sum[vi] + T_sum[vi] * data[vi, vk]'),
        "block 'T_sum' reads 'T_sum' in the value it combines",
      );
    });
    it('one store as init, to the element the body updates', () => {
      failsOn(
        oneThread('T_sum[vi] = 0.0', 'T_sum[0] = T_sum[0] + data[vi, vk]'),
        "block 'T_sum' updates T_sum\\[...\\] but its init writes T_sum\\[...\\] \\(it must be the same element\\)",
      );
      failsOn(
        oneThread('T_sum[vi] = T_sum[vi] * 0.0', 'T_sum[vi] = T_sum[vi] + data[vi, vk]'),
        "the init of block 'T_sum' reads 'T_sum'",
      );
      failsOn(
        oneThread('T_sum[vi] = 0.0\n data[vi, 0] = 0.0', 'T_sum[vi] = T_sum[vi] + data[vi, vk]'),
        "the init of block 'T_sum' must be one store, found a sequence of 2 statements",
      );
      failsOn(
        oneThread('T_sum[vi] = 0.0', 'T_sum[vi] = T_sum[vi] + data[vi, vk]\n data[vi, vk] = 0.0'),
        "the body of block 'T_sum' must be .*; found a sequence of 2 statements",
      );
    });
    it('a predicate whose conditions separate spatial from reduce loops', () =>
      failsOn(
        oneThread('T_sum[vi] = 0.0', 'T_sum[vi] = T_sum[vi] + data[vi, vk]', 'where i + k1 < 12'),
        "the predicate of block 'T_sum' mixes spatial and reduce loops in one condition",
      ));
  });
});
