/**
 * fuse (FuseOps + FuseTIR): Before/Expected modules in the text format for the
 * groups the issue names, the kernels' pattern kinds, and numerics: every
 * fused module computes what the unfused one does (built with the js target),
 * the vision model fused still matches onnxruntime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { evaluatePrimFunc } from '../../src/codegen/js/evaluate.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import { foldModule } from '../../src/passes/fold-constants.ts';
import { ALL_FUSION_RULES, type FuseOptions } from '../../src/passes/fuse-ops.ts';
import { fuse, type FuseStats, fuseModule } from '../../src/passes/fuse-tir.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { analyzePattern } from '../../src/passes/op-pattern.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { inlineIntermediates } from '../../src/schedule/inline-intermediates.ts';
import { scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import { WEBGPU_TARGET } from '../helpers/gpu-ops.ts';
import { buildAndLoad } from '../helpers/build-run.ts';
import { compareWithOrt } from '../helpers/onnx-oracle.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { REPO } from '../helpers/workspace.ts';
import { expectModule, parse } from './helpers.ts';

const OPTIONS: FuseOptions = { maxDepth: 64, rules: ALL_FUSION_RULES, exclude: [] };
const fused = (m: IRModule, options: Partial<FuseOptions> = {}): IRModule =>
  fuseModule(legalizeModule(m), { ...OPTIONS, ...options, inline: inlineIntermediates });

/** Runs `main` of both modules on the same random inputs; the results agree to float32 rounding. */
async function expectSameNumbers(before: IRModule, after: IRModule, shapes: readonly (readonly number[])[]): Promise<void> {
  const inputs = shapes.map((s, i) =>
    tensor(
      Float32Array.from(
        randomArray(
          s.reduce((a, b) => a * b, 1),
          7 + i,
        ),
      ),
      s,
    ),
  );
  const run = async (m: IRModule): Promise<number[]> =>
    Array.from(((await (await buildAndLoad(m)).call('main', ...inputs)) as NDArray).data as Float32Array);
  const want = await run(before);
  const got = await run(after);
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => {
    const w = want[k]!;
    if (Number.isNaN(w)) expect(g).toBeNaN();
    else expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
  });
}

const MM_BIAS_RELU = `
prim_func mm(X: f32[n, 4], W: f32[4, 3], Y: f32[n, 3]) {
  for i, j, k in grid(n, 3, 4) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
}
prim_func bias(A: f32[n, 3], B: f32[3], C: f32[n, 3]) {
  for i, j in grid(n, 3) {
    block bias(vi = spatial(i), vj = spatial(j)) {
      C[vi, vj] = A[vi, vj] + B[vj]
    }
  }
}
prim_func relu(A: f32[n, 3], B: f32[n, 3]) {
  for i, j in grid(n, 3) {
    block relu(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = max(A[vi, vj], 0.0)
    }
  }
}
func main(x: Tensor[(m, 4), f32], w: Tensor[(4, 3), f32], b: Tensor[(3,), f32]) -> Tensor[(m, 3), f32] {
  dataflow {
    lv0 = call_tir(mm, (x, w), out: Tensor[(m, 3), f32])
    lv1 = call_tir(bias, (lv0, b), out: Tensor[(m, 3), f32])
    gv = call_tir(relu, (lv1,), out: Tensor[(m, 3), f32])
    output gv
  }
  return gv
}`;

describe('pattern kinds read off the loops', () => {
  test('elemwise, broadcast, injective, reduction, out-elemwise-fusable, opaque', () => {
    const m = legalizeModule(
      parse(`
prim_func flip(A: f32[n, 3], B: f32[n, 3]) {
  for i, j in grid(n, 3) {
    B[i, j] = A[i, 2 - j]
  }
}
func main(x: Tensor[(n, 3), f32], b: Tensor[(3,), f32], w: Tensor[(3, 3), f32]) -> Tensor[(3,), f32] {
  e = relu(x)
  f = add(x, b)
  g = permute_dims(x, axes=[1, 0])
  h = sum(x, axis=[0], keepdims=false)
  i = matmul(x, w)
  j = call_tir(flip, (x,), out: Tensor[(n, 3), f32])
  return h
}`),
    );
    const kinds = Object.fromEntries(
      [...m.functions].filter(([, f]) => f.kind === 'prim_func').map(([n, f]) => [n, analyzePattern(f as never)]),
    );
    expect(kinds).toEqual({
      relu: 'elemwise',
      add: 'broadcast',
      permute_dims: 'injective',
      sum: 'reduction',
      matmul: 'out-elemwise-fusable',
      flip: 'opaque',
    });
  });
});

