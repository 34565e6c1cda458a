/**
 * The text format on every construct: each case is written by hand (the
 * way a kernel author would), parsed, and printed in canonical form.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseModule } from '../../../src/ir/text/parser.ts';
import { printModule } from '../../../src/ir/text/printer.ts';
import { structuralEqual } from '../../../src/ir/structural.ts';
import { inferOpCall, normalizeAttrs } from '../../../src/ops/index.ts';

const withOps = { inferOp: inferOpCall, normalizeAttrs };

function canonical(source: string): string {
  return printModule(parseModule(source, { file: 'case.kir', ...withOps }));
}

/** Cases whose canonical form is the source itself. */
const CANONICAL: Record<string, string> = {
  'a scalar parameter of another type than i64 used in a buffer shape before it is declared': `
prim_func eye(E: i32[n, i64(m)], m: i32) {
  for i, j in grid(n, i64(m)) {
    E[i, j] = 1
  }
}
`,
  'loop kinds, thread binding, min offsets, annotations': `
prim_func f(A: f32[n, 64], B: f32[n, 64]) {
  for bx in thread_binding(n, "blockIdx.x") {
    for tx in thread_binding(64, "threadIdx.x") {
      B[bx, tx] = A[bx, tx]
    }
  }
  for i in parallel(n) {
    for j in vectorized(4) {
      for k in unrolled(2, 10) attrs(pragma="x") {
        for l: i32 in range(8) {
          for m in range(i +: 4) {
            eval workgroup_barrier()
          }
        }
      }
    }
  }
}
`,
  'alloc, let, if/else, scalar params, strides and scopes': `
prim_func g(A: f32[n] strides(s), B: f32[n], alpha: f32) {
  alloc S: f32[64] shared
  for i in range(n) {
    let t = A[i] * alpha
    if t > 0.0 {
      B[i] = t
    } else {
      alloc R: f32[1] local {
        R[0] = 0.0
      }
      B[i] = select(isnan(t), 0.0, t * 0.5)
    }
  }
}
`,
  'blocks with explicit regions, predicates and annotations': `
prim_func h(A: f32[16], B: f32[8]) {
  for i in range(8) {
    block "b.0"(vi = spatial(8, i + 0)) {
      where i < 7
      reads(A[0:16])
      writes(B[0:8])
      attrs(meta_schedule="x")
      B[vi] = A[vi * 2] + A[vi * 2 + 1]
    }
  }
}
`,
  'a value named like an operator beside a call of that operator': `
func main(mean: Tensor[(3,), f32], x: Tensor[(2, 3), f32]) -> Tensor[(3,), f32] {
  m: Tensor[(3,), f32] = mean(x, axis=[0], keepdims=false)
  y: Tensor[(3,), f32] = add(m, mean)
  return y
}
`,
  'graph constructs': `
module attrs(target={kind: "webgpu"})

extern_func kv_append: Callable[[Object, Tensor[(n, 4), f16]], Object] = "vm.kv_cache.append"

func helper(x: Tensor[(n, 4), f16], cache: Object) -> Tuple[Tensor[(n, 4), f16], Object] attrs(private=true) {
  c: Object = @kv_append(cache, x)
  t = (x, c)
  return t
}

func main(x: Tensor[(n, 4), f16], s: Shape[(n, 4)], p: Prim[i64, value=n], flag: Prim[bool], cache: Object) -> Tensor[ndim=2, f16] {
  k = shape(n * 2, 2)
  v = prim(n + 1)
  label = "decode"
  c = const(f16[2], [1.0, -0.5])
  big = const(f32[2, 3, 4], "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
  r: Tuple[Tensor[(n, 4), f16], Object] = @helper(x, cache)
  y = r[0]
  z = match_cast(y, Tensor[(m, 4), f16])
  w: Tensor[ndim=2, f16] = if flag {
    q: Tensor[(m, 4), f16] = multiply(z, c)
    q
  } else {
    z
  }
  dataflow {
    a: Tensor[(m, 4), f16] = add(w, w)
    b: Tensor[(m, 4), f16] = relu(a)
    output b
  }
  return b
}
`,
};

describe('canonical text', () => {
  for (const [name, source] of Object.entries(CANONICAL)) {
    test(name, () => {
      expect(canonical(source)).toBe(source.trimStart());
    });
  }
});

describe('hand-written forms and their canonical spelling', () => {
  test('the design example: shorthand iterators, inferred regions, inferred struct info, inferred outputs', () => {
    const source = `
prim_func mm(X: f32[n, 128], W: f32[128, 64], Y: f32[n, 64]) {
  for i, j, k in grid(n, 64, 128) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}
func main(x: Tensor[(n, 128), f32], w: Tensor[(128, 64), f32]) -> Tensor[(n, 64), f32] {
  dataflow {
    lv0 = call_tir(mm, (x, w), out: Tensor[(n, 64), f32])
    gv = relu(lv0)
  }
  return gv
}`;
    const out = canonical(source);
    expect(out).toContain('    gv: Tensor[(n, 64), f32] = relu(lv0)\n    output gv\n');
    expect(out).toContain('block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k))');
    expect(out).not.toContain('reads(');
  });

  test('explicit domains equal to the loop print as the shorthand; others stay explicit', () => {
    const out = canonical(`
prim_func f(A: f32[8]) {
  for i in range(8) {
    block b(vi = spatial(8, i)) { A[vi] = 1.0 }
  }
  for j in range(4) {
    block c(vj = spatial(8, j * 2)) { A[vj] = 2.0 }
  }
}`);
    expect(out).toContain('block b(vi = spatial(i))');
    expect(out).toContain('block c(vj = spatial(8, j * 2))');
  });

  test('start/stop loops, negation and operator precedence', () => {
    const out = canonical(`
prim_func f(A: i64[10]) {
  for i in range(2, 10) {
    A[i] = -i * (3 + i) - (i - 1) // 2 % 3
  }
}`);
    expect(out).toContain('for i in range(2, 10) {');
    expect(out).toContain('A[i] = (0 - i) * (3 + i) - (i - 1) // 2 % 3');
  });

  test('a triangular nest is not folded into a grid (its inner extent reads the outer variable)', () => {
    const source = `
prim_func f(A: f32[8, 8]) {
  for i in range(8) {
    for j in range(i) {
      A[i, j] = 0.0
    }
  }
}`;
    const out = canonical(source);
    expect(out).not.toContain('grid(');
    expect(structuralEqual(parseModule(out, { file: 'printed.kir', ...withOps }), parseModule(source, withOps))).toBe(true);
  });

  test('variables sharing a name print with distinct names', () => {
    const out = canonical(`
prim_func f(A: f32[4]) {
  for i in range(4) { A[i] = 0.0 }
  for i in range(4) { A[i] = 1.0 }
}`);
    expect(out).toContain('for i in range(4)');
    expect(out).toContain('for i_1 in range(4)');
  });

  test('a braced alloc in the middle of a sequence keeps its extent', () => {
    const source = `
prim_func f(A: f32[4]) {
  alloc T: f32[4] {
    T[0] = 1.0
  }
  A[0] = 2.0
}
`;
    expect(canonical(source)).toBe(source.trimStart());
  });

  test('the examples are in canonical form and structurally stable', () => {
    const dir = new URL('../../../examples/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.kir'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const source = readFileSync(new URL(f, dir), 'utf8');
      const m = parseModule(source, { file: f, ...withOps });
      const printed = printModule(m);
      expect(structuralEqual(parseModule(printed, withOps), m)).toBe(true);
    }
  });
});
