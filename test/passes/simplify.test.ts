/**
 * The simplify pass: Before/Expected modules in the text format. Expected
 * modules are written in the analyzer's canonical order (`ii + io * 4`).
 */
import { describe, expect, test } from 'vitest';
import { simplify } from '../../src/passes/index.ts';
import { expectPass, expectUnchanged, parse } from './helpers.ts';

describe('PrimFuncs: facts from loops and blocks', () => {
  test('comparisons against the loop bound fold inside the loop', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[n], B: f32[n]) {
  for i in range(n) {
    if i < n {
      B[i] = A[i]
    } else {
      B[i] = 0.0
    }
    if i + 1 <= n && 0 <= i {
      B[i] = B[i] + 1.0
    }
    B[i] = select(i >= n, 0.0, A[i])
    if i < n - 1 {
      B[i] = 2.0
    }
  }
}`,
      `
prim_func f(A: f32[n], B: f32[n]) {
  for i in range(n) {
    B[i] = A[i]
    B[i] = B[i] + 1.0
    B[i] = A[i]
    if i + 1 < n {
      B[i] = 2.0
    }
  }
}`,
    );
  });

  test('constant ifs keep the branch that runs; shape variables are never negative', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[n], B: f32[n]) {
  if 1 < 2 {
    B[0] = 1.0
  } else {
    B[0] = 2.0
  }
  if n < 0 {
    B[0] = 3.0
  } else {
    B[0] = 4.0
  }
  if n * 2 - n - n > 0 {
    B[0] = 5.0
  }
}`,
      `
prim_func f(A: f32[n], B: f32[n]) {
  B[0] = 1.0
  B[0] = 4.0
}`,
    );
  });

  test('index arithmetic of a split loop: floordiv and floormod by the inner extent', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[16], B: f32[4, 4]) {
  for io, ii in grid(4, 4) {
    B[(io * 4 + ii) // 4, (io * 4 + ii) % 4] = A[(io * 4 + ii) // 4 * 4 + (io * 4 + ii) % 4]
  }
}`,
      `
prim_func f(A: f32[16], B: f32[4, 4]) {
  for io, ii in grid(4, 4) {
    B[io, ii] = A[ii + io * 4]
  }
}`,
    );
  });

  test('block iterators range over their domains; predicates and iter values simplify', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[16], B: f32[16]) {
  for io, ii in grid(4, 4) {
    block b(v = spatial(16, io * 4 + ii)) {
      where io * 4 + ii < 16
      if v < 16 {
        B[v] = A[v // 4 * 4 + v % 4]
      }
    }
  }
}`,
      `
prim_func f(A: f32[16], B: f32[16]) {
  for io, ii in grid(4, 4) {
    block b(v = spatial(16, ii + io * 4)) {
      B[v] = A[v]
    }
  }
}`,
    );
  });

  test('a block whose predicate is false never runs and goes', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[8], B: f32[8]) {
  for i in range(8) {
    block b(v = spatial(8, i)) {
      where i >= 8
      B[v] = A[v]
    }
    B[i] = 0.0
  }
}`,
      `
prim_func f(A: f32[8], B: f32[8]) {
  for i in range(8) {
    B[i] = 0.0
  }
}`,
    );
  });
});

describe('PrimFuncs: loops', () => {
  test('loops of no iteration go; loops of one are inlined; thread-bound loops stay', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[n], B: f32[n]) {
  for i in range(0) {
    B[i] = A[i]
  }
  for i in range(n - n) {
    B[i] = A[i]
  }
  for i in range(n - 1, n) {
    B[i] = A[i]
  }
  for i in range(2, 3) {
    for j in range(4) {
      B[i + j] = A[j * i]
    }
  }
  for t in thread_binding(1, "threadIdx.x") {
    B[t] = 1.0
  }
}`,
      `
prim_func f(A: f32[n], B: f32[n]) {
  B[n - 1] = A[n - 1]
  for j in range(4) {
    B[j + 2] = A[j * 2]
  }
  for t in thread_binding(1, "threadIdx.x") {
    B[0] = 1.0
  }
}`,
    );
  });

  test('a loop whose body became empty goes too', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[n], B: f32[n]) {
  for i in range(n) {
    for j in range(0) {
      B[j] = A[j]
    }
    if i >= n {
      B[i] = 1.0
    }
  }
  B[0] = A[0]
}`,
      `
prim_func f(A: f32[n], B: f32[n]) {
  B[0] = A[0]
}`,
    );
  });

  test('allocation shapes simplify, and the accesses follow the new buffer; lets narrow what the body proves', () => {
    expectPass(
      simplify(),
      `
