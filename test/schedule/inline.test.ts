import { describe, expect, it } from 'vitest';
import type { PrimitiveContext } from '../../src/schedule/errors.ts';
import { computeInline, reverseComputeInline } from '../../src/schedule/primitives/inline.ts';
import { expectFunc, expectSameResults, kernel } from '../helpers/prim-funcs.ts';

const ctx = (primitive: string): PrimitiveContext => ({ kernel: 'k', primitive });
const inline = (text: string, block: string) => computeInline(kernel(text), block, ctx('compute_inline'));
const reverse = (text: string, block: string) => reverseComputeInline(kernel(text), block, ctx('reverse_compute_inline'));
const fails = (fn: () => unknown, primitive: string, problem: string): void => {
  expect(fn).toThrow(new RegExp(`K7201: schedule of kernel 'k': ${primitive}: ${problem}`));
};

/** add then relu, two blocks with an intermediate the kernel allocates. */
const ADD_RELU = `
prim_func k(A: f32[n, 8], C: f32[n, 8]) {
  alloc B: f32[n, 8]
  for i, j in grid(n, 8) {
    block B(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] + 1.0
    }
  }
  for i_1, j_1 in grid(n, 8) {
    block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
      C[vi_1, vj_1] = max(B[vi_1, vj_1], 0.0)
    }
  }
}`;

