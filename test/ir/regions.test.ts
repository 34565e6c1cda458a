/**
 * Read/write region inference of blocks. Each case is a Before module whose
 * blocks declare no regions (the parser infers them with inferBlockRegions)
 * and an Expected module that spells the regions out; the two must be
 * structurally equal.
 */
import { describe, expect, test } from 'vitest';
import { type IRModule } from '../../src/ir/module.ts';
import { load, type PrimExpr, primVar } from '../../src/ir/prim/expr.ts';
import { findMismatch } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printPrimExpr } from '../../src/ir/text/printer.ts';
import { buffer } from '../../src/ir/tir/buffer.ts';
import { inferBlockRegions } from '../../src/ir/tir/regions.ts';
import { block, type BufferRegion, collectBlocks, forLoop, iterVar, range, store } from '../../src/ir/tir/stmt.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';

function show(regions: readonly BufferRegion[]): string {
  const dim = (min: PrimExpr, extent: PrimExpr): string =>
    extent.kind === 'int' && extent.value === 1 ? printPrimExpr(min) : `${printPrimExpr(min)} +: ${printPrimExpr(extent)}`;
  return regions.map((r) => `${r.buffer.name}[${r.region.map((x) => dim(x.min, x.extent)).join(', ')}]`).join(', ');
}

/** Every block's inferred regions, for failure messages. */
function inferred(m: IRModule): string {
  const lines: string[] = [];
  for (const f of m.functions.values()) {
    if (f.kind !== 'prim_func') continue;
    for (const r of collectBlocks(f.body))
      lines.push(`block ${r.block.name}: reads(${show(r.block.reads)}) writes(${show(r.block.writes)})`);
  }
  return lines.join('\n');
}

/** The regions inferred for `before` are those `expected` declares; both modules are well-formed. */
function expectRegions(before: string, expected: string): void {
  const b = parseModule(before, { file: 'before.kir' });
  const e = parseModule(expected, { file: 'expected.kir' });
  const mismatch = findMismatch(e, b);
  expect(
    mismatch,
    mismatch && `at ${mismatch.path}: expected ${mismatch.expected}, found ${mismatch.found}\n${inferred(b)}`,
  ).toBeUndefined();
  expect(verifyModule(b)).toEqual([]);
}

describe('point accesses', () => {
  test('one element read and written per iteration', () => {
    expectRegions(
      `
prim_func f(A: f32[16, 8], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vj] * 2.0 + A[vi, vj]
    }
  }
}`,
      `
prim_func f(A: f32[16, 8], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      reads(A[vi, vj])
      writes(B[vi, vj])
      B[vi, vj] = A[vi, vj] * 2.0 + A[vi, vj]
    }
  }
}`,
    );
  });

  test('transposed and offset indices, loads in indices', () => {
    expectRegions(
      `
prim_func f(A: f32[8, 16], I: i64[16], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vj, I[vi]] + A[7 - vj, vi // 2]
    }
  }
}`,
      `
prim_func f(A: f32[8, 16], I: i64[16], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      reads(A[0:8, 0:16], I[vi])
      writes(B[vi, vj])
      B[vi, vj] = A[vj, I[vi]] + A[7 - vj, vi // 2]
    }
  }
}`,
    );
  });
});