prim_func f(A: f32[8], B: f32[4], C: f32[n]) {
  alloc T: f32[n * 4 - 4 * n + 8] local
  for i in range(8) {
    T[i + 0] = A[i]
    let t = i % 4
    if t < 4 {
      B[t] = T[i * 1]
    }
  }
}`,
      `
prim_func f(A: f32[8], B: f32[4], C: f32[n]) {
  alloc T: f32[8] local
  for i in range(8) {
    T[i] = A[i]
    let t = i % 4
    B[t] = T[i]
  }
}`,
    );
  });
});

describe('graph functions', () => {
  test('struct info dims, shape values, prim values, call_tir outputs and tir_vars', () => {
    expectPass(
      simplify(),
      `
prim_func k(A: f32[n, 4], B: f32[n, 4], m: i64) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32], y: Tensor[ndim=1, f32]) -> Tensor[(n * 4 - 4 * n + n, 4), f32] {
  z = match_cast(y, Tensor[(m,), f32])
  a: Tensor[(n * 4 - 4 * n + m, 4), f32] = match_cast(x, Tensor[(m, 4), f32])
  b: Tensor[(n * 4 - 4 * n + n, 4), f32] = relu(x)
  s = shape(m * 4 - 4 * m + m, n // 1)
  p = prim(n + 0 < 0)
  c = call_tir(k, (b,), out: Tensor[(n + m - m, 4), f32], tir_vars: shape(m + n - n))
  d = call_dps_packed("lib.f", (c,), out: Tensor[(n * 1, 4), f32])
  e = add(c, b)
  return e
}`,
      `
prim_func k(A: f32[n, 4], B: f32[n, 4], m: i64) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32], y: Tensor[ndim=1, f32]) -> Tensor[(n, 4), f32] {
  z = match_cast(y, Tensor[(m,), f32])
  a = match_cast(x, Tensor[(m, 4), f32])
  b: Tensor[(n, 4), f32] = relu(x)
  s = shape(m, n)
  p = prim(false)
  c = call_tir(k, (b,), out: Tensor[(n, 4), f32], tir_vars: shape(m))
  d = call_dps_packed("lib.f", (c,), out: Tensor[(n, 4), f32])
  e = add(c, b)
  return e
}`,
    );
  });

  test('inside if branches and dataflow blocks, uses follow the variables whose struct info changed', () => {
    expectPass(
      simplify(),
      `
func main(x: Tensor[(n, 4), f32], flag: Prim[bool]) -> Tensor[(n, 4), f32] {
  dataflow {
    a: Tensor[(n + 1 - 1, 4), f32] = relu(x)
    b = exp(a)
    output b
  }
  r: Tensor[(n * 2 - n, 4), f32] = if flag {
    c: Tensor[(n - 0, 4), f32] = negative(b)
    c
  } else {
    b
  }
  return r
}`,
      `
func main(x: Tensor[(n, 4), f32], flag: Prim[bool]) -> Tensor[(n, 4), f32] {
  dataflow {
    a = relu(x)
    b = exp(a)
    output b
  }
  r: Tensor[(n, 4), f32] = if flag {
    c = negative(b)
    c
  } else {
    b
  }
  return r
}`,
    );
  });
});

describe('sharing', () => {
  test('an already simple module comes back as the same object', () => {
    expectUnchanged(
      simplify(),
      `
prim_func mm(X: f32[n, 128], W: f32[128, 64], Y: f32[n, 64]) {
  for i, j, k in grid(n, 64, 128) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}
extern_func log: Callable[[Tensor[(n, 64), f32]], Object] = "app.log"
func main(x: Tensor[(n, 128), f32], w: Tensor[(128, 64), f32]) -> Tensor[(n, 64), f32] {
  s = shape(n, 64)
  dataflow {
    lv0 = call_tir(mm, (x, w), out: Tensor[(n, 64), f32])
    gv = relu(lv0)
    output gv
  }
  return gv
}`,
    );
  });

  test('unchanged functions are shared; simplifying twice changes nothing more', () => {
    const m = parse(`
prim_func same(A: f32[4], B: f32[4]) {
  for i in range(4) {
    B[i] = A[i]
  }
}
prim_func changed(A: f32[4], B: f32[4]) {
  for i in range(4) {
    B[i] = A[i + 0]
  }
}`);
    const once = simplify().run(m, {});
    expect(once).not.toBe(m);
    expect(once.functions.get('same')).toBe(m.functions.get('same'));
    expect(simplify().run(once, {})).toBe(once);
  });
});
