/** Legalize: Before/Expected modules in the text format, and its errors. */
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { legalize } from '../../src/passes/legalize.ts';
import { defineOp } from '../../src/ops/index.ts';
import { sameShape } from '../../src/ops/shape.ts';
import { expectPass, expectUnchanged, parse } from './helpers.ts';

describe('legalize', () => {
  test('operator calls become call_tir; identical calls share one kernel; unknown shapes are match_cast first', () => {
    expectPass(
      legalize(),
      `
func main(x: Tensor[(n, 4), f32], y: Tensor[(4,), f32], z: Tensor[(m, 4), f32]) -> Tensor[(m, 4), f32] {
  dataflow {
    a = add(x, y)
    b = add(z, y)
    c = match_cast(a, Tensor[ndim=2, f32])
    d = relu(c)
    output b
  }
  return b
}`,
      `
prim_func add(x1: f32[n, 4], x2: f32[4], T_add: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block T_add(vi = spatial(i), vj = spatial(j)) {
      T_add[vi, vj] = x1[vi, vj] + x2[vj]
    }
  }
}
prim_func relu(data: f32[p, q], T_relu: f32[p, q]) {
  for i, j in grid(p, q) {
    block T_relu(vi = spatial(i), vj = spatial(j)) {
      T_relu[vi, vj] = max(data[vi, vj], 0.0)
    }
  }
}
func main(x: Tensor[(n, 4), f32], y: Tensor[(4,), f32], z: Tensor[(m, 4), f32]) -> Tensor[(m, 4), f32] {
  dataflow {
    a = call_tir(add, (x, y), out: Tensor[(n, 4), f32])
    b = call_tir(add, (z, y), out: Tensor[(m, 4), f32])
    c = match_cast(a, Tensor[ndim=2, f32])
    d_a0 = match_cast(c, Tensor[(p, q), f32])
    d: Tensor[ndim=2, f32] = call_tir(relu, (d_a0,), out: Tensor[(p, q), f32])
    output b
  }
  return b
}`,
    );
  });

  test('an operator the runtime runs (a data-dependent size) becomes a call of its builtin, the attributes as JSON', () => {
    expectPass(
      legalize(),
      `
func main(x: Tensor[(n, 4), f32], y: Tensor[(m,), f32]) -> Tensor[ndim=2, i64] {
  dataflow {
    a = nonzero(x)
    b = match_cast(a, Tensor[(2, k), i64])
    u = unique(y, sorted=false)
    c = nonzero(x)
    output b
  }
  return b
}`,
      `
extern_func nonzero: Callable[[Tensor[ndim=2, f32], Object], Tensor[ndim=2, i64]] = "kiln.nonzero"
extern_func unique: Callable[[Tensor[ndim=1, f32], Object], Tuple[Tensor[ndim=1, f32], Tensor[ndim=1, i64], Tensor[ndim=1, i64], Tensor[ndim=1, i64]]] = "kiln.unique"
func main(x: Tensor[(n, 4), f32], y: Tensor[(m,), f32]) -> Tensor[ndim=2, i64] {
  dataflow {
    a: Tensor[ndim=2, i64] = @nonzero(x, "{}")
    b = match_cast(a, Tensor[(2, k), i64])
    u: Tuple[Tensor[ndim=1, f32], Tensor[ndim=1, i64], Tensor[ndim=1, i64], Tensor[ndim=1, i64]] = @unique(y, "{\\"axis\\":null,\\"sorted\\":false}")
    c: Tensor[ndim=2, i64] = @nonzero(x, "{}")
    output b
  }
  return b
}`,
    );
  });

  test('a symbol the kernel cannot read off its buffers is passed as a tir_var', () => {
    expectPass(
      legalize(),
      `
func main(x: Tensor[(n * 2,), f32]) -> Tensor[(n * 2,), f32] {
  y = exp(x)
  return y
}`,
      `
prim_func exp(data: f32[n * 2], T_exp: f32[n * 2], n: i64) {
  for i in range(n * 2) {
    block T_exp(vi = spatial(i)) {
      T_exp[vi] = exp(data[vi])
    }
  }
}
func main(x: Tensor[(n * 2,), f32]) -> Tensor[(n * 2,), f32] {
  y = call_tir(exp, (x,), out: Tensor[(n * 2,), f32], tir_vars: shape(n))
  return y
}`,
    );
  });

  test('a module without operator calls is returned as it is', () => {
    expectUnchanged(
      legalize(),
      `
func main(x: Tensor[(n,), f32]) -> Shape[(n,)] {
  s = shape_of(x)
  return s
}`,
    );
  });

  test('an operator without a legalization is an error naming it and the binding', () => {
    defineOp({
      name: 'test_only_unlegalized',
      args: [{ name: 'data', kind: 'tensor' }],
      attrs: z.object({}),
      infer: ({ data }) => sameShape(data),
    });
    const m = parse(`
func main(x: Tensor[(4,), f32]) -> Tensor[(4,), f32] {
  y = test_only_unlegalized(x)
  return y
}`);
    expect(() => legalize().run(m, {})).toThrow(
      "function 'main', binding 'y': operator 'test_only_unlegalized' has no legalization, so it cannot be built",
    );
  });

  test('a result whose shape is not known is an error that says so', () => {
    const m = parse(`
func main(x: Tensor[(n,), f32], y: Tensor[(m,), f32]) -> Tensor[ndim=1, f32] {
  z = add(x, y)
  return z
}`);
    expect(() => legalize().run(m, {})).toThrow(
      "function 'main', binding 'z': cannot legalize add: the shape of its result is not known at compile time",
    );
  });
});