describe('fusion groups', () => {
  test('matmul + bias + relu: one kernel, the epilogue inlined, the matmul result allocated inside', async () => {
    const before = parse(MM_BIAS_RELU);
    const after = fused(before);
    expectModule(
      after,
      `
prim_func fused_mm_bias_relu(X: f32[m, 4], W: f32[4, 3], B: f32[3], B_1: f32[m, 3]) attrs(op_pattern="out-elemwise-fusable") {
  alloc Y: f32[m, 3]
  for i, j, k in grid(m, 3, 4) {
    block mm(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { Y[vi, vj] = 0.0 }
      Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
    }
  }
  for i_1, j_1 in grid(m, 3) {
    block relu(vi_1 = spatial(i_1), vj_1 = spatial(j_1)) {
      B_1[vi_1, vj_1] = max(Y[vi_1, vj_1] + B[vj_1], 0.0)
    }
  }
}
func main(x: Tensor[(m, 4), f32], w: Tensor[(4, 3), f32], b: Tensor[(3,), f32]) -> Tensor[(m, 3), f32] {
  dataflow {
    gv = call_tir(fused_mm_bias_relu, (x, w, b), out: Tensor[(m, 3), f32])
    output gv
  }
  return gv
}`,
    );
    await expectSameNumbers(before, after, [[5, 4], [4, 3], [3]]);
  });

  test('a conv2d + bias + relu of the operator library is one kernel', async () => {
    const before = parse(`
func main(x: Tensor[(n, 2, 5, 5), f32], w: Tensor[(3, 2, 3, 3), f32], b: Tensor[(3, 1, 1), f32]) -> Tensor[(n, 3, 5, 5), f32] {
  dataflow {
    c = conv2d(x, w, padding=[1, 1, 1, 1])
    d = add(c, b)
    y = relu(d)
    output y
  }
  return y
}`);
    const stats: FuseStats = { functions: {} };
    const after = fuseModule(legalizeModule(before), { ...OPTIONS, inline: inlineIntermediates }, stats);
    expect(stats.functions.main).toEqual({ before: 3, after: 1, groups: [['conv2d', 'add', 'relu']] });
    expect([...after.functions.keys()].sort()).toEqual(['fused_conv2d_add_relu', 'main']);
    await expectSameNumbers(before, after, [
      [2, 2, 5, 5],
      [3, 2, 3, 3],
      [3, 1, 1],
    ]);
  });

  test('an injective chain becomes one loop nest, nothing allocated', async () => {
    const before = parse(`
func main(x: Tensor[(n, 4), f32]) -> Tensor[(4, n), f32] {
  dataflow {
    a = permute_dims(x, axes=[1, 0])
    b = negative(a)
    c = exp(b)
    output c
  }
  return c
}`);
    const after = fused(before);
    expectModule(
      after,
      `
prim_func fused_permute_dims_negative_exp(data: f32[n, 4], T_exp: f32[4, n]) attrs(op_pattern="injective") {
  for i, j in grid(4, n) {
    block T_exp(vi = spatial(i), vj = spatial(j)) {
      T_exp[vi, vj] = exp(data[vj, vi] * -1.0)
    }
  }
}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(4, n), f32] {
  dataflow {
    c = call_tir(fused_permute_dims_negative_exp, (x,), out: Tensor[(4, n), f32])
    output c
  }
  return c
}`,
    );
    await expectSameNumbers(before, after, [[3, 4]]);
  });

  test('a reduction takes its elementwise epilogue', async () => {
    const before = parse(`
func main(x: Tensor[(n, 8), f32]) -> Tensor[(n,), f32] {
  dataflow {
    s = sum(x, axis=[1], keepdims=false)
    t = multiply(s, const(f32[1], [0.125]))
    u = sqrt(t)
    output u
  }
  return u
}`);
    const after = fused(before);
    expectModule(
      after,
      `
prim_func fused_sum_multiply_sqrt(data: f32[n, 8], x2: f32[1], T_sqrt: f32[n]) attrs(op_pattern="reduction") {
  alloc T_sum: f32[n]
  for i, k1 in grid(n, 8) {
    block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
      init { T_sum[vi] = 0.0 }
      T_sum[vi] = T_sum[vi] + data[vi, vk1]
    }
  }
  for i_1 in range(n) {
    block T_sqrt(vi_1 = spatial(i_1)) {
      T_sqrt[vi_1] = sqrt(T_sum[vi_1] * x2[0])
    }
  }
}
func main(x: Tensor[(n, 8), f32]) -> Tensor[(n,), f32] {
  dataflow {
    u = call_tir(fused_sum_multiply_sqrt, (x, const(f32[1], [0.125])), out: Tensor[(n,), f32])
    output u
  }
  return u
}`,
    );
    await expectSameNumbers(before, after, [[3, 8]]);
  });

  test('a diamond through an opaque kernel does not fuse the matmul; the elementwise side still fuses', async () => {
    const before = parse(`
prim_func flip(A: f32[n, 3], B: f32[n, 3]) {
  for i, j in grid(n, 3) {
    B[i, j] = A[i, 2 - j]
  }
}
func main(x: Tensor[(n, 4), f32], w: Tensor[(4, 3), f32]) -> Tensor[(n, 3), f32] {
  dataflow {
    m = matmul(x, w)
    r = relu(m)
    f = call_tir(flip, (m,), out: Tensor[(n, 3), f32])
    y = add(r, f)
    output y
  }
  return y
}`);
    const after = fused(before);
    expectModule(
      after,
      `
prim_func flip(A: f32[n, 3], B: f32[n, 3]) attrs(op_pattern="opaque") {
  for i, j in grid(n, 3) {
    B[i, j] = A[i, 2 - j]
  }
}
prim_func fused_relu_add(data: f32[n, 3], x2: f32[n, 3], T_add: f32[n, 3]) attrs(op_pattern="elemwise") {
  for i, j in grid(n, 3) {
    block T_add(vi = spatial(i), vj = spatial(j)) {
      T_add[vi, vj] = max(data[vi, vj], 0.0) + x2[vi, vj]
    }
  }
}
prim_func matmul(x1: f32[n, 4], x2: f32[4, 3], T_matmul: f32[n, 3]) attrs(op_pattern="out-elemwise-fusable") {
  for i, j, k in grid(n, 3, 4) {
    block T_matmul(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { T_matmul[vi, vj] = 0.0 }
      T_matmul[vi, vj] = T_matmul[vi, vj] + x1[vi, vk] * x2[vk, vj]
    }
  }
}
func main(x: Tensor[(n, 4), f32], w: Tensor[(4, 3), f32]) -> Tensor[(n, 3), f32] {
  dataflow {
    m = call_tir(matmul, (x, w), out: Tensor[(n, 3), f32])
    f = call_tir(flip, (m,), out: Tensor[(n, 3), f32])
    y = call_tir(fused_relu_add, (m, f), out: Tensor[(n, 3), f32])
    output y
  }
  return y
}`,
    );
    await expectSameNumbers(before, after, [
      [3, 4],
      [4, 3],
    ]);
  });

  test('a value the function returns as well ends the group there', () => {
    const after = fused(
      parse(`
func main(x: Tensor[(n, 4), f32]) -> Tuple[Tensor[(n, 4), f32], Tensor[(n, 4), f32]] {
  dataflow {
    a = exp(x)
    b = negative(a)
    gv = (a, b)
    output gv
  }
  return gv
}`),
    );
    expect([...after.functions.keys()].sort()).toEqual(['exp', 'main', 'negative']);
  });

  test('symbolic shapes: a variable no parameter dimension gives is passed as tir_vars', async () => {
    const before = parse(`
func main(x: Tensor[(n,), f32], y: Tensor[(n * 2,), f32]) -> Tensor[(n * 2,), f32] {
  dataflow {
    a = exp(y)
    b = negative(a)
    output b
  }
  return b
}`);
    const after = fused(before);
    expectModule(
      after,
      `
prim_func fused_exp_negative(data: f32[n * 2], T_negative: f32[n * 2], n: i64) attrs(op_pattern="elemwise") {
  for i in range(n * 2) {
    block T_negative(vi = spatial(i)) {
      T_negative[vi] = exp(data[vi]) * -1.0
    }
  }
}
func main(x: Tensor[(n,), f32], y: Tensor[(n * 2,), f32]) -> Tensor[(n * 2,), f32] {
  dataflow {
    b = call_tir(fused_exp_negative, (y,), out: Tensor[(n * 2,), f32], tir_vars: shape(n))
    output b
  }
  return b
}`,
    );
    await expectSameNumbers(before, after, [[3], [6]]);
  });
});

