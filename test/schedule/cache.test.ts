import { describe, expect, it } from 'vitest';
import type { StorageScope } from '../../src/ir/tir/buffer.ts';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { cacheRead, cacheWrite, padRead } from '../../src/schedule/primitives/cache.ts';
import { getLoops } from '../../src/schedule/primitives/get.ts';
import { expectFunc, expectSameResults, kernel, printFunc } from '../helpers/prim-funcs.ts';
import { MATMUL_STATIC as MATMUL } from './kernels.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const read = (text: string, block: string, index: number, scope: StorageScope) =>
  cacheRead(kernel(text), block, index, scope, ctx('cache_read'));
const write = (text: string, block: string, index: number, scope: StorageScope) =>
  cacheWrite(kernel(text), block, index, scope, ctx('cache_write'));
const fails = (fn: () => unknown, primitive: string, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': ${primitive}: ${problem}`));
};

/** A split with a bounds predicate: the staged region must stop at the buffer's end. */
const SCALE = `
prim_func k(A: f32[n], B: f32[n]) {
  for i0, i1 in grid((n + 3) // 4, 4) {
    block B(vi = spatial(n, i0 * 4 + i1)) {
      where i0 * 4 + i1 < n
      B[vi] = A[vi] * 2.0
    }
  }
}`;

