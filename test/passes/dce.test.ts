/** Dead-code elimination: Before/Expected modules in the text format. */
import { describe, expect, test } from 'vitest';
import { dce } from '../../src/passes/index.ts';
import { expectPass, expectUnchanged, parse } from './helpers.ts';

describe('dead bindings', () => {
  test('a dead chain goes in one run, live bindings stay', () => {
    expectPass(
      dce(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a = relu(x)
  b = exp(a)
  c = add(b, b)
  d = (c, a)
  e = d[0]
  s = shape(n, 4)
  p = prim(n * 2)
  k = const(f32[2], [1.0, 2.0])
  y = negative(x)
  return y
}`,
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y = negative(x)
  return y
}`,
    );
  });

  test('call_tir and call_dps_packed are pure; what the result needs stays', () => {
    expectPass(
      dce(),
      `
prim_func k(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a = call_tir(k, (x,), out: Tensor[(n, 4), f32])
  b = call_dps_packed("lib.gemm", (a, a), out: Tensor[(n, 4), f32])
  c = call_tir(k, (x,), out: Tensor[(n, 4), f32])
  d = relu(c)
  return d
}`,
      `
prim_func k(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  c = call_tir(k, (x,), out: Tensor[(n, 4), f32])
  d = relu(c)
  return d
}`,
    );
  });

  test('calls of extern functions stay, and so do calls of graph functions that make one', () => {
    expectPass(
      dce(),
      `
extern_func log: Callable[[Tensor[(n, 4), f32]], Object] = "app.log"
func logs(x: Tensor[(n, 4), f32]) -> Object attrs(private=true) {
  r: Object = @log(x)
  return r
}
func logs_too(x: Tensor[(n, 4), f32]) -> Object attrs(private=true) {
  r: Object = @logs(x)
  return r
}
func pure(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(private=true) {
  y = relu(x)
  return y
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a: Object = @log(x)
  b: Object = @logs_too(x)
  c: Tensor[(n, 4), f32] = @pure(x)
  return x
}`,
      `
extern_func log: Callable[[Tensor[(n, 4), f32]], Object] = "app.log"
func logs(x: Tensor[(n, 4), f32]) -> Object attrs(private=true) {
  r: Object = @log(x)
  return r
}
func logs_too(x: Tensor[(n, 4), f32]) -> Object attrs(private=true) {
  r: Object = @logs(x)
  return r
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a: Object = @log(x)
  b: Object = @logs_too(x)
  return x
}`,
    );
  });

  test('recursion without an extern call is pure', () => {
    expectPass(
      dce(),
      `
func loop(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(private=true) {
  y: Tensor[(n, 4), f32] = @loop(x)
  return y
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y: Tensor[(n, 4), f32] = @loop(x)
  return x
}`,
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  return x
}`,
    );
  });

  test('an unused match_cast goes unless it defines a symbolic variable used later', () => {
    expectPass(
      dce(),
      `
func main(x: Tensor[ndim=2, f32], y: Tensor[ndim=1, f32], z: Tensor[ndim=1, f32]) -> Tensor[ndim=2, f32] {
  a = match_cast(x, Tensor[(m, 4), f32])
  b = match_cast(y, Tensor[(k,), f32])
  c = match_cast(z, Tensor[(j,), f32])
  s = shape(k, 2)
  t = match_cast(x, Tensor[(m, 4), f32])
  u: Tensor[(m, 4), f32] = relu(t)
  return u
}`,
      `
func main(x: Tensor[ndim=2, f32], y: Tensor[ndim=1, f32], z: Tensor[ndim=1, f32]) -> Tensor[ndim=2, f32] {
  a = match_cast(x, Tensor[(m, 4), f32])
  t = match_cast(x, Tensor[(m, 4), f32])
  u: Tensor[(m, 4), f32] = relu(t)
  return u
}`,
    );
  });

  test('a symbolic variable used only in a later shape value keeps its match_cast', () => {
    expectPass(
      dce(),
      `
func main(y: Tensor[ndim=1, f32]) -> Shape[ndim=2] {
  b = match_cast(y, Tensor[(k,), f32])
  s = shape(k, 2)
  return s
}`,
      `
func main(y: Tensor[ndim=1, f32]) -> Shape[ndim=2] {
  b = match_cast(y, Tensor[(k,), f32])
  s = shape(k, 2)
  return s
}`,
    );
  });

  test('a dataflow block left empty disappears and the plain blocks around it merge', () => {
    expectPass(
      dce(),
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a = relu(x)
  dataflow {
    b = exp(a)
    c = negative(b)
    output c
  }
  d = sqrt(a)
  dataflow {
    e = exp(d)
    output e
  }
  return e
}`,
      `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a = relu(x)
  d = sqrt(a)
  dataflow {
    e = exp(d)
    output e
  }
  return e
}`,
    );
  });

  test('inside ifs: dead bindings of branches go; a pure unused if goes, one with effects stays', () => {
    expectPass(
      dce(),
      `
extern_func log: Callable[[Tensor[(n, 4), f32]], Object] = "app.log"
func main(x: Tensor[(n, 4), f32], flag: Prim[bool]) -> Tensor[(n, 4), f32] {
  unused: Tensor[(n, 4), f32] = if flag {
    a = relu(x)
    a
  } else {
    x
  }
  kept: Object = if flag {
    dead = exp(x)
    r: Object = @log(x)
    r
  } else {
    s: Object = @log(x)
    s
  }
  used: Tensor[(n, 4), f32] = if flag {
    b = relu(x)
    c = exp(x)
    b
  } else {
    x
  }
  return used
}`,
      `
extern_func log: Callable[[Tensor[(n, 4), f32]], Object] = "app.log"
func main(x: Tensor[(n, 4), f32], flag: Prim[bool]) -> Tensor[(n, 4), f32] {
  kept: Object = if flag {
    r: Object = @log(x)
    r
  } else {
    s: Object = @log(x)
    s
  }
  used: Tensor[(n, 4), f32] = if flag {
    b = relu(x)
    b
  } else {
    x
  }
  return used
}`,
    );
  });
});

