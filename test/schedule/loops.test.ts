import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { bind } from '../../src/schedule/primitives/annotate.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { fuse, reorder, split } from '../../src/schedule/primitives/loops.ts';
import { decomposeReduction } from '../../src/schedule/primitives/reduction.ts';
import { expectFunc, expectSameResults, kernel } from '../helpers/prim-funcs.ts';
import { MATMUL } from './kernels.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const loops = (f: PrimFunc, block: string): PrimVar[] => getLoops(f, block, ctx('get_loops'));

const SCALE = `
prim_func k(A: f32[64, 30], B: f32[64, 30]) {
  for i, j in grid(64, 30) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] * 2.0
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

/** Stores that are in no block: what hand-written (opaque) kernels look like. */
const BARE = `
prim_func k(A: f32[12], B: f32[12]) {
  for i in range(12) {
    B[i] = A[i] + 1.0
  }
}`;

describe('split', () => {
  it('splits a loop by a dividing factor without a predicate', () => {
    const f = kernel(SCALE);
    const [i] = loops(f, 'B');
    const r = split(f, i!, [null, 16], ctx('split'));
    expect(r.loops.map((v) => v.name)).toEqual(['i_0', 'i_1']);
    expectFunc(
      r.func,
      `prim_func k(A: f32[64, 30], B: f32[64, 30]) {
        for i_0, i_1, j in grid(4, 16, 30) {
          block B(vi = spatial(64, i_0 * 16 + i_1), vj = spatial(j)) {
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('infers the middle of three factors', () => {
    const f = kernel(SCALE);
    const [i] = loops(f, 'B');
    const r = split(f, i!, [2, null, 4], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(A: f32[64, 30], B: f32[64, 30]) {
        for i_0, i_1, i_2, j in grid(2, 8, 4, 30) {
          block B(vi = spatial(64, i_0 * 32 + i_1 * 4 + i_2), vj = spatial(j)) {
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('guards the blocks with combined < extent when the factors do not divide', () => {
    const f = kernel(SCALE);
    const [, j] = loops(f, 'B');
    const r = split(f, j!, [null, 8], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(A: f32[64, 30], B: f32[64, 30]) {
        for i, j_0, j_1 in grid(64, 4, 8) {
          block B(vi = spatial(i), vj = spatial(30, j_0 * 8 + j_1)) {
            where j_0 * 8 + j_1 < 30
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('accepts given factors whose product exceeds the extent, and ANDs predicates', () => {
    const f = kernel(SCALE);
    const [i, j] = loops(f, 'B');
    const a = split(f, j!, [4, 10], ctx('split'));
    const b = split(a.func, i!, [null, 5], ctx('split'));
    expectFunc(
      b.func,
      `prim_func k(A: f32[64, 30], B: f32[64, 30]) {
        for i_0, i_1, j_0, j_1 in grid(13, 5, 4, 10) {
          block B(vi = spatial(64, i_0 * 5 + i_1), vj = spatial(30, j_0 * 10 + j_1)) {
            where j_0 * 10 + j_1 < 30 && i_0 * 5 + i_1 < 64
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
      }`,
    );
    expectSameResults(f, b.func);
  });

  it('splits a symbolic extent with a ceildiv outer loop and a predicate', () => {
    const f = kernel(SUM);
    const [i] = loops(f, 'T_sum');
    const r = split(f, i!, [null, 16], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i_0, i_1, k1 in grid((n + 15) // 16, 16, 32) {
          block T_sum(vi = spatial(n, i_0 * 16 + i_1), vk1 = reduce(k1)) {
            where i_0 * 16 + i_1 < n
            init { T_sum[vi] = 0.0 }
            T_sum[vi] = T_sum[vi] + data[vi, vk1]
          }
        }
      }`,
    );
    for (const n of [1, 16, 37]) expectSameResults(f, r.func, { n });
  });

  it('splits a reduce loop, keeping the init on the first iteration', () => {
    const f = kernel(SUM);
    const [, k1] = loops(f, 'T_sum');
    const r = split(f, k1!, [null, 5], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i, k1_0, k1_1 in grid(n, 7, 5) {
          block T_sum(vi = spatial(i), vk1 = reduce(32, k1_0 * 5 + k1_1)) {
            where k1_0 * 5 + k1_1 < 32
            init { T_sum[vi] = 0.0 }
            T_sum[vi] = T_sum[vi] + data[vi, vk1]
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 3 }, 1e-4);
  });

  it('offsets the combined index by a loop that does not start at 0', () => {
    const f = kernel(`
      prim_func k(A: f32[10], B: f32[10]) {
        for i in range(2, 10) {
          block B(vi = spatial(10, i)) {
            B[vi] = A[vi] + 1.0
          }
        }
      }`);
    const [i] = loops(f, 'B');
    const r = split(f, i!, [null, 3], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(A: f32[10], B: f32[10]) {
        for i_0, i_1 in grid(3, 3) {
          block B(vi = spatial(10, i_0 * 3 + i_1 + 2)) {
            where i_0 * 3 + i_1 < 8
            B[vi] = A[vi] + 1.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('splits bare stores when the factors divide, since no predicate is needed', () => {
    const f = kernel(BARE);
    const i = (f.body as { loopVar: PrimVar }).loopVar;
    const r = split(f, i, [3, 4], ctx('split'));
    expectFunc(
      r.func,
      `prim_func k(A: f32[12], B: f32[12]) {
        for i_0, i_1 in grid(3, 4) {
          B[i_0 * 4 + i_1] = A[i_0 * 4 + i_1] + 1.0
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  describe('preconditions', () => {
    const f = kernel(SCALE);
    const [i, j] = loops(f, 'B');
    const fails = (factors: (number | null)[], loop: PrimVar, problem: RegExp | string, g = f): void => {
      expect(() => split(g, loop, factors, ctx('split'))).toThrow(
        new RegExp(`K7201: schedule of kernel 'k': split: ${typeof problem === 'string' ? problem : problem.source}`),
      );
    };

    it('at most one null factor', () => fails([null, null], i!, 'at most one factor may be null \\(inferred\\), found 2'));
    it('positive integer factors', () => {
      fails([0, null], i!, 'factor 0 is not a positive integer');
      fails([null, -4], i!, 'factor -4 is not a positive integer');
      fails([2.5, null], i!, 'factor 2.5 is not a positive integer');
    });
    it('at least two factors', () => fails([64], i!, "split of loop 'i' needs at least 2 factors, found 1"));
    it('a product that covers the extent', () => {
      fails([2, 10], j!, "the factors' product 20 is less than the extent of loop 'j'");
      const g = kernel(SUM);
      fails([4, 4], loops(g, 'T_sum')[0]!, "cannot prove that the factors' product 16 covers the extent of loop 'i'", g);
    });
    it('a serial loop', () => {
      const bound = bind(f, i!, 'blockIdx.x', ctx('bind'));
      fails([null, 4], i!, "loop 'i' is bound to blockIdx.x; only a serial loop can be split", bound);
    });
    it('a loop of the kernel', () => {
      const r = split(f, i!, [null, 4], ctx('split'));
      fails([null, 4], i!, "loop 'i' is not in the kernel", r.func);
    });
    it('blocks to carry the predicate when the factors do not divide', () => {
      const g = kernel(BARE);
      fails(
        [null, 5],
        (g.body as { loopVar: PrimVar }).loopVar,
        "the factors do not divide the extent of loop 'i', and a store to 'B' under it is in no block",
        g,
      );
    });
  });
});

describe('fuse', () => {
  it('fuses two loops into <a>_<b>_fused with floordiv/floormod', () => {
    const f = kernel(SCALE);
    const [i, j] = loops(f, 'B');
    const r = fuse(f, [i!, j!], ctx('fuse'));
    expect(r.loop.name).toBe('i_j_fused');
    expectFunc(
      r.func,
      `prim_func k(A: f32[64, 30], B: f32[64, 30]) {
        for i_j_fused in range(1920) {
          block B(vi = spatial(64, i_j_fused // 30), vj = spatial(30, i_j_fused % 30)) {
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('fuses three loops, the middle one by floordiv then floormod', () => {
    const f = kernel(`
      prim_func k(A: f32[2, 3, 4], B: f32[2, 3, 4]) {
        for a, b, c in grid(2, 3, 4) {
          block B(va = spatial(a), vb = spatial(b), vc = spatial(c)) {
            B[va, vb, vc] = A[va, vb, vc] + 1.0
          }
        }
      }`);
    const r = fuse(f, loops(f, 'B'), ctx('fuse'));
    expectFunc(
      r.func,
      `prim_func k(A: f32[2, 3, 4], B: f32[2, 3, 4]) {
        for a_b_c_fused in range(24) {
          block B(va = spatial(2, a_b_c_fused // 12), vb = spatial(3, a_b_c_fused // 4 % 3), vc = spatial(4, a_b_c_fused % 4)) {
            B[va, vb, vc] = A[va, vb, vc] + 1.0
          }
        }
      }`,
    );
    expectSameResults(f, r.func);
  });

  it('fuses a symbolic loop with a reduce loop (the init still runs first)', () => {
    const f = kernel(SUM);
    const r = fuse(f, loops(f, 'T_sum'), ctx('fuse'));
    expectFunc(
      r.func,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i_k1_fused in range(n * 32) {
          block T_sum(vi = spatial(n, i_k1_fused // 32), vk1 = reduce(32, i_k1_fused % 32)) {
            init { T_sum[vi] = 0.0 }
            T_sum[vi] = T_sum[vi] + data[vi, vk1]
          }
        }
      }`,
    );
    expectSameResults(f, r.func, { n: 5 }, 1e-4);
  });

  it('fuses one loop to itself', () => {
    const f = kernel(SCALE);
    const [i] = loops(f, 'B');
    const r = fuse(f, [i!], ctx('fuse'));
    expect(r.func).toBe(f);
    expect(r.loop).toBe(i);
  });

  describe('preconditions', () => {
    const fails = (fn: () => unknown, problem: string): void => {
      expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': fuse: ${problem}`));
    };
    const f = kernel(MATMUL);
    const [i, j, k] = loops(f, 'mm');

    it('loops outermost first', () =>
      fails(
        () => fuse(f, [j!, i!], ctx('fuse')),
        "loop 'i' is not directly nested in loop 'j' .*; give the loops outermost first",
      ));
    it('consecutive loops', () => fails(() => fuse(f, [i!, k!], ctx('fuse')), "loop 'k' is not directly nested in loop 'i'"));
    it('perfectly nested loops', () => {
      const d = decomposeReduction(f, 'mm', k!, ctx('decompose_reduction')).func;
      fails(
        () => fuse(d, [j!, k!], ctx('fuse')),
        "loop 'k' is not directly nested in loop 'j' .*; its body is a sequence of 2 statements",
      );
    });
    it('distinct loops', () => fails(() => fuse(f, [i!, i!], ctx('fuse')), "loop 'i' is given twice"));
    it('some loop', () => fails(() => fuse(f, [], ctx('fuse')), 'no loops to fuse'));
    it('serial loops', () => {
      const b = bind(f, j!, 'threadIdx.x', ctx('bind'));
      fails(() => fuse(b, [i!, j!], ctx('fuse')), "loop 'j' is bound to threadIdx.x; only a serial loop can be fused");
    });
    it('ranges independent of the fused loops', () => {
      const tri = kernel(`
        prim_func k(A: f32[8, 8]) {
          for i in range(1, 8) {
            for j in range(i) {
              block A(vi = spatial(8, i), vj = spatial(8, j)) {
                A[vi, vj] = 0.0
              }
            }
          }
        }`);
      const [a, b] = loops(tri, 'A');
      fails(() => fuse(tri, [a!, b!], ctx('fuse')), "the range of loop 'j' depends on loop 'i'; such loops cannot fuse");
    });
  });
});

describe('reorder', () => {
  it('swaps two loops and leaves a loop between them in place', () => {
    const f = kernel(MATMUL);
    const [i, , k] = loops(f, 'mm');
    const g = reorder(f, [k!, i!], ctx('reorder'));
    expectFunc(
      g,
      `prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for k, j, i in grid(16, 8, n) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { Y[vi, vj] = 0.0 }
            Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 3 }, 1e-4);
  });

  it('moves the inner loop of a split outermost among the reduce loops', () => {
    const f = kernel(SUM);
    const [, k1] = loops(f, 'T_sum');
    const s = split(f, k1!, [null, 8], ctx('split'));
    const g = reorder(s.func, [s.loops[1]!, s.loops[0]!], ctx('reorder'));
    expectFunc(
      g,
      `prim_func k(data: f32[n, 32], T_sum: f32[n]) {
        for i, k1_1, k1_0 in grid(n, 8, 4) {
          block T_sum(vi = spatial(i), vk1 = reduce(32, k1_0 * 8 + k1_1)) {
            init { T_sum[vi] = 0.0 }
            T_sum[vi] = T_sum[vi] + data[vi, vk1]
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 4 }, 1e-4);
  });

  it('keeps the order given when it is already the order', () => {
    const f = kernel(MATMUL);
    expectFunc(reorder(f, loops(f, 'mm'), ctx('reorder')), MATMUL);
  });

  describe('preconditions', () => {
    const fails = (fn: () => unknown, problem: string): void => {
      expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': reorder: ${problem}`));
    };
    const f = kernel(MATMUL);
    const [i, j, k] = loops(f, 'mm');

    it('one chain of perfectly nested loops', () => {
      const d = decomposeReduction(f, 'mm', k!, ctx('decompose_reduction')).func;
      fails(
        () => reorder(d, [k!, i!], ctx('reorder')),
        "loops 'k', 'i' are not one chain of perfectly nested loops: below loop 'j' is a sequence of 2 statements, not loop 'k'",
      );
    });
    it('no loop twice', () => fails(() => reorder(f, [k!, j!, k!], ctx('reorder')), "loop 'k' is given twice"));
    it('some loop', () => fails(() => reorder(f, [], ctx('reorder')), 'no loops to reorder'));
    it('serial loops', () => {
      const b = bind(f, i!, 'blockIdx.x', ctx('bind'));
      fails(() => reorder(b, [j!, i!], ctx('reorder')), "loop 'i' is bound to blockIdx.x; only a serial loop can be reordered");
    });
    it('inner ranges that do not depend on loops moving inside them', () => {
      const tri = kernel(`
        prim_func k(A: f32[8, 8]) {
          for i in range(1, 8) {
            for j in range(i) {
              block A(vi = spatial(8, i), vj = spatial(8, j)) {
                A[vi, vj] = 0.0
              }
            }
          }
        }`);
      const [a, b] = loops(tri, 'A');
      fails(
        () => reorder(tri, [b!, a!], ctx('reorder')),
        "the range of loop 'j' depends on loop 'i', which would move inside it",
      );
    });
    it('blocks, not bare stores, under the loops', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 4]) {
          for i, j in grid(4, 4) {
            A[i, j] = A[j, i] + 1.0
          }
        }`);
      const outer = g.body as { loopVar: PrimVar; body: { loopVar: PrimVar } };
      fails(
        () => reorder(g, [outer.body.loopVar, outer.loopVar], ctx('reorder')),
        "a store to 'A' under loop 'j' is not in a block with iterators; reorder needs those",
      );
    });
  });
});