describe('cache_read', () => {
  it('stages a matmul input in workgroup memory before its launch', () => {
    const r = read(MATMUL, 'mm', 0, 'shared');
    expect(r.block).toBe('X_shared');
    expectFunc(
      r.func,
      `prim_func k(X: f32[16, 8], W: f32[8, 4], Y: f32[16, 4]) {
        alloc X_shared: f32[16, 8] shared
        for ax0, ax1 in grid(16, 8) {
          block X_shared(v0 = spatial(ax0), v1 = spatial(ax1)) {
            X_shared[v0, v1] = X[v0, v1]
          }
        }
        for i, j, k in grid(16, 4, 8) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { Y[vi, vj] = 0.0 }
            Y[vi, vj] = Y[vi, vj] + X_shared[vi, vk] * W[vk, vj]
          }
        }
      }`,
    );
    expectSameResults(kernel(MATMUL), r.func);
  });

  it('stages only the region the block reads, shifted to start at zero', () => {
    const text = `
      prim_func k(A: f32[8], C: f32[4]) {
        for i in range(4) {
          block C(vi = spatial(i)) {
            C[vi] = A[vi + 2] + A[vi + 3]
          }
        }
      }`;
    const r = read(text, 'C', 0, 'local');
    expectFunc(
      r.func,
      `prim_func k(A: f32[8], C: f32[4]) {
        alloc A_local: f32[5] local
        for ax0 in range(5) {
          block A_local(v0 = spatial(8, ax0 + 2)) {
            A_local[v0 - 2] = A[v0]
          }
        }
        for i in range(4) {
          block C(vi = spatial(i)) {
            C[vi] = A_local[vi] + A_local[vi + 1]
          }
        }
      }`,
    );
    expectSameResults(kernel(text), r.func);
  });

  it('stops the staged region at the end of the buffer under a bounds predicate', () => {
    const r = read(SCALE, 'B', 0, 'shared');
    expectFunc(
      r.func,
      `prim_func k(A: f32[n], B: f32[n]) {
        alloc A_shared: f32[n] shared
        for ax0 in range(n) {
          block A_shared(v0 = spatial(ax0)) {
            A_shared[v0] = A[v0]
          }
        }
        for i0, i1 in grid((n + 3) // 4, 4) {
          block B(vi = spatial(n, i0 * 4 + i1)) {
            where i0 * 4 + i1 < n
            B[vi] = A_shared[vi] * 2.0
          }
        }
      }`,
    );
    expectSameResults(kernel(SCALE), r.func, { n: 7 });
  });

  it('stages right after the writer when one in the same nest writes the buffer (TVM’s placement)', () => {
    const text = `
      prim_func k(A: f32[8, 4], C: f32[8, 4]) {
        alloc T: f32[8, 4]
        for i in range(8) {
          for j in range(4) {
            block T(vi = spatial(i), vj = spatial(j)) { T[vi, vj] = A[vi, vj] + 1.0 }
          }
          for j_1 in range(4) {
            block C(vi_1 = spatial(i), vj_1 = spatial(j_1)) { C[vi_1, vj_1] = T[vi_1, 3 - vj_1] * 2.0 }
          }
        }
      }`;
    const r = read(text, 'C', 0, 'local');
    // The stage covers one row (the loop below the insertion point relaxed); the row's position stays in the index.
    expectFunc(
      r.func,
      `prim_func k(A: f32[8, 4], C: f32[8, 4]) {
        alloc T: f32[8, 4]
        alloc T_local: f32[8, 4] local
        for i in range(8) {
          for j in range(4) {
            block T(vi = spatial(i), vj = spatial(j)) { T[vi, vj] = A[vi, vj] + 1.0 }
          }
          for ax0, ax1 in grid(1, 4) {
            block T_local(v0 = spatial(8, i + ax0), v1 = spatial(ax1)) { T_local[v0, v1] = T[v0, v1] }
          }
          for j_1 in range(4) {
            block C(vi_1 = spatial(i), vj_1 = spatial(j_1)) { C[vi_1, vj_1] = T_local[vi_1, 3 - vj_1] * 2.0 }
          }
        }
      }`,
    );
    expectSameResults(kernel(text), r.func);
  });

  it('names a second stage of the same buffer apart', () => {
    const once = read(MATMUL, 'mm', 0, 'shared');
    const twice = cacheRead(once.func, 'mm', 0, 'shared', ctx('cache_read'));
    expect(twice.block).toBe('X_shared_shared');
    const thrice = cacheRead(once.func, 'X_shared', 0, 'shared', ctx('cache_read'));
    expect(thrice.block).toBe('X_shared_1');
    expectSameResults(kernel(MATMUL), thrice.func);
  });

  describe('refuses', () => {
    const f = (problem: string, fn: () => unknown) => fails(fn, 'cache_read', problem);

    it('a read index out of range', () => {
      f(`read index 2 is out of range: block 'mm' reads 2 buffers \\(0: 'X', 1: 'W'\\)`, () => read(MATMUL, 'mm', 2, 'shared'));
    });

    it('an unknown scope', () => {
      f(`unknown storage scope 'texture' \\(expected global, shared, local\\)`, () =>
        read(MATMUL, 'mm', 0, 'texture' as StorageScope),
      );
    });

    it('a block that also writes the buffer', () => {
      f(`block 'A' reads and writes 'A'; a read cache would not see its own writes`, () =>
        read(
          `prim_func k(A: f32[8]) {
            for i in range(7) {
              block A(vi = spatial(i)) { A[vi + 1] = A[vi] * 2.0 }
            }
          }`,
          'A',
          0,
          'local',
        ),
      );
    });

    it('two writers in the block’s nest', () => {
      f(`2 blocks in the loop nest of block 'C' write 'T'; cache_read needs at most one`, () =>
        read(
          `prim_func k(A: f32[8], C: f32[8]) {
            alloc T: f32[8]
            for i in range(8) {
              block T(vi = spatial(i)) { T[vi] = A[vi] + 1.0 }
              block T2(vi_2 = spatial(i)) { T[vi_2] = T[vi_2] * 2.0 }
              block C(vi_1 = spatial(i)) { C[vi_1] = T[vi_1] * 2.0 }
            }
          }`,
          'C',
          0,
          'local',
        ),
      );
    });

    it('a writer that does not run first in a sequence it shares with the block', () => {
      f(
        `block 'T', which writes 'T', does not run before block 'C' in a sequence they share; the copy has no place between them`,
        () =>
          read(
            `prim_func k(A: f32[8], C: f32[8]) {
              alloc T: f32[8]
              for i in range(8) {
                block C(vi_1 = spatial(i)) { C[vi_1] = T[vi_1] * 2.0 }
                block T(vi = spatial(i)) { T[vi] = A[vi] + 1.0 }
              }
            }`,
            'C',
            0,
            'local',
          ),
      );
    });
  });
});

