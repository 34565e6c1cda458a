/** Kernels several schedule test files start from, in the text format. */

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
