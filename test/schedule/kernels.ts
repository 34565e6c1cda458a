/** Kernels several schedule test files start from, in the text format. */
import { getPrimFunc } from '../../src/ir/module.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';

/** Y = X · W over a symbolic batch n. */
export const MATMUL = `
prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
  for i, j, k in grid(n, 8, 16) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}`;

/** Y = X · W with static shapes, small enough for tiles of 4 and 8. */
export const MATMUL_STATIC = `
prim_func k(X: f32[16, 8], W: f32[8, 4], Y: f32[16, 4]) {
  for i, j, k in grid(16, 4, 8) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}`;

/** The legalized kernel of one operator call written as a graph function (`call`: the binding's right side). */
export function legalizedKernel(params: string, out: string, call: string, kernel: string): PrimFunc {
  const text = `
func main(${params}) -> ${out} {
  dataflow {
    y: ${out} = ${call}
    output y
  }
  return y
}`;
  return getPrimFunc(legalizeModule(parseModule(text, { ...opHooks, file: `${kernel}.kir` })), kernel)!;
}

/** The legalized kernel of `x [m, k] · w [k, n]` (m may be a symbol). */
export function matmulKernel(m: number | string, k: number, n: number): PrimFunc {
  return legalizedKernel(
    `x: Tensor[(${m}, ${k}), f32], w: Tensor[(${k}, ${n}), f32]`,
    `Tensor[(${m}, ${n}), f32]`,
    'matmul(x, w)',
    'matmul',
  );
}