describe('cache_write', () => {
  it('accumulates a matmul in thread memory and copies it back after the launch', () => {
    const r = write(MATMUL, 'mm', 0, 'local');
    expect(r.block).toBe('Y_local');
    expectFunc(
      r.func,
      `prim_func k(X: f32[16, 8], W: f32[8, 4], Y: f32[16, 4]) {
        alloc Y_local: f32[16, 4] local
        for i, j, k in grid(16, 4, 8) {
          block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
            init { Y_local[vi, vj] = 0.0 }
            Y_local[vi, vj] = Y_local[vi, vj] + X[vi, vk] * W[vk, vj]
          }
        }
        for ax0, ax1 in grid(16, 4) {
          block Y_local(v0 = spatial(ax0), v1 = spatial(ax1)) {
            Y[v0, v1] = Y_local[v0, v1]
          }
        }
      }`,
    );
    expectSameResults(kernel(MATMUL), r.func);
  });

  it('copies back only up to the end of the buffer under a bounds predicate', () => {
    const r = write(SCALE, 'B', 0, 'local');
    expectFunc(
      r.func,
      `prim_func k(A: f32[n], B: f32[n]) {
        alloc B_local: f32[n] local
        for i0, i1 in grid((n + 3) // 4, 4) {
          block B(vi = spatial(n, i0 * 4 + i1)) {
            where i0 * 4 + i1 < n
            B_local[vi] = A[vi] * 2.0
          }
        }
        for ax0 in range(n) {
          block B_local(v0 = spatial(ax0)) {
            B[v0] = B_local[v0]
          }
        }
      }`,
    );
    expectSameResults(kernel(SCALE), r.func, { n: 9 });
  });

  describe('refuses', () => {
    const f = (problem: string, fn: () => unknown) => fails(fn, 'cache_write', problem);

    it('a write index out of range', () => {
      f(`write index 1 is out of range: block 'mm' writes 1 buffer \\(0: 'Y'\\)`, () => write(MATMUL, 'mm', 1, 'local'));
    });

    it('a buffer with another writer', () => {
      f(`'Y' is also written by block 'fill'; copying the cache back would overwrite its values`, () =>
        write(
          `prim_func k(X: f32[4], Y: f32[8]) {
            for i in range(4) {
              block fill(vi = spatial(i)) { Y[vi + 4] = 0.0 }
            }
            for i_1 in range(4) {
              block copy(vi_1 = spatial(i_1)) { Y[vi_1] = X[vi_1] }
            }
          }`,
          'copy',
          0,
          'local',
        ),
      );
    });

    it('a block that reads its output other than as an accumulator', () => {
      f(
        `block 'acc' reads 'Y' other than as the accumulator of its reduction; a write cache would not hold the values written before`,
        () =>
          write(
            `prim_func k(X: f32[4], Y: f32[4]) {
              for i in range(4) {
                block acc(vi = spatial(i)) { Y[vi] = Y[vi] + X[vi] }
              }
            }`,
            'acc',
            0,
            'local',
          ),
      );
    });

    it('a reader in the same nest', () => {
      f(`block 'D', in the same loop nest as block 'C', reads 'C'; the copy back after the nest would come too late for it`, () =>
        write(
          `prim_func k(A: f32[8], C: f32[8], D: f32[8]) {
            for i in range(8) {
              block C(vi = spatial(i)) { C[vi] = A[vi] + 1.0 }
              block D(vi_1 = spatial(i)) { D[vi_1] = C[vi_1] * 2.0 }
            }
          }`,
          'C',
          0,
          'local',
        ),
      );
    });
  });
});

/** A one-dimensional convolution per channel over its padding: the guard keeps the window inside A. */
const PADDED = `
prim_func k(A: f32[2, 6], W: f32[3], C: f32[2, 6]) {
  for c, i, r in grid(2, 6, 3) {
    block C(vc = spatial(c), vi = spatial(i), vr = reduce(r)) {
      init { C[vc, vi] = 0.0 }
      if vi + vr - 1 >= 0 && vi + vr - 1 < 6 {
        C[vc, vi] = C[vc, vi] + A[vc, vi + vr - 1] * W[vr]
      }
    }
  }
}`;