test('a member kernel with allocations of its own: they move to the top of the fused kernel', async () => {
  const before = parse(`
func main(x: Tensor[(n, 8), f32]) -> Tensor[(n, 1), f32] {
  dataflow {
    v = variance(x, axis=[1], keepdims=true)
    a = add(v, const(f32[1], [0.00001]))
    r = rsqrt(a)
    output r
  }
  return r
}`);
  const after = fused(before);
  const k = [...after.functions.values()].find((f) => f.kind === 'prim_func');
  expect(k?.kind).toBe('prim_func');
  let body = k!.kind === 'prim_func' ? k!.body : undefined;
  while (body?.kind === 'allocate') body = body.body;
  let nested = false;
  const visit = (x: unknown): void => {
    if (typeof x !== 'object' || x === null) return;
    if ((x as { kind?: string }).kind === 'allocate') nested = true;
    for (const v of Object.values(x)) visit(v);
  };
  visit(body);
  expect(nested).toBe(false);
  await expectSameNumbers(before, after, [[3, 8]]);
});

describe('dequantize in the kernel', () => {
  const QDQ = `
func main(x: Tensor[(n, 8), f32], w: Tensor[(8, 4), i8], s: Tensor[(4,), f32], w2: Tensor[(4, 4), i8], a: Tensor[(1,), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    q = quantize(x, a, out_dtype="uint8")
    xd = dequantize(q, a)
    wd = dequantize(w, s, axis=1)
    y = matmul(xd, wd)
    q2 = quantize(y, a, out_dtype="int8")
    yd = dequantize(q2, a)
    wd2 = dequantize(w2, s, axis=1)
    z = matmul(yd, wd2)
    output z
  }
  return z
}`;
  const kernels = (m: IRModule): string[] =>
    [...m.functions.entries()].filter(([, f]) => f.kind === 'prim_func').map(([name]) => name);

  test('a dequantized weight and a quantize-dequantize pair go into the matmul; two matmuls stay apart', async () => {
    const before = parse(QDQ);
    const after = fused(before);
    // The first matmul also takes its epilogue (the next quantize-dequantize pair); the second its weight's dequantize.
    expect(kernels(after).sort()).toEqual([
      'fused_dequantize_matmul',
      'fused_quantize_dequantize_dequantize_matmul_quantize_dequantize',
    ]);
    // The weights reach the kernels as int8.
    expect(printModule(after)).toMatch(
      /prim_func fused_quantize_dequantize_dequantize_matmul_quantize_dequantize\([^)]*: i8\[8, 4\]/,
    );
    expect(kernels(fused(before, { rules: { ...ALL_FUSION_RULES, 'dequantize-prologue': false } }))).toContain('dequantize3');
    const x = tensor(Float32Array.from(randomArray(24, 3, -2, 2)), [3, 8]);
    const w = tensor(Int8Array.from(randomArray(32, 4, -128, 128), Math.floor), [8, 4], 'int8');
    const sc = tensor(Float32Array.from(randomArray(4, 5, 0.01, 0.05)), [4]);
    const w2 = tensor(Int8Array.from(randomArray(16, 6, -128, 128), Math.floor), [4, 4], 'int8');
    const run = async (m: IRModule): Promise<number[]> =>
      Array.from(
        ((await (await buildAndLoad(m)).call('main', x, w, sc, w2, tensor(Float32Array.from([0.05]), [1]))) as NDArray)
          .data as Float32Array,
      );
    const want = await run(legalizeModule(before));
    const got = await run(after);
    got.forEach((g, k) => expect(Math.abs(g - want[k]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[k]!))));
  });
});

