import { describe, expect, it } from 'vitest';
import type { PrimVar } from '../../src/ir/prim/expr.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { cacheRead, cacheWrite } from '../../src/schedule/primitives/cache.ts';
import { computeAt, reverseComputeAt } from '../../src/schedule/primitives/compute-at.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { replayTrace } from '../../src/schedule/schedule.ts';
import { expectFunc, expectSameResults, kernel, printFunc, schedule } from '../helpers/prim-funcs.ts';
import { MATMUL_STATIC as MATMUL } from './kernels.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const loops = (f: PrimFunc, block: string): PrimVar[] => getLoops(f, block, ctx('get_loops'));
const at = (f: PrimFunc, block: string, loop: PrimVar) => computeAt(f, block, loop, ctx('compute_at'));
const reverseAt = (f: PrimFunc, block: string, loop: PrimVar) => reverseComputeAt(f, block, loop, ctx('reverse_compute_at'));
const fails = (fn: () => unknown, primitive: string, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': ${primitive}: ${problem}`));
};

/** A matmul tiled for a GPU: 16×8 outputs per workgroup, 4×1 per thread, the reduction split by 4. */
const TILED_MATMUL = `
prim_func k(X: f32[32, 16], W: f32[16, 32], Y: f32[32, 32]) {
  for bi in thread_binding(2, "blockIdx.y") {
    for bj in thread_binding(4, "blockIdx.x") {
      for ti in thread_binding(4, "threadIdx.y") {
        for tj in thread_binding(8, "threadIdx.x") {
          for ko, ki, ii in grid(4, 4, 4) {
            block mm(vi = spatial(32, bi * 16 + ti * 4 + ii), vj = spatial(32, bj * 8 + tj), vk = reduce(16, ko * 4 + ki)) {
              init { Y[vi, vj] = 0.0 }
              Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
            }
          }
        }
      }
    }
  }
}`;

/** A 3-point stencil over a tiled loop: each tile needs a halo of the intermediate. */
const STENCIL = `
prim_func k(A: f32[10], C: f32[8]) {
  alloc B: f32[10]
  for i in range(10) {
    block B(vi = spatial(i)) { B[vi] = A[vi] * 2.0 }
  }
  for io, ii in grid(2, 4) {
    block C(vc = spatial(8, io * 4 + ii)) { C[vc] = B[vc] + B[vc + 1] + B[vc + 2] }
  }
}`;

/** Add on a tiled loop with a bounds predicate, then relu. */
const TILED_ADD_RELU = `
prim_func k(A: f32[n], C: f32[n]) {
  alloc B: f32[n]
  for io, ii in grid((n + 3) // 4, 4) {
    block B(vi = spatial(n, io * 4 + ii)) {
      where io * 4 + ii < n
      B[vi] = A[vi] + 1.0
    }
  }
  for i in range(n) {
    block C(vc = spatial(i)) { C[vc] = max(B[vc], 0.0) }
  }
}`;

function legalizedSoftmax(): PrimFunc {
  const m = parseModule(
    `func main(x: Tensor[(n, 32), f32]) -> Tensor[(n, 32), f32] {
      dataflow {
        b = softmax(x, axis=1)
        output b
      }
      return b
    }`,
    { ...opHooks, file: 'softmax.kir' },
  );
  return [...legalizeModule(m).functions.values()].find((f): f is PrimFunc => f.kind === 'prim_func')!;
}

