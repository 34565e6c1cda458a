import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { bind, parallel, unroll, vectorize } from '../../src/schedule/primitives/annotate.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { fuse, split } from '../../src/schedule/primitives/loops.ts';
import { expectFunc, expectSameResults, kernel, printFunc } from '../helpers/prim-funcs.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const loops = (f: PrimFunc, block: string): PrimVar[] => getLoops(f, block, ctx('get_loops'));
const fails = (fn: () => unknown, primitive: string, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': ${primitive}: ${problem}`));
};

const ADD = `
prim_func k(A: f32[n, 8], B: f32[n, 8], C: f32[n, 8]) {
  for i, j in grid(n, 8) {
    block C(vi = spatial(i), vj = spatial(j)) {
      C[vi, vj] = A[vi, vj] + B[vi, vj]
    }
  }
}`;

const SUM = `
prim_func k(data: f32[n, 32], T_sum: f32[n]) {
  for i, k1 in grid(n, 32) {
    block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
      init { T_sum[vi] = 0.0 }
      T_sum[vi] = T_sum[vi] + data[vi, vk1]
    }
  }
}`;

describe('bind', () => {
  it('binds the loops of an elementwise kernel as the default rule does', () => {
    const f = kernel(ADD);
    const fused = fuse(f, loops(f, 'C'), ctx('fuse'));
    const s = split(fused.func, fused.loop, [null, 64], ctx('split'));
    const [bx, tx] = s.loops;
    const g = bind(bind(s.func, bx!, 'blockIdx.x', ctx('bind')), tx!, 'threadIdx.x', ctx('bind'));
    expectFunc(
      g,
      `prim_func k(A: f32[n, 8], B: f32[n, 8], C: f32[n, 8]) {
        for i_j_fused_0 in thread_binding((n + 7) // 8, "blockIdx.x") {
          for i_j_fused_1 in thread_binding(64, "threadIdx.x") {
            block C(vi = spatial(n, (i_j_fused_0 * 64 + i_j_fused_1) // 8), vj = spatial(8, (i_j_fused_0 * 64 + i_j_fused_1) % 8)) {
              where i_j_fused_0 * 64 + i_j_fused_1 < n * 8
              C[vi, vj] = A[vi, vj] + B[vi, vj]
            }
          }
        }
      }`,
    );
    // The interpreter runs thread loops serially, which is exact for independent iterations.
    expectSameResults(f, g, { n: 13 });
  });

  it('binds a reduce loop to threadIdx (cross_thread_reduction consumes it)', () => {
    const f = kernel(SUM);
    const [i, k1] = loops(f, 'T_sum');
    const g = bind(bind(f, i!, 'blockIdx.x', ctx('bind')), k1!, 'threadIdx.x', ctx('bind'));
    expectFunc(
      g,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i in thread_binding(n, "blockIdx.x") {
          for k1 in thread_binding(32, "threadIdx.x") {
            block T_sum(vi = spatial(n, i), vk1 = reduce(32, k1)) {
              init { T_sum[vi] = 0.0 }
              T_sum[vi] = T_sum[vi] + data[vi, vk1]
            }
          }
        }
      }`,
    );
  });

  it('is a no-op on a loop bound to the same axis', () => {
    const f = kernel(ADD);
    const [i] = loops(f, 'C');
    const g = bind(f, i!, 'blockIdx.x', ctx('bind'));
    expect(bind(g, i!, 'blockIdx.x', ctx('bind'))).toBe(g);
  });

  describe('preconditions', () => {
    const f = kernel(SUM);
    const [i, k1] = loops(f, 'T_sum');

    it('a serial loop', () => {
      const g = bind(f, i!, 'blockIdx.x', ctx('bind'));
      fails(
        () => bind(g, i!, 'blockIdx.y', ctx('bind')),
        'bind',
        "loop 'i' is bound to blockIdx.x already; only a serial loop can be bound to blockIdx.y",
      );
      const u = unroll(f, k1!, ctx('unroll'));
      fails(() => bind(u, k1!, 'threadIdx.x', ctx('bind')), 'bind', "loop 'k1' is unrolled already");
    });
    it('a thread axis', () =>
      fails(() => bind(f, i!, 'warp.x' as 'threadIdx.x', ctx('bind')), 'bind', "'warp.x' is not a thread axis"));
    it('no reduce iterator on a blockIdx loop', () =>
      fails(
        () => bind(f, k1!, 'blockIdx.x', ctx('bind')),
        'bind',
        "loop 'k1' drives reduce iterator 'vk1' of block 'T_sum': its iterations accumulate into the same outputs, so it cannot be bound to blockIdx.x",
      ));
    it('one loop per axis on a path', () => {
      const g = bind(f, i!, 'threadIdx.x', ctx('bind'));
      fails(() => bind(g, k1!, 'threadIdx.x', ctx('bind')), 'bind', "loop 'i' around it is bound to threadIdx.x already");
      const h = bind(f, k1!, 'threadIdx.x', ctx('bind'));
      fails(() => bind(h, i!, 'threadIdx.x', ctx('bind')), 'bind', "loop 'k1' inside it is bound to threadIdx.x already");
    });
    it('a cooperative stage may share the axis of the loop around it: same extent, spatial iterators only', () => {
      const coop = kernel(`
prim_func k(X: f32[8, 8], Y: f32[8, 8]) {
  for t in thread_binding(8, "threadIdx.x") {
    for c in range(8) {
      block copy(v = spatial(c)) {
        Y[t, v] = X[t, v]
      }
    }
    for c4 in range(4) {
      block half(v4 = spatial(c4)) {
        Y[t, v4] = X[t, v4]
      }
    }
  }
}`);
      const [, c] = loops(coop, 'copy');
      const bound = bind(coop, c!, 'threadIdx.x', ctx('bind'));
      expectSameResults(coop, bound);
      const [, c4] = loops(coop, 'half');
      fails(
        () => bind(coop, c4!, 'threadIdx.x', ctx('bind')),
        'bind',
        "loop 't' around it is bound to threadIdx.x already \\(a nested loop may share the axis only with the same extent",
      );
    });
    it('blockIdx loops outside threadIdx loops', () => {
      const a = kernel(ADD);
      const [ai, aj] = loops(a, 'C');
      const b = bind(a, ai!, 'threadIdx.x', ctx('bind'));
      fails(
        () => bind(b, aj!, 'blockIdx.x', ctx('bind')),
        'bind',
        "loop 'i' around it is bound to threadIdx.x; blockIdx loops must enclose threadIdx loops",
      );
      const c = bind(a, aj!, 'blockIdx.x', ctx('bind'));
      fails(
        () => bind(c, ai!, 'threadIdx.x', ctx('bind')),
        'bind',
        "loop 'j' inside it is bound to blockIdx.x; blockIdx loops must enclose threadIdx loops",
      );
    });
    it('a loop that starts at 0', () => {
      const g = kernel(`
        prim_func k(A: f32[10]) {
          for i in range(2, 10) {
            block A(vi = spatial(10, i)) {
              A[vi] = 1.0
            }
          }
        }`);
      fails(() => bind(g, loops(g, 'A')[0]!, 'threadIdx.x', ctx('bind')), 'bind', "loop 'i' does not start at 0");
    });
    it('blocks under the loop', () => {
      const g = kernel(`
        prim_func k(A: f32[10]) {
          for i in range(10) {
            A[i] = 1.0
          }
        }`);
      const v = (g.body as { loopVar: PrimVar }).loopVar;
      fails(
        () => bind(g, v, 'threadIdx.x', ctx('bind')),
        'bind',
        "a store to 'A' under loop 'i' is not in a block with iterators; a loop can be bound to threadIdx.x only when",
      );
    });
    it('a loop that drives the reduction block it repeats', () => {
      const g = kernel(`
        prim_func k(data: f32[4, 32], T_sum: f32[4]) {
          for t, one, i, k1 in grid(2, 1, 4, 32) {
            block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
              init { T_sum[vi] = 0.0 }
              T_sum[vi] = T_sum[vi] + data[vi, vk1]
            }
          }
        }`);
      const [t, one] = loops(g, 'T_sum');
      fails(
        () => bind(g, t!, 'blockIdx.x', ctx('bind')),
        'bind',
        "loop 't' drives no iterator of reduction block 'T_sum': every iteration would update the same outputs",
      );
      // A loop that runs once repeats nothing.
      expect(() => bind(g, one!, 'blockIdx.x', ctx('bind'))).not.toThrow();
    });
  });
});

describe('vectorize, parallel, unroll', () => {
  it('set the loop kind', () => {
    const f = kernel(ADD);
    const [i, j] = loops(f, 'C');
    expectFunc(
      vectorize(parallel(f, i!, ctx('parallel')), j!, ctx('vectorize')),
      `prim_func k(A: f32[n, 8], B: f32[n, 8], C: f32[n, 8]) {
        for i in parallel(n) {
          for j in vectorized(8) {
            block C(vi = spatial(n, i), vj = spatial(8, j)) {
              C[vi, vj] = A[vi, vj] + B[vi, vj]
            }
          }
        }
      }`,
    );
    const g = kernel(SUM);
    const [, k1] = loops(g, 'T_sum');
    const u = unroll(g, k1!, ctx('unroll'));
    expectFunc(
      u,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i in range(n) {
          for k1 in unrolled(32) {
            block T_sum(vi = spatial(n, i), vk1 = reduce(32, k1)) {
              init { T_sum[vi] = 0.0 }
              T_sum[vi] = T_sum[vi] + data[vi, vk1]
            }
          }
        }
      }`,
    );
    expectSameResults(g, u, { n: 3 });
  });

  it('are no-ops on a loop of that kind already', () => {
    const f = kernel(ADD);
    const [i, j] = loops(f, 'C');
    const p = parallel(f, i!, ctx('parallel'));
    expect(parallel(p, i!, ctx('parallel'))).toBe(p);
    const v = vectorize(f, j!, ctx('vectorize'));
    expect(vectorize(v, j!, ctx('vectorize'))).toBe(v);
    const u = unroll(f, j!, ctx('unroll'));
    expect(unroll(u, j!, ctx('unroll'))).toBe(u);
  });

  it('unroll with a budget of copies records it on the loop (also on a loop unrolled already); a bad one is refused', () => {
    const f = kernel(ADD);
    const [, j] = loops(f, 'C');
    const u = unroll(unroll(f, j!, ctx('unroll')), j!, ctx('unroll'), 128);
    expect(printFunc(u)).toMatch(/for j in unrolled\(\w+\) attrs\(max_copies=128\)/);
    fails(() => unroll(f, j!, ctx('unroll'), 0), 'unroll', 'max_copies must be a whole number >= 1, not 0');
  });

  describe('preconditions', () => {
    const f = kernel(SUM);
    const [i, k1] = loops(f, 'T_sum');

    it('vectorize: a constant extent', () =>
      fails(
        () => vectorize(f, i!, ctx('vectorize')),
        'vectorize',
        "loop 'i' has a symbolic extent; a vectorized loop needs a constant one",
      ));
    it('vectorize, parallel: no reduce iterator', () => {
      fails(
        () => vectorize(f, k1!, ctx('vectorize')),
        'vectorize',
        "loop 'k1' drives reduce iterator 'vk1' of block 'T_sum'.* cannot be vectorized",
      );
      fails(
        () => parallel(f, k1!, ctx('parallel')),
        'parallel',
        "loop 'k1' drives reduce iterator 'vk1' of block 'T_sum'.* cannot be parallel",
      );
    });
    it('a serial loop', () => {
      const p = parallel(f, i!, ctx('parallel'));
      fails(
        () => vectorize(p, i!, ctx('vectorize')),
        'vectorize',
        "loop 'i' is parallel already; only a serial loop can be vectorized",
      );
      fails(() => unroll(p, i!, ctx('unroll')), 'unroll', "loop 'i' is parallel already; only a serial loop can be unrolled");
      const u = unroll(f, k1!, ctx('unroll'));
      fails(
        () => parallel(u, k1!, ctx('parallel')),
        'parallel',
        "loop 'k1' is unrolled already; only a serial loop can be parallel",
      );
    });
  });
});