describe('options', () => {
  test('max-depth, patterns off and exclude keep calls apart', () => {
    const calls = (m: IRModule): number => [...m.functions.values()].filter((f) => f.kind === 'prim_func').length;
    const before = parse(MM_BIAS_RELU);
    expect(calls(fused(before))).toBe(1);
    expect(calls(fused(before, { maxDepth: 2 }))).toBe(2);
    expect(calls(fused(before, { rules: { ...ALL_FUSION_RULES, 'out-elemwise': false } }))).toBe(2);
    expect(calls(fused(before, { exclude: ['relu'] }))).toBe(2);
    expect(calls(fused(before, { exclude: ['mm', 'relu'] }))).toBe(3);
  });

  test('the pass is a configured factory that hands back an unfusable module unchanged but annotated', () => {
    const m = legalizeModule(parse(`func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {\n  y = relu(x)\n  return y\n}`));
    const out = fuse(OPTIONS).run(m, {});
    const relu = out.functions.get('relu');
    expect(relu?.kind === 'prim_func' ? relu.attrs : undefined).toEqual({ op_pattern: 'elemwise' });
  });
});

describe('the vision model', () => {
  test('folded and fused: 25 kernel calls become 11 and it still matches onnxruntime within 1e-4', async () => {
    const bytes = new Uint8Array(readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    let stats: FuseStats = { functions: {} };
    for (const batch of [1, 3]) {
      const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [batch, 3, 32, 32] }], {
        seed: batch,
        transform: (m) => {
          stats = { functions: {} };
          const folded = legalizeModule(foldModule(m, { evaluate: evaluatePrimFunc }));
          return fuseModule(folded, { ...OPTIONS, inline: inlineIntermediates }, stats);
        },
      });
      expect(probs!.maxRel, `batch ${batch}: max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
    }
    expect(stats.functions.main!.before).toBe(25);
    expect(stats.functions.main!.after).toBe(11);
  });
});

describeWebGpu('the vision model fused, on WebGPU', (device) => {
  test('each conv with its epilogue is one launch (the epilogue folds into the tile write-back) and matches onnxruntime', async () => {
    const bytes = new Uint8Array(readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    const [probs] = await compareWithOrt(bytes, [{ name: 'input', shape: [2, 3, 32, 32] }], {
      seed: 2,
      device,
      transform: (m) => {
        const out = fuseModule(legalizeModule(foldModule(m, { evaluate: evaluatePrimFunc })), {
          ...OPTIONS,
          inline: inlineIntermediates,
        });
        const rules = Object.fromEntries(
          [...scheduleModule(out, WEBGPU_TARGET).functions]
            .filter(([n]) => n.startsWith('fused_conv2d'))
            .map(([n, f]) => [n, f.kind === 'prim_func' ? f.attrs.schedule_rules : undefined]),
        );
        expect(Object.values(rules).length).toBe(6);
        for (const r of Object.values(rules)) expect(r).toEqual(['conv']);
        return out;
      },
    });
    expect(probs!.maxRel, `max rel ${probs!.maxRel}`).toBeLessThan(1e-4);
  });
});