describe('compute_at', () => {
  it('loads a GPU matmul’s tiles into workgroup memory per step of the split reduce loop', () => {
    const f = kernel(TILED_MATMUL);
    let g = cacheRead(f, 'mm', 0, 'shared', ctx('cache_read')).func;
    g = cacheRead(g, 'mm', 1, 'shared', ctx('cache_read')).func;
    const [, , , , ko] = loops(g, 'mm');
    g = at(at(g, 'X_shared', ko!), 'W_shared', ko!);
    // Each stage covers the whole workgroup tile (the threadIdx loops relaxed), allocated above the threads.
    expectFunc(
      g,
      `prim_func k(X: f32[32, 16], W: f32[16, 32], Y: f32[32, 32]) {
        for bi in thread_binding(2, "blockIdx.y") {
          for bj in thread_binding(4, "blockIdx.x") {
            alloc X_shared: f32[16, 4] shared
            alloc W_shared: f32[4, 8] shared
            for ti in thread_binding(4, "threadIdx.y") {
              for tj in thread_binding(8, "threadIdx.x") {
                for ko in range(4) {
                  for ax0, ax1 in grid(16, 4) {
                    block X_shared(v0 = spatial(32, bi * 16 + ax0), v1 = spatial(16, ko * 4 + ax1)) {
                      X_shared[v0 % 16, v1 % 4] = X[v0, v1]
                    }
                  }
                  for ax0_1, ax1_1 in grid(4, 8) {
                    block W_shared(v0_1 = spatial(16, ko * 4 + ax0_1), v1_1 = spatial(32, bj * 8 + ax1_1)) {
                      W_shared[v0_1 % 4, v1_1 % 8] = W[v0_1, v1_1]
                    }
                  }
                  for ki, ii in grid(4, 4) {
                    block mm(vi = spatial(32, bi * 16 + ti * 4 + ii), vj = spatial(32, bj * 8 + tj), vk = reduce(16, ko * 4 + ki)) {
                      init { Y[vi, vj] = 0.0 }
                      Y[vi, vj] = Y[vi, vj] + X_shared[vi % 16, vk % 4] * W_shared[vk % 4, vj % 8]
                    }
                  }
                }
              }
            }
          }
        }
      }`,
    );
    expectSameResults(f, g);
  });

  it('stages the workgroup tile in thread memory per step of the inner reduce loop (two-level caching)', () => {
    const f = kernel(TILED_MATMUL);
    const shared = cacheRead(f, 'mm', 0, 'shared', ctx('cache_read'));
    const [, , , , ko] = loops(shared.func, 'mm');
    const g = at(shared.func, shared.block, ko!);
    // The second stage reads the first: TVM places it right after its writer, before the consumer's loops.
    const local = cacheRead(g, 'mm', 0, 'local', ctx('cache_read'));
    const [, , , , , ki] = loops(local.func, 'mm');
    const h = at(local.func, local.block, ki!);
    expectFunc(
      h,
      `prim_func k(X: f32[32, 16], W: f32[16, 32], Y: f32[32, 32]) {
        for bi in thread_binding(2, "blockIdx.y") {
          for bj in thread_binding(4, "blockIdx.x") {
            alloc X_shared: f32[16, 4] shared
            for ti in thread_binding(4, "threadIdx.y") {
              for tj in thread_binding(8, "threadIdx.x") {
                for ko in range(4) {
                  for ax0, ax1 in grid(16, 4) {
                    block X_shared(v0 = spatial(32, bi * 16 + ax0), v1 = spatial(16, ko * 4 + ax1)) {
                      X_shared[v0 % 16, v1 % 4] = X[v0, v1]
                    }
                  }
                  for ki in range(4) {
                    alloc X_shared_local: f32[4, 1] local
                    for ax0_1 in range(4) {
                      block X_shared_local(v0_1 = spatial(16, ti * 4 + ax0_1), v1_1 = spatial(ki)) {
                        X_shared_local[v0_1 % 4, 0] = X_shared[v0_1, v1_1]
                      }
                    }
                    for ii in range(4) {
                      block mm(vi = spatial(32, bi * 16 + ti * 4 + ii), vj = spatial(32, bj * 8 + tj), vk = reduce(16, ko * 4 + ki)) {
                        init { Y[vi, vj] = 0.0 }
                        Y[vi, vj] = Y[vi, vj] + X_shared_local[vi % 4, 0] * W[vk, vj]
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }`,
    );
    expectSameResults(f, h);
  });

  it('moves softmax’s max and sum reductions (from legalization) into the row loop', () => {
    const f = legalizedSoftmax();
    const [row] = loops(f, 'T_softmax');
    const g = at(at(f, 'T_softmax_expsum', row!), 'T_softmax_max', row!);
    expectFunc(
      g,
      `prim_func softmax(data: f32[n, 32], T_softmax: f32[n, 32]) {
        alloc T_softmax_max: f32[n, 1]
        alloc T_softmax_expsum: f32[n, 1]
        for i in range(n) {
          for ax0 in range(32) {
            block T_softmax_max(vi = spatial(i), vj = spatial(1, 0), vk = reduce(ax0)) {
              init { T_softmax_max[vi, vj] = -inf }
              T_softmax_max[vi, vj] = max(T_softmax_max[vi, vj], data[vi, vk])
            }
          }
          for ax0_1 in range(32) {
            block T_softmax_expsum(vi_1 = spatial(i), vj_1 = spatial(1, 0), vk_1 = reduce(ax0_1)) {
              init { T_softmax_expsum[vi_1, vj_1] = 0.0 }
              T_softmax_expsum[vi_1, vj_1] = T_softmax_expsum[vi_1, vj_1] + exp(data[vi_1, vk_1] - T_softmax_max[vi_1, vj_1])
            }
          }
          for j in range(32) {
            block T_softmax(vi_2 = spatial(i), vj_2 = spatial(j)) {
              T_softmax[vi_2, vj_2] = exp(data[vi_2, vj_2] - T_softmax_max[vi_2, 0]) / T_softmax_expsum[vi_2, 0]
            }
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 3 });
  });

  it('computes the halo a stencil tile needs', () => {
    const f = kernel(STENCIL);
    const [io] = loops(f, 'C');
    const g = at(f, 'B', io!);
    expectFunc(
      g,
      `prim_func k(A: f32[10], C: f32[8]) {
        alloc B: f32[10]
        for io in range(2) {
          for ax0 in range(6) {
            block B(vi = spatial(10, io * 4 + ax0)) { B[vi] = A[vi] * 2.0 }
          }
          for ii in range(4) {
            block C(vc = spatial(8, io * 4 + ii)) { C[vc] = B[vc] + B[vc + 1] + B[vc + 2] }
          }
        }
      }`,
    );
    expectSameResults(f, g);
  });

  it('shrinks a thread-memory halo tile to its size, placed modulo the size (its start is not a multiple of it)', () => {
    const f = kernel(STENCIL.replace('alloc B: f32[10]', 'alloc B: f32[10] local'));
    const [io] = loops(f, 'C');
    const g = at(f, 'B', io!);
    expectFunc(
      g,
      `prim_func k(A: f32[10], C: f32[8]) {
        for io in range(2) {
          alloc B: f32[6] local
          for ax0 in range(6) {
            block B(vi = spatial(10, io * 4 + ax0)) { B[vi % 6] = A[vi] * 2.0 }
          }
          for ii in range(4) {
            block C(vc = spatial(8, io * 4 + ii)) { C[vc] = B[vc % 6] + B[(vc + 1) % 6] + B[(vc + 2) % 6] }
          }
        }
      }`,
    );
    expectSameResults(f, g);
  });

  it('keeps a constant tile and guards the part past the end with a predicate', () => {
    const text = `
      prim_func k(A: f32[n], C: f32[n]) {
        alloc B: f32[n]
        for i in range(n) {
          block B(vi = spatial(i)) { B[vi] = A[vi] + 1.0 }
        }
        for io, ii in grid((n + 3) // 4, 4) {
          block C(vc = spatial(n, io * 4 + ii)) {
            where io * 4 + ii < n
            C[vc] = B[vc] * B[vc]
          }
        }
      }`;
    const f = kernel(text);
    const [io] = loops(f, 'C');
    const g = at(f, 'B', io!);
    expectFunc(
      g,
      `prim_func k(A: f32[n], C: f32[n]) {
        alloc B: f32[n]
        for io in range((n + 3) // 4) {
          for ax0 in range(4) {
            block B(vi = spatial(n, io * 4 + ax0)) {
              where io * 4 + ax0 < n
              B[vi] = A[vi] + 1.0
            }
          }
          for ii in range(4) {
            block C(vc = spatial(n, io * 4 + ii)) {
              where io * 4 + ii < n
              C[vc] = B[vc] * B[vc]
            }
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 7 });
  });

  it('composes through a schedule with split, bind and a replayed trace', () => {
    const text = `
      prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for i, j, k in grid(n, 8, 16) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { Y[vi, vj] = 0.0 }
            Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
          }
        }
      }`;
    const sch = schedule(text);
    const mm = sch.getBlock('mm');
    const [i, j, k] = sch.getLoops(mm);
    const [bi, ti] = sch.split(i!, [null, 4]);
    const [ko, ki] = sch.split(k!, [null, 4]);
    sch.reorder(bi!, ti!, ko!, ki!, j!);
    sch.bind(bi!, 'blockIdx.x');
    sch.bind(ti!, 'threadIdx.x');
    const xs = sch.cacheRead(mm, 0, 'shared');
    sch.computeAt(xs, ko!);
    const yl = sch.cacheWrite(mm, 0, 'local');
    sch.reverseComputeAt(yl, ti!);
    expectSameResults(kernel(text), sch.func, { n: 7 });
    const replayed = replayTrace(kernel(text), 'k', sch.trace);
    expectFunc(replayed.func, printFunc(sch.func));
  });

  describe('refuses', () => {
    const f = (problem: string, fn: () => unknown) => fails(fn, 'compute_at', problem);

    it('moving a stage whose buffer an earlier compute_at shrank', () => {
      const shared = cacheRead(kernel(TILED_MATMUL), 'mm', 0, 'shared', ctx('cache_read'));
      const [, , , , ko, ki] = loops(shared.func, 'mm');
      const g = at(shared.func, shared.block, ko!);
      f(
        `block 'X_shared' indexes 'X_shared' with v0 % 16 in dimension 0; the block can move only when each index is one iterator plus an offset \\(a stage whose buffer compute_at has shrunk to a tile cannot move again\\)`,
        () => at(g, 'X_shared', ki!),
      );
    });

    it('a loop around the block itself', () => {
      const g = kernel(MATMUL);
      f(`loop 'k' is around block 'mm'; the block can only move under a loop outside its own nest`, () =>
        at(g, 'mm', loops(g, 'mm')[2]!),
      );
    });

    it('a block writing a kernel output', () => {
      const g = kernel(STENCIL);
      f(
        `block 'C' writes 'C', an output of the kernel; under loop 'i' it would compute only the part the consumers there read`,
        () => at(g, 'C', loops(g, 'B')[0]!),
      );
    });

    it('a consumer outside the loop', () => {
      const g = legalizedSoftmax();
      f(
        `block 'T_softmax_expsum' reads 'T_softmax_max' but is not under loop 'i'; compute_at needs every consumer of block 'T_softmax_max' under the loop`,
        () => at(g, 'T_softmax_max', loops(g, 'T_softmax')[0]!),
      );
    });

    it('a block sharing a loop with another block that the target loop is not inside', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4], D: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block D(vd = spatial(i)) { D[vd] = A[vd] }
            block B(vi = spatial(i)) { B[vi] = A[vi] * 2.0 }
          }
          for j in range(4) {
            block C(vc = spatial(j)) { C[vc] = B[vc] }
          }
        }`);
      f(`block 'B' shares loop 'i' with block 'D'; it can only move under a loop inside the loops it shares`, () =>
        at(g, 'B', loops(g, 'C')[0]!),
      );
    });

    it('a consumer that runs first', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] }
          }
        }`);
      f(`block 'C' reads 'B' before block 'B' writes it`, () => at(g, 'B', loops(g, 'C')[0]!));
    });

    it('a buffer with a second writer', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] }
          }
          for j_1 in range(2) {
            block B2(vi_1 = spatial(j_1)) { B[vi_1] = 0.0 }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(`'B' is also written by block 'B2'; compute_at needs a single producer`, () => at(g, 'B', loops(g, 'C')[0]!));
    });

    it('an input written between the block and the loop', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] * 2.0 }
          }
          for j_1 in range(4) {
            block A2(va = spatial(j_1)) { A[va] = 0.0 }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(`block 'A2' writes 'A', which block 'B' reads, between its place and loop 'i'; moved, it would read the new values`, () =>
        at(g, 'B', loops(g, 'C')[0]!),
      );
    });

    it('a block writing several elements per instance', () => {
      const g = kernel(`
        prim_func k(A: f32[8], C: f32[8]) {
          alloc B: f32[8]
          for j in range(4) {
            block B(vi = spatial(j)) {
              for t in range(2) { B[vi * 2 + t] = A[vi * 2 + t] }
            }
          }
          for i in range(8) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(
        `one instance of block 'B' touches 2 elements of 'B' in dimension 0; the block must touch one element per dimension to be moved`,
        () => at(g, 'B', loops(g, 'C')[0]!),
      );
    });

    it('an index that is not an iterator plus an offset', () => {
      const g = kernel(`
        prim_func k(A: f32[8], C: f32[4]) {
          alloc B: f32[8]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi * 2] = A[vi] }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc * 2] }
          }
        }`);
      f(
        `block 'B' indexes 'B' with vi \\* 2 in dimension 0; the block can move only when each index is one iterator plus an offset`,
        () => at(g, 'B', loops(g, 'C')[0]!),
      );
    });
  });
});

describe('reverse_compute_at', () => {
  it('copies a thread’s matmul accumulators back right after its reduction', () => {
    const f = kernel(TILED_MATMUL);
    const w = cacheWrite(f, 'mm', 0, 'local', ctx('cache_write'));
    const [, , , tj] = loops(w.func, 'mm');
    const g = reverseAt(w.func, w.block, tj!);
    expectFunc(
      g,
      `prim_func k(X: f32[32, 16], W: f32[16, 32], Y: f32[32, 32]) {
        for bi in thread_binding(2, "blockIdx.y") {
          for bj in thread_binding(4, "blockIdx.x") {
            for ti in thread_binding(4, "threadIdx.y") {
              for tj in thread_binding(8, "threadIdx.x") {
                alloc Y_local: f32[4, 1] local
                for ko, ki, ii in grid(4, 4, 4) {
                  block mm(vi = spatial(32, bi * 16 + ti * 4 + ii), vj = spatial(32, bj * 8 + tj), vk = reduce(16, ko * 4 + ki)) {
                    init { Y_local[vi % 4, 0] = 0.0 }
                    Y_local[vi % 4, 0] = Y_local[vi % 4, 0] + X[vi, vk] * W[vk, vj]
                  }
                }
                for ax0 in range(4) {
                  block Y_local(v0 = spatial(32, bi * 16 + ti * 4 + ax0), v1 = spatial(32, bj * 8 + tj)) {
                    Y[v0, v1] = Y_local[v0 % 4, 0]
                  }
                }
              }
            }
          }
        }
      }`,
    );
    expectSameResults(f, g);
  });

  it('leaves the accumulator whole when the reduction spans the loop', () => {
    const w = cacheWrite(kernel(MATMUL), 'mm', 0, 'local', ctx('cache_write'));
    const [, , k] = loops(w.func, 'mm');
    const g = reverseAt(w.func, w.block, k!);
    expectFunc(
      g,
      `prim_func k(X: f32[16, 8], W: f32[8, 4], Y: f32[16, 4]) {
        alloc Y_local: f32[16, 4] local
        for i, j, k in grid(16, 4, 8) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { Y_local[vi, vj] = 0.0 }
            Y_local[vi, vj] = Y_local[vi, vj] + X[vi, vk] * W[vk, vj]
          }
          block Y_local(v0 = spatial(i), v1 = spatial(j)) {
            Y[v0, v1] = Y_local[v0, v1]
          }
        }
      }`,
    );
    expectSameResults(kernel(MATMUL), g);
  });

  it('follows a tiled producer, at its outer and at its inner loop', () => {
    const f = kernel(TILED_ADD_RELU);
    const [io, ii] = loops(f, 'B');
    const outer = reverseAt(f, 'C', io!);
    expectFunc(
      outer,
      `prim_func k(A: f32[n], C: f32[n]) {
        alloc B: f32[n]
        for io in range((n + 3) // 4) {
          for ii in range(4) {
            block B(vi = spatial(n, io * 4 + ii)) {
              where io * 4 + ii < n
              B[vi] = A[vi] + 1.0
            }
          }
          for ax0 in range(4) {
            block C(vc = spatial(n, io * 4 + ax0)) {
              where io * 4 + ax0 < n
              C[vc] = max(B[vc], 0.0)
            }
          }
        }
      }`,
    );
    expectSameResults(f, outer, { n: 7 });
    const inner = reverseAt(f, 'C', ii!);
    expectFunc(
      inner,
      `prim_func k(A: f32[n], C: f32[n]) {
        alloc B: f32[n]
        for io, ii in grid((n + 3) // 4, 4) {
          block B(vi = spatial(n, io * 4 + ii)) {
            where io * 4 + ii < n
            B[vi] = A[vi] + 1.0
          }
          block C(vc = spatial(n, ii + io * 4)) {
            where ii + io * 4 < n
            C[vc] = max(B[vc], 0.0)
          }
        }
      }`,
    );
    expectSameResults(f, inner, { n: 9 });
  });

  describe('refuses', () => {
    const f = (problem: string, fn: () => unknown) => fails(fn, 'reverse_compute_at', problem);

    it('a block without a producer', () => {
      const g = kernel(STENCIL);
      f(`block 'B' reads no buffer another block writes; it has no producer to follow`, () =>
        reverseAt(g, 'B', loops(g, 'C')[0]!),
      );
    });

    it('a producer writing a strided set per iteration (every 2nd element: its box holds elements not yet written)', () => {
      const g = kernel(`
        prim_func k(A: f32[16], C: f32[16]) {
          alloc B: f32[16]
          for t, c in grid(2, 8) {
            block B(vi = spatial(16, c * 2 + t)) { B[vi] = A[vi] * 2.0 }
          }
          for i in range(16) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(
        `block 'B' writes 8 elements of 'B' per iteration of loop 't', spread over a box of 15: block 'C' would read elements no producer wrote there`,
        () => reverseAt(g, 'C', loops(g, 'B')[0]!),
      );
      // Per iteration of the inner loop one element: a dense box, the move is fine.
      expectSameResults(g, reverseAt(g, 'C', loops(g, 'B')[1]!));
    });

    it('a producer outside the loop', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          alloc D: f32[4]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] }
          }
          for j_1 in range(4) {
            block D(vd = spatial(j_1)) { D[vd] = A[vd] }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc] + D[vc] }
          }
        }`);
      f(
        `block 'B' writes 'B' but is not under loop 'j_1'; reverse_compute_at needs every producer of block 'C' under the loop`,
        () => reverseAt(g, 'C', loops(g, 'D')[0]!),
      );
    });

    it('a reduction that would be split across iterations', () => {
      const g = kernel(`
        prim_func k(A: f32[4, 8], S: f32[4]) {
          alloc B: f32[4, 8]
          for i, ko, ki in grid(4, 2, 4) {
            block B(vi = spatial(i), vj = spatial(8, ko * 4 + ki)) { B[vi, vj] = A[vi, vj] * A[vi, vj] }
          }
          for i_1, k in grid(4, 8) {
            block S(vs = spatial(i_1), vk = reduce(k)) {
              init { S[vs] = 0.0 }
              S[vs] = S[vs] + B[vs, vk]
            }
          }
        }`);
      f(`under loop 'ko' the reduction of block 'S' over iterator 'vk' would be split across iterations of the loop`, () =>
        reverseAt(g, 'S', loops(g, 'B')[1]!),
      );
    });

    it('producers that no longer cover the consumer’s domain', () => {
      const g = kernel(`
        prim_func k(A: f32[8], C: f32[8]) {
          alloc B: f32[8]
          for j in range(4) {
            block B(vi = spatial(8, j)) { B[vi] = A[vi] }
          }
          for i in range(8) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(
        `under loop 'j' block 'C' would no longer cover its domain over iterator 'vc': its producers there do not write every element it reads`,
        () => reverseAt(g, 'C', loops(g, 'B')[0]!),
      );
    });

    it('a block in between that reads the output', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4], D: f32[4]) {
          alloc B: f32[4]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] }
          }
          for j_1 in range(4) {
            block D(vd = spatial(j_1)) { D[vd] = C[vd] }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = B[vc] }
          }
        }`);
      f(`block 'D' accesses 'C', which block 'C' writes; moved under loop 'j', the block would write it earlier`, () =>
        reverseAt(g, 'C', loops(g, 'B')[0]!),
      );
    });

    it('a block reading what it writes', () => {
      const g = kernel(`
        prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for j in range(4) {
            block B(vi = spatial(j)) { B[vi] = A[vi] }
          }
          for i in range(4) {
            block C(vc = spatial(i)) { C[vc] = C[vc] + B[vc] }
          }
        }`);
      f(`block 'C' reads 'C', which it writes`, () => reverseAt(g, 'C', loops(g, 'B')[0]!));
    });
  });
});