describe('compute_inline', () => {
  it('inlines add into relu and drops the intermediate', () => {
    const f = kernel(ADD_RELU);
    const g = computeInline(f, 'B', ctx('compute_inline'));
    expectFunc(
      g,
      `prim_func k(A: f32[n, 8], C: f32[n, 8]) {
        for i_1, j_1 in grid(n, 8) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
            C[vi_1, vj_1] = max(A[vi_1, vj_1] + 1.0, 0.0)
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 5 });
  });

  it('substitutes the iterators by each load’s indices, in every consumer', () => {
    const text = `
      prim_func k(A: f32[4, 4], C: f32[4, 4], D: f32[4]) {
        alloc B: f32[4, 4]
        for i, j in grid(4, 4) {
          block B(vi = spatial(i), vj = spatial(j)) {
            B[vi, vj] = A[vi, vj] * 2.0 - A[vj, vi]
          }
        }
        for i_1, j_1 in grid(4, 4) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
            C[vi_1, vj_1] = B[vj_1, vi_1] + B[vi_1, 3 - vj_1]
          }
        }
        for i_2, k in grid(4, 4) {
          block D(vi_2 = spatial(i_2), vk = reduce(k)) {
            init { D[vi_2] = 0.0 }
            D[vi_2] = D[vi_2] + B[vi_2, vk] * B[vi_2, vk]
          }
        }
      }`;
    const g = inline(text, 'B');
    expectFunc(
      g,
      `prim_func k(A: f32[4, 4], C: f32[4, 4], D: f32[4]) {
        for i_1, j_1 in grid(4, 4) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
            C[vi_1, vj_1] = A[vj_1, vi_1] * 2.0 - A[vi_1, vj_1] + (A[vi_1, 3 - vj_1] * 2.0 - A[3 - vj_1, vi_1])
          }
        }
        for i_2, k in grid(4, 4) {
          block D(vi_2 = spatial(i_2), vk = reduce(k)) {
            init { D[vi_2] = 0.0 }
            D[vi_2] = D[vi_2] + (A[vi_2, vk] * 2.0 - A[vk, vi_2]) * (A[vi_2, vk] * 2.0 - A[vk, vi_2])
          }
        }
      }`,
    );
    // The intermediate's float32 rounding is gone: equal up to rounding.
    expectSameResults(kernel(text), g, {}, 1e-6);
  });

  it('removes the loops the producer leaves empty, keeping those other blocks share', () => {
    const text = `
      prim_func k(A: f32[8], C: f32[8]) {
        alloc B: f32[8]
        for i in range(8) {
          block B(vi = spatial(i)) {
            B[vi] = A[vi] * A[vi]
          }
          block C(vi_1 = spatial(i)) {
            C[vi_1] = B[vi_1] + 1.0
          }
        }
      }`;
    const g = inline(text, 'B');
    expectFunc(
      g,
      `prim_func k(A: f32[8], C: f32[8]) {
        for i in range(8) {
          block C(vi_1 = spatial(i)) {
            C[vi_1] = A[vi_1] * A[vi_1] + 1.0
          }
        }
      }`,
    );
    // The intermediate's float32 rounding is gone: equal up to rounding.
    expectSameResults(kernel(text), g, {}, 1e-6);
  });

  describe('refuses', () => {
    const f = (problem: string, text: string, block = 'B') => fails(() => inline(text, block), 'compute_inline', problem);

    it('a reduction block', () => {
      f(
        `block 'B' is a reduction \\(it has an init\\); only a complete spatial block can be inlined`,
        `prim_func k(A: f32[4, 4], C: f32[4]) {
          alloc B: f32[4]
          for i, k in grid(4, 4) {
            block B(vi = spatial(i), vk = reduce(k)) {
              init { B[vi] = 0.0 }
              B[vi] = B[vi] + A[vi, vk]
            }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('a body that is not one store', () => {
      f(
        `the body of block 'B' is an if, not a single store`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) {
              if vi > 0 { B[vi] = A[vi] }
            }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('an index that is not an iterator', () => {
      f(
        `block 'B' stores to 'B' at index vi \\+ 1; each index must be a distinct iterator of the block`,
        `prim_func k(A: f32[5], C: f32[4]) {
          alloc B: f32[5]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi + 1] = A[vi] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('an iterator that indexes nothing (one element stored several times)', () => {
      f(
        `iterator 'vj' of block 'B' does not index 'B': the block stores to one element several times`,
        `prim_func k(A: f32[4, 4], C: f32[4]) {
          alloc B: f32[4]
          for i, j in grid(4, 4) {
            block B(vi = spatial(i), vj = spatial(j)) { B[vi] = A[vi, vj] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('a block writing a kernel parameter', () => {
      f(
        `'C' is a parameter of the kernel; only a buffer the kernel allocates can be inlined away \\(block 'C'\\)`,
        ADD_RELU,
        'C',
      );
    });

    it('a buffer with a second writer', () => {
      f(
        `'B' is also written by block 'B2'; inlining needs a single producer`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(2) {
            block B2(vi_1 = spatial(i_1)) { B[vi_1] = 0.0 }
          }
          for i_2 in range(4) {
            block C(vi_2 = spatial(i_2)) { C[vi_2] = B[vi_2] }
          }
        }`,
      );
    });

    it('a consumer running before the producer', () => {
      f(
        `block 'C' reads 'B' before block 'B' writes it`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
        }`,
      );
    });

    it('an input overwritten between producer and consumer', () => {
      f(
        `block 'A2' writes 'A' after block 'B' reads it and before a consumer reads 'B'; inlined, the consumer would read the new value`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] * 2.0 }
          }
          for i_1 in range(4) {
            block A2(vi_1 = spatial(i_1)) { A[vi_1] = 0.0 }
          }
          for i_2 in range(4) {
            block C(vi_2 = spatial(i_2)) { C[vi_2] = B[vi_2] }
          }
        }`,
      );
    });

    it('a writer of its inputs in a loop it shares (a later iteration writes after it)', () => {
      f(
        `block 'W' writes 'A', which block 'B' reads, inside loop 'i' around block 'B' too; inlined, a consumer could read a later value`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block W(vw = spatial(i)) { A[3 - vw] = 0.0 }
            block B(vi = spatial(i)) { B[vi] = A[vi] * 2.0 }
          }
          for j in range(4) {
            block C(vc = spatial(j)) { C[vc] = B[vc] }
          }
        }`,
      );
    });

    it('a block reading what it writes', () => {
      f(
        `block 'B' reads 'B', the buffer it writes`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = B[vi] + A[vi] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('an unknown block', () => {
      f(`no block named 'X' \\(the blocks are B, C\\)`, ADD_RELU, 'X');
    });
  });
});

describe('reverse_compute_inline', () => {
  it('folds relu into add, which then writes the output', () => {
    const f = kernel(ADD_RELU);
    const g = reverseComputeInline(f, 'C', ctx('reverse_compute_inline'));
    expectFunc(
      g,
      `prim_func k(A: f32[n, 8], C: f32[n, 8]) {
        for i, j in grid(n, 8) {
          block B(vi = spatial(i), vj = spatial(j)) {
            C[vi, vj] = max(A[vi, vj] + 1.0, 0.0)
          }
        }
      }`,
    );
    expectSameResults(f, g, { n: 3 });
  });

  it('folds a consumer whose batch of one reads element 0 (the fused graph wrote the index as the constant)', () => {
    const f = kernel(`
      prim_func k(A: f32[1, 8], C: f32[1, 8]) {
        alloc B: f32[1, 8]
        for i, j in grid(1, 8) {
          block B(vi = spatial(i), vj = spatial(j)) {
            B[vi, vj] = A[vi, vj] + 1.0
          }
        }
        for i_1, j_1 in grid(1, 8) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
            C[vi_1, vj_1] = max(B[0, vj_1], 0.0)
          }
        }
      }`);
    const g = reverseComputeInline(f, 'C', ctx('reverse_compute_inline'));
    expectFunc(
      g,
      `prim_func k(A: f32[1, 8], C: f32[1, 8]) {
        for i, j in grid(1, 8) {
          block B(vi = spatial(i), vj = spatial(j)) {
            C[0, vj] = max(A[vi, vj] + 1.0, 0.0)
          }
        }
      }`,
    );
    expectSameResults(f, g);
  });

  it('inverts a consumer that reads the intermediate transposed, other inputs included', () => {
    const text = `
      prim_func k(A: f32[8, 4], bias: f32[4], C: f32[4, 8]) {
        alloc B: f32[8, 4]
        for i, j in grid(8, 4) {
          block B(vi = spatial(i), vj = spatial(j)) {
            B[vi, vj] = A[vi, vj] * 2.0
          }
        }
        for i_1, j_1 in grid(4, 8) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
            C[vi_1, vj_1] = B[vj_1, vi_1] + bias[vi_1]
          }
        }
      }`;
    const g = reverse(text, 'C');
    expectFunc(
      g,
      `prim_func k(A: f32[8, 4], bias: f32[4], C: f32[4, 8]) {
        for i, j in grid(8, 4) {
          block B(vi = spatial(i), vj = spatial(j)) {
            C[vj, vi] = A[vi, vj] * 2.0 + bias[vj]
          }
        }
      }`,
    );
    // The intermediate's float32 rounding is gone: equal up to rounding.
    expectSameResults(kernel(text), g, {}, 1e-6);
  });

  it('inverts a consumer that reads at an offset', () => {
    const text = `
      prim_func k(A: f32[10], C: f32[8]) {
        alloc B: f32[10]
        for i in range(8) {
          block B(vi = spatial(2 +: 8, i + 2)) {
            B[vi] = A[vi] - 1.0
          }
        }
        for i_1 in range(8) {
          block C(vi_1 = spatial(i_1)) {
            C[vi_1] = B[vi_1 + 2] * B[vi_1 + 2]
          }
        }
      }`;
    const g = reverse(text, 'C');
    expectFunc(
      g,
      `prim_func k(A: f32[10], C: f32[8]) {
        for i in range(8) {
          block B(vi = spatial(2 +: 8, i + 2)) {
            C[vi - 2] = (A[vi] - 1.0) * (A[vi] - 1.0)
          }
        }
      }`,
    );
    // The intermediate's float32 rounding is gone: equal up to rounding.
    expectSameResults(kernel(text), g, {}, 1e-6);
  });

  describe('refuses', () => {
    const f = (problem: string, text: string, block = 'C') =>
      fails(() => reverse(text, block), 'reverse_compute_inline', problem);
    const chain = (consumerBody: string, cshape = 'f32[4, 4]', extra = '') => `
      prim_func k(A: f32[4, 4], C: ${cshape}${extra}) {
        alloc B: f32[4, 4]
        for i, j in grid(4, 4) {
          block B(vi = spatial(i), vj = spatial(j)) { B[vi, vj] = A[vi, vj] + 1.0 }
        }
        for i_1, j_1 in grid(4, 4) {
          block C(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) { ${consumerBody} }
        }
      }`;

    it('a consumer that reads no produced buffer', () => {
      f(`block 'B' reads no buffer that another block writes; there is no producer to fold it into`, ADD_RELU, 'B');
    });

    it('a consumer reading two produced buffers', () => {
      f(
        `block 'C' reads 2 buffers other blocks write \\('B', 'D'\\); reverse_compute_inline needs exactly one`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          alloc D: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(4) {
            block D(vi_1 = spatial(i_1)) { D[vi_1] = A[vi_1] }
          }
          for i_2 in range(4) {
            block C(vi_2 = spatial(i_2)) { C[vi_2] = B[vi_2] + D[vi_2] }
          }
        }`,
      );
    });

    it('a broadcast (an iterator that does not index the intermediate)', () => {
      f(
        `iterator 'vj_1' of block 'C' does not index 'B': one element of it feeds several outputs, so the mapping cannot be inverted`,
        chain('C[vi_1, vj_1] = B[vi_1, 0]'),
      );
    });

    it('an index that is not an iterator plus an offset', () => {
      f(
        `block 'C' reads 'B' at index vi_1 \\+ vj_1 \\(dimension 0\\); reverse_compute_inline needs each index to be a distinct iterator plus an offset, so the mapping can be inverted`,
        chain('C[vi_1, vj_1] = B[vi_1 + vj_1, vj_1]'),
      );
    });

    it('different elements of the intermediate', () => {
      f(
        `block 'C' reads 'B' at different indices; each must be the same element`,
        chain('C[vi_1, vj_1] = B[vi_1, vj_1] + B[vj_1, vi_1]'),
      );
    });

    it('a producer writing elements the consumer does not read', () => {
      f(
        `block 'B' writes elements of 'B' \\(dimension 0\\) that block 'C' does not read; the folded producer would write outputs the consumer never wrote`,
        `prim_func k(A: f32[8], C: f32[4]) {
          alloc B: f32[8]
          for i in range(8) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('a second reader of the intermediate', () => {
      f(
        `block 'D' also reads 'B'; after reverse_compute_inline nothing would write it`,
        `prim_func k(A: f32[4], C: f32[4], D: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
          for i_2 in range(4) {
            block D(vi_2 = spatial(i_2)) { D[vi_2] = B[vi_2] }
          }
        }`,
      );
    });

    it('a reduction producer', () => {
      f(
        `block 'B' is a reduction \\(it has an init\\); only a complete spatial block can be the producer`,
        `prim_func k(A: f32[4, 4], C: f32[4]) {
          alloc B: f32[4]
          for i, k in grid(4, 4) {
            block B(vi = spatial(i), vk = reduce(k)) {
              init { B[vi] = 0.0 }
              B[vi] = B[vi] + A[vi, vk]
            }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('a consumer with a predicate', () => {
      f(
        `block 'C' has a predicate; reverse_compute_inline needs a block that covers its whole domain`,
        `prim_func k(A: f32[4], C: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(6) {
            block C(vi_1 = spatial(4, i_1)) {
              where i_1 < 4
              C[vi_1] = B[vi_1]
            }
          }
        }`,
      );
    });

    it('a block in between that reads the output', () => {
      f(
        `block 'D', between the producer and block 'C', accesses 'C', which would be written earlier`,
        `prim_func k(A: f32[4], C: f32[4], D: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_2 in range(4) {
            block D(vi_2 = spatial(i_2)) { D[vi_2] = C[vi_2] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });

    it('a block touching the output in a loop shared with the producer', () => {
      f(
        `block 'D' shares loop 'i' with block 'B' and accesses what block 'C' reads or writes; folded, the order between them would change`,
        `prim_func k(A: f32[4], C: f32[4], D: f32[4]) {
          alloc B: f32[4]
          for i in range(4) {
            block D(vd = spatial(i)) { D[vd] = C[3 - vd] }
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for j in range(4) {
            block C(vc = spatial(j)) { C[vc] = B[vc] }
          }
        }`,
      );
    });

    it('a producer writing a kernel parameter', () => {
      f(
        `'B' is a parameter of the kernel; only a buffer the kernel allocates can be inlined away \\(block 'C'\\)`,
        `prim_func k(A: f32[4], B: f32[4], C: f32[4]) {
          for i in range(4) {
            block B(vi = spatial(i)) { B[vi] = A[vi] }
          }
          for i_1 in range(4) {
            block C(vi_1 = spatial(i_1)) { C[vi_1] = B[vi_1] }
          }
        }`,
      );
    });
  });
});