describe('accesses relaxed over the loops inside the block', () => {
  test('a row read by an inner loop', () => {
    expectRegions(
      `
prim_func f(A: f32[16, 128], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      for k in range(128) {
        B[vi] = B[vi] + A[vi, k]
      }
    }
  }
}`,
      `
prim_func f(A: f32[16, 128], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      reads(B[vi], A[vi, 0:128])
      writes(B[vi])
      for k in range(128) {
        B[vi] = B[vi] + A[vi, k]
      }
    }
  }
}`,
    );
  });

  test('strides, offsets, negative coefficients, symbolic extents', () => {
    expectRegions(
      `
prim_func f(A: f32[4, 128], B: f32[4, 128], C: f32[4, n], D: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      for k in range(64) {
        D[vi] = A[vi, k * 2]
      }
      for k in range(2, 10) {
        D[vi] = B[vi, 127 - k * 3]
      }
      for k in range(n) {
        D[vi] = C[vi, k]
      }
    }
  }
}`,
      `
prim_func f(A: f32[4, 128], B: f32[4, 128], C: f32[4, n], D: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      reads(A[vi, 0:127], B[vi, 100:122], C[vi, 0:n])
      writes(D[vi])
      for k in range(64) {
        D[vi] = A[vi, k * 2]
      }
      for k in range(2, 10) {
        D[vi] = B[vi, 127 - k * 3]
      }
      for k in range(n) {
        D[vi] = C[vi, k]
      }
    }
  }
}`,
    );
  });

  test('a tile: two inner loops over a block of the iterators', () => {
    expectRegions(
      `
prim_func f(A: f32[64, 64], B: f32[16, 16]) {
  for i, j in grid(16, 16) {
    block b(vi = spatial(i), vj = spatial(j)) {
      for ki, kj in grid(4, 4) {
        B[vi, vj] = B[vi, vj] + A[vi * 4 + ki, vj * 4 + kj]
      }
    }
  }
}`,
      `
prim_func f(A: f32[64, 64], B: f32[16, 16]) {
  for i, j in grid(16, 16) {
    block b(vi = spatial(i), vj = spatial(j)) {
      reads(B[vi, vj], A[vi * 4 +: 4, vj * 4 +: 4])
      writes(B[vi, vj])
      for ki, kj in grid(4, 4) {
        B[vi, vj] = B[vi, vj] + A[vi * 4 + ki, vj * 4 + kj]
      }
    }
  }
}`,
    );
  });

  test('a triangular nest: inner loop ends depending on an outer loop', () => {
    expectRegions(
      `
prim_func f(A: f32[4, 8], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      for a in range(4) {
        for c in range(a, 8) {
          B[vi] = A[vi, c]
        }
      }
    }
  }
}`,
      `
prim_func f(A: f32[4, 8], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      reads(A[vi, 0:8])
      writes(B[vi])
      for a in range(4) {
        for c in range(a, 8) {
          B[vi] = A[vi, c]
        }
      }
    }
  }
}`,
    );
  });

  test('indices through let-bound variables', () => {
    expectRegions(
      `
prim_func f(A: f32[4, 32], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      for c in range(8) {
        let t = c * 2 + 1
        B[vi] = A[vi, t]
      }
    }
  }
}`,
      `
prim_func f(A: f32[4, 32], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      reads(A[vi, 1:16])
      writes(B[vi])
      for c in range(8) {
        let t = c * 2 + 1
        B[vi] = A[vi, t]
      }
    }
  }
}`,
    );
  });
});

describe('several accesses to one buffer', () => {
  test('starts that differ by constants unite into one range', () => {
    expectRegions(
      `
prim_func f(A: f32[18], B: f32[16], C: f32[16, 20]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      B[vi] = A[vi] + A[vi + 1]
      C[vi, vi] = A[vi + 2] + C[vi, vi + 3] + C[vi, vi - 1]
    }
  }
}`,
      `
prim_func f(A: f32[18], B: f32[16], C: f32[16, 20]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      reads(A[vi +: 3], C[vi, vi - 1 +: 5])
      writes(B[vi], C[vi, vi])
      B[vi] = A[vi] + A[vi + 1]
      C[vi, vi] = A[vi + 2] + C[vi, vi + 3] + C[vi, vi - 1]
    }
  }
}`,
    );
  });

  test('starts that differ by variables take the whole dimension', () => {
    expectRegions(
      `
prim_func f(A: f32[16, n], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vi, vi] + A[vi, vj]
    }
  }
}`,
      `
prim_func f(A: f32[16, n], B: f32[16, 8]) {
  for i, j in grid(16, 8) {
    block b(vi = spatial(i), vj = spatial(j)) {
      reads(A[vi, 0:n])
      writes(B[vi, vj])
      B[vi, vj] = A[vi, vi] + A[vi, vj]
    }
  }
}`,
    );
  });

  test('accesses in both branches of an if', () => {
    expectRegions(
      `
prim_func f(A: f32[17], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      if vi > 0 {
        B[vi] = A[vi + 1]
      } else {
        B[vi] = A[vi]
      }
    }
  }
}`,
      `
prim_func f(A: f32[17], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      reads(A[vi +: 2])
      writes(B[vi])
      if vi > 0 {
        B[vi] = A[vi + 1]
      } else {
        B[vi] = A[vi]
      }
    }
  }
}`,
    );
  });
});