describe('unreachable functions', () => {
  test('prim_funcs, extern declarations and private functions no entry reaches go', () => {
    expectPass(
      dce(),
      `
extern_func used_ext: Callable[[Tensor[(n, 4), f32]], Object] = "app.used"
extern_func unused_ext: Callable[[Tensor[(n, 4), f32]], Object] = "app.unused"
prim_func reached(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
prim_func orphan(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j] * 2.0
  }
}
prim_func only_dead_caller(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j] * 3.0
  }
}
func helper(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(private=true) {
  y = call_tir(reached, (x,), out: Tensor[(n, 4), f32])
  o: Object = @used_ext(y)
  return y
}
func unreached_private(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(private=true) {
  y = call_tir(orphan, (x,), out: Tensor[(n, 4), f32])
  return y
}
func public_api(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  return x
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dead = call_tir(only_dead_caller, (x,), out: Tensor[(n, 4), f32])
  y: Tensor[(n, 4), f32] = @helper(x)
  return y
}`,
      `
extern_func used_ext: Callable[[Tensor[(n, 4), f32]], Object] = "app.used"
prim_func reached(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func helper(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] attrs(private=true) {
  y = call_tir(reached, (x,), out: Tensor[(n, 4), f32])
  o: Object = @used_ext(y)
  return y
}
func public_api(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  return x
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  y: Tensor[(n, 4), f32] = @helper(x)
  return y
}`,
    );
  });

  test('a module of prim_funcs only (a kernel library) is kept whole', () => {
    expectUnchanged(
      dce(),
      `
prim_func a(A: f32[4], B: f32[4]) {
  for i in range(4) {
    B[i] = A[i]
  }
}
prim_func b(A: f32[4], B: f32[4]) {
  for i in range(4) {
    B[i] = A[i] + 1.0
  }
}`,
    );
  });

  test('PrimFunc bodies are not touched', () => {
    expectUnchanged(
      dce(),
      `
prim_func k(A: f32[4], B: f32[4]) {
  alloc T: f32[4] local
  for i in range(4) {
    let unused = i * 2
    T[i] = A[i]
    B[i] = A[i]
  }
}
func main(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {
  y = call_tir(k, (x,), out: Tensor[(4,), f32])
  return y
}`,
    );
  });
});

describe('sharing', () => {
  test('nothing to do: the same module object comes back', () => {
    expectUnchanged(
      dce(),
      `
extern_func log: Callable[[Tensor[(n, 4), f32]], Object] = "app.log"
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  a: Object = @log(x)
  dataflow {
    y = relu(x)
    output y
  }
  return y
}`,
    );
  });

  test('functions the pass did not change are shared with the input', () => {
    const m = parse(`
prim_func orphan(A: f32[4], B: f32[4]) {
  for i in range(4) {
    B[i] = A[i]
  }
}
func other(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {
  return x
}
func main(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {
  y = relu(x)
  return x
}`);
    const out = dce().run(m, {});
    expect(out).not.toBe(m);
    expect(out.functions.get('other')).toBe(m.functions.get('other'));
    expect(out.functions.has('orphan')).toBe(false);
  });
});