describe('pad_read', () => {
  const pad = (multiple: number, loop?: string) => {
    const f = kernel(PADDED);
    const v = loop === undefined ? undefined : getLoops(f, 'C', ctx('pad_read')).find((x) => x.name === loop);
    return padRead(f, 'C', 0, 'local', multiple, v, ctx('pad_read'));
  };

  it('stages the input with its padding as zeros before the launch and drops the guard', () => {
    const r = pad(1);
    expect(r.block).toBe('A_local');
    expectFunc(
      r.func,
      `prim_func k(A: f32[2, 6], W: f32[3], C: f32[2, 6]) {
        alloc A_local: f32[2, 8] local
        for ax0, ax1 in grid(2, 8) {
          block A_local(v0 = spatial(ax0), v1 = spatial(-1 +: 8, ax1 - 1)) {
            if v1 >= 0 && v1 < 6 {
              A_local[v0, v1 + 1] = A[v0, v1]
            } else {
              A_local[v0, v1 + 1] = 0.0
            }
          }
        }
        for c, i, r in grid(2, 6, 3) {
          block C(vc = spatial(c), vi = spatial(i), vr = reduce(r)) {
            init { C[vc, vi] = 0.0 }
            C[vc, vi] = C[vc, vi] + A_local[vc, vi + vr] * W[vr]
          }
        }
      }`,
    );
    expectSameResults(kernel(PADDED), r.func);
  });

  it('under a loop stages one iteration’s plane, its last axis from and to multiples of the vector', () => {
    const r = pad(4, 'c');
    // Columns -4..7: every group of 4 lies wholly inside A's row (0..3) or wholly in the padding.
    expectFunc(
      r.func,
      `prim_func k(A: f32[2, 6], W: f32[3], C: f32[2, 6]) {
        for c in range(2) {
          alloc A_local: f32[1, 12] local
          for ax0, ax1 in grid(1, 12) {
            block A_local(v0 = spatial(2, c + ax0), v1 = spatial(-4 +: 12, ax1 - 4)) {
              if v1 >= 0 && v1 < 6 {
                A_local[0, v1 + 4] = A[v0, v1]
              } else {
                A_local[0, v1 + 4] = 0.0
              }
            }
          }
          for i, r in grid(6, 3) {
            block C(vc = spatial(c), vi = spatial(i), vr = reduce(r)) {
              init { C[vc, vi] = 0.0 }
              C[vc, vi] = C[vc, vi] + A_local[0, vi + vr + 3] * W[vr]
            }
          }
        }
      }`,
    );
    expectSameResults(kernel(PADDED), r.func);
  });

  it('keeps a guard the padding does not answer', () => {
    // The window is inside A along the rows (no padding there): the row test stays, the column test goes.
    const text = `
      prim_func k(A: f32[4, 6], C: f32[4, 6]) {
        for i, j, r in grid(4, 6, 2) {
          block C(vi = spatial(i), vj = spatial(j), vr = reduce(r)) {
            init { C[vi, vj] = 0.0 }
            if vi < 3 && vj + vr - 1 >= 0 {
              C[vi, vj] = C[vi, vj] + A[vi, vj + vr - 1] * 2.0
            }
          }
        }
      }`;
    const r = padRead(kernel(text), 'C', 0, 'local', 1, undefined, ctx('pad_read'));
    expect(printFunc(r.func)).toMatch(/if vi < 3 \{/);
    expectSameResults(kernel(text), r.func);
  });

  describe('refuses', () => {
    it('a loop that is not around the block', () => {
      const f = kernel(`${PADDED.replace('prim_func k(', 'prim_func k(D: f32[3], ').replace(/\n}$/, '')}
  for t in range(3) {
    block D(vt = spatial(t)) { D[vt] = 1.0 }
  }
}`);
      const t = getLoops(f, 'D', ctx('pad_read'))[0];
      fails(() => padRead(f, 'C', 0, 'local', 4, t, ctx('pad_read')), 'pad_read', "loop 't' is not around block 'C'");
    });
    it('a multiple below 1', () => fails(() => pad(0), 'pad_read', 'multiple must be a whole number >= 1, not 0'));
  });
});