describe('non-linear accesses', () => {
  test('non-linear in an inner loop: the whole dimension', () => {
    expectRegions(
      `
prim_func f(A: f32[4, 64], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      for k in range(8) {
        B[vi] = A[vi, k * k] + A[vi, k // 2] + A[vi, k * vi]
      }
    }
  }
}`,
      `
prim_func f(A: f32[4, 64], B: f32[4]) {
  for i in range(4) {
    block b(vi = spatial(i)) {
      reads(A[vi, 0:64])
      writes(B[vi])
      for k in range(8) {
        B[vi] = A[vi, k * k] + A[vi, k // 2] + A[vi, k * vi]
      }
    }
  }
}`,
    );
  });

  test('non-linear in the iterators only: still a point', () => {
    expectRegions(
      `
prim_func f(A: f32[256], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      B[vi] = A[vi * vi]
    }
  }
}`,
      `
prim_func f(A: f32[256], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      reads(A[vi * vi])
      writes(B[vi])
      B[vi] = A[vi * vi]
    }
  }
}`,
    );
  });
});

describe('reductions', () => {
  test('a reduction block does not list what it accumulates into as a read', () => {
    expectRegions(
      `
prim_func mm(X: f32[n, 128], W: f32[128, 64], Y: f32[n, 64]) {
  for i, j, k in grid(n, 64, 128) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}`,
      `
prim_func mm(X: f32[n, 128], W: f32[128, 64], Y: f32[n, 64]) {
  for i, j, k in grid(n, 64, 128) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      reads(X[vi, vk], W[vk, vj])
      writes(Y[vi, vj])
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}`,
    );
  });

  test('without init the accumulator is a read', () => {
    expectRegions(
      `
prim_func acc(X: f32[8], Y: f32[1]) {
  for k in range(8) {
    block acc(vk = reduce(k)) {
      Y[0] = Y[0] + X[vk]
    }
  }
}`,
      `
prim_func acc(X: f32[8], Y: f32[1]) {
  for k in range(8) {
    block acc(vk = reduce(k)) {
      reads(Y[0], X[vk])
      writes(Y[0])
      Y[0] = Y[0] + X[vk]
    }
  }
}`,
    );
  });
});

describe('nested blocks and local buffers', () => {
  test("an inner block's regions, relaxed over the loops between the blocks", () => {
    expectRegions(
      `
prim_func f(A: f32[16, 32], B: f32[16, 32]) {
  for i in range(16) {
    block outer(vi = spatial(i)) {
      for k in range(8) {
        block inner(vi2 = spatial(16, vi), vk = spatial(8, k)) {
          B[vi2, vk * 4] = A[vi2, vk * 4 + 3]
        }
      }
    }
  }
}`,
      `
prim_func f(A: f32[16, 32], B: f32[16, 32]) {
  for i in range(16) {
    block outer(vi = spatial(i)) {
      reads(A[vi, 3:32])
      writes(B[vi, 0:29])
      for k in range(8) {
        block inner(vi2 = spatial(16, vi), vk = spatial(8, k)) {
          reads(A[vi2, vk * 4 + 3])
          writes(B[vi2, vk * 4])
          B[vi2, vk * 4] = A[vi2, vk * 4 + 3]
        }
      }
    }
  }
}`,
    );
  });

  test('a buffer allocated inside the block is not part of its regions', () => {
    expectRegions(
      `
prim_func f(A: f32[16], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      alloc T: f32[1] local
      T[0] = A[vi]
      B[vi] = T[0] * T[0]
    }
  }
}`,
      `
prim_func f(A: f32[16], B: f32[16]) {
  for i in range(16) {
    block b(vi = spatial(i)) {
      reads(A[vi])
      writes(B[vi])
      alloc T: f32[1] local
      T[0] = A[vi]
      B[vi] = T[0] * T[0]
    }
  }
}`,
    );
  });
});

test('inferBlockRegions on a block built with the factories', () => {
  const A = buffer('A', [16, 128]);
  const B = buffer('B', [16]);
  const vi = primVar('vi');
  const k = primVar('k');
  const b = block({
    name: 'b',
    iterVars: [iterVar(vi, range(0, 16), 'spatial')],
    body: forLoop(k, 0, 128, store(B, [vi], load(A, [vi, k]))),
  });
  const r = inferBlockRegions(b);
  expect(show(r.reads)).toBe('A[vi, 0 +: 128]');
  expect(show(r.writes)).toBe('B[vi]');
  expect(r.reads[0]!.buffer).toBe(A);
});

test('an access with the wrong number of indices (ill-formed) covers the whole buffer', () => {
  const A = buffer('A', [16, 8]);
  const B = buffer('B', [16]);
  const vi = primVar('vi');
  const short = { kind: 'load' as const, dtype: 'float32' as const, buffer: A, indices: [vi] };
  const r = inferBlockRegions(
    block({ name: 'b', iterVars: [iterVar(vi, range(0, 16), 'spatial')], body: store(B, [vi], short) }),
  );
  expect(show(r.reads)).toBe('A[0 +: 16, 0 +: 8]');
});
