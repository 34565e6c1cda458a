/**
 * plan-memory: Before/Expected modules in the text format (tensors sharing a
 * token, in-place reuse, symbolic sizes that allow or prevent sharing), the
 * verifier catching an overlapping plan, and numerics: a planned module
 * computes exactly what the unplanned one does, call after call.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { evaluatePrimFunc } from '../../src/codegen/js/evaluate.ts';
import { importOnnx } from '../../src/frontends/onnx/importer.ts';
import type { IRModule } from '../../src/ir/module.ts';
import { printPrimExpr } from '../../src/ir/text/printer.ts';
import { verifyModule } from '../../src/ir/verify/index.ts';
import { opHooks } from '../../src/ops/index.ts';
import { foldModule } from '../../src/passes/fold-constants.ts';
import { ALL_FUSION_RULES } from '../../src/passes/fuse-ops.ts';
import { fuseModule } from '../../src/passes/fuse-tir.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { memoryPicture } from '../../src/passes/memory-picture.ts';
import { describePlan, evaluateAt, planMemory, planModule, type PlanStats } from '../../src/passes/plan-memory.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { inlineIntermediates } from '../../src/schedule/inline-intermediates.ts';
import { buildAndLoad } from '../helpers/build-run.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { REPO } from '../helpers/workspace.ts';
import { expectModule, parse } from './helpers.ts';

const KERNELS = `
prim_func exp(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block e(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = exp(A[vi, vj])
    }
  }
}
prim_func tr(A: f32[n, 4], B: f32[4, n]) {
  for i, j in grid(4, n) {
    block t(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vj, vi]
    }
  }
}
prim_func tr2(A: f32[4, n], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block t(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = A[vj, vi]
    }
  }
}
prim_func sqrt(A: f32[n, 4], B: f32[n, 4]) attrs(op_pattern="elemwise") {
  for i, j in grid(n, 4) {
    block s(vi = spatial(i), vj = spatial(j)) {
      B[vi, vj] = sqrt(A[vi, vj])
    }
  }
}
prim_func add(A: f32[n, 4], B: f32[n, 4], C: f32[n, 4]) {
  for i, j in grid(n, 4) {
    block a(vi = spatial(i), vj = spatial(j)) {
      C[vi, vj] = A[vi, vj] + B[vi, vj]
    }
  }
}`;

const CHAIN = `${KERNELS}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32])
    b = call_tir(tr, (a,), out: Tensor[(4, n), f32])
    c = call_tir(tr2, (b,), out: Tensor[(n, 4), f32])
    d = call_tir(sqrt, (c,), out: Tensor[(n, 4), f32])
    e = call_tir(add, (d, x), out: Tensor[(n, 4), f32])
    output e
  }
  return e
}`;

async function run(m: IRModule, shape: readonly number[], seed = 3): Promise<number[]> {
  const x = tensor(
    Float32Array.from(
      randomArray(
        shape.reduce((a, b) => a * b, 1),
        seed,
        0,
        2,
      ),
    ),
    shape,
  );
  return Array.from(((await (await buildAndLoad(m)).call('main', x)) as NDArray).data as Float32Array);
}

describe('plan-memory', () => {
  test('a dead tensor gives its token to a later one; an elementwise kernel writes over its dying input', async () => {
    const before = parse(CHAIN);
    const stats: PlanStats = { functions: {} };
    const after = planModule(before, stats);
    expectModule(
      after,
      `${KERNELS}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    storage = alloc_storage(shape((n + 3) // 4 * 128))
    a_mem = alloc_tensor(storage, prim(0), shape(n, 4), dtype="float32")
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32], dst: a_mem)
    b_mem = alloc_tensor(storage, prim((n + 3) // 4 * 64), shape(4, n), dtype="float32")
    b = call_tir(tr, (a,), out: Tensor[(4, n), f32], dst: b_mem)
    c_mem = alloc_tensor(storage, prim(0), shape(n, 4), dtype="float32")
    c = call_tir(tr2, (b,), out: Tensor[(n, 4), f32], dst: c_mem)
    d_mem = alloc_tensor(storage, prim(0), shape(n, 4), dtype="float32")
    d = call_tir(sqrt, (c,), out: Tensor[(n, 4), f32], dst: d_mem)
    e = call_tir(add, (d, x), out: Tensor[(n, 4), f32])
    output e
  }
  return e
}`,
    );
    const s = stats.functions.main![0]!;
    expect([s.tensors, s.tokens, s.inPlace]).toEqual([4, 2, 1]);
    expect(printPrimExpr(s.naive)).toBe('(n + 3) // 4 * 256');
    expect(evaluateAt(s.planned, new Map([['n', 100]]))).toBe(3200);
    for (const n of [1, 5, 33]) expect(await run(after, [n, 4])).toEqual(await run(before, [n, 4]));
  });

  test('the plan drawn: an SVG bar per tensor over its live bindings and its bytes', () => {
    const html = memoryPicture(planModule(parse(CHAIN)), new Map([['n', 16]]));
    expect(html).toContain('main, block 0 — arena 0.5 KiB at n=16; 4 tensors');
    // Bindings count the alloc_tensor before each call: a is written at 2 and last read at 4.
    expect(html).toContain('<title>a: bytes 0..256, bindings 2..4</title>');
    expect(html).toContain('<title>b: bytes 256..512, bindings 4..6</title>');
    expect(html).toContain('<title>c: bytes 0..256, bindings 6..8</title>');
    expect(html).toContain('<title>d: bytes 0..256, bindings 8..9</title>');
  });

  test('symbolic sizes: a provably smaller tensor reuses a token, incomparable ones share it at their max', () => {
    const after = planModule(
      parse(`
prim_func half(A: f32[n, 4], B: f32[n, 2]) {
  for i, j in grid(n, 2) {
    B[i, j] = A[i, j]
  }
}
prim_func pad(A: f32[n, 2], B: f32[m, 8]) {
  for i, j in grid(m, 8) {
    B[i, j] = 1.0
  }
}
prim_func sum8(A: f32[m, 8], B: f32[m]) {
  for i in range(m) {
    B[i] = A[i, 0]
  }
}
prim_func id(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}
func main(x: Tensor[(n, 4), f32], y: Tensor[(m,), f32]) -> Tensor[(m,), f32] {
  dataflow {
    a = call_tir(id, (x,), out: Tensor[(n, 4), f32])
    c = call_tir(id, (a,), out: Tensor[(n, 4), f32])
    d = call_tir(half, (c,), out: Tensor[(n, 2), f32])
    e = call_tir(pad, (d,), out: Tensor[(m, 8), f32])
    f = call_tir(sum8, (e,), out: Tensor[(m,), f32])
    output f
  }
  return f
}`),
    );
    const text = (name: string): string => {
      const f = after.functions.get('main');
      if (f?.kind !== 'func') return '';
      const b = f.body.blocks[0]!.bindings.find((x) => x.var.name === name)!;
      return b.value.kind === 'call' && b.value.args[1]?.kind === 'prim_value' ? printPrimExpr(b.value.args[1].value) : '';
    };
    const main = after.functions.get('main');
    const first = main?.kind === 'func' ? main.body.blocks[0]!.bindings[0]!.value : undefined;
    const size = first?.kind === 'call' && first.args[0]?.kind === 'shape' ? first.args[0].values[0] : undefined;
    // a: token 0 ([n, 4]); c: token 1 (a is read by it); d ([n, 2], provably smaller) takes token 0
    // once a is dead; e ([m, 8]): neither m * 32 <= n * 16 nor the reverse is provable, so it takes
    // token 1, grown to the max of both, and the arena is symbolic.
    expect([text('a_mem'), text('d_mem')]).toEqual(['0', '0']);
    expect(text('c_mem')).toBe(text('e_mem'));
    expect(text('c_mem')).toBe('(n + 3) // 4 * 64');
    expect(size && printPrimExpr(size)).toBe('(n + 3) // 4 * 64 + (max(m * 32, n * 16) + 63) // 64 * 64');
    expect(verifyModule(after, { inferOp: opHooks.inferOp }).map((d) => d.message)).toEqual([]);
  });

  test('values that leave the block, and sizes over variables a match_cast defines, stay allocated by the VM', () => {
    const m = parse(`${KERNELS}
func main(x: Tensor[(n, 4), f32], z: Tensor[ndim=2, f32]) -> Tuple[Tensor[(n, 4), f32], Tensor[(n, 4), f32]] {
  dataflow {
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32])
    b = call_tir(sqrt, (a,), out: Tensor[(n, 4), f32])
    k = match_cast(z, Tensor[(q, 4), f32])
    c = call_tir(exp, (k,), out: Tensor[(q, 4), f32])
    d = call_tir(sqrt, (c,), out: Tensor[(q, 4), f32])
    gv = (a, b)
    output gv
  }
  return gv
}`);
    expect(planModule(m) === m).toBe(true);
  });

  test('the verifier names two live tensors a plan puts in the same bytes', () => {
    const bad = parse(`${KERNELS}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    storage = alloc_storage(shape(n * 32))
    a_mem = alloc_tensor(storage, prim(0), shape(n, 4), dtype="float32")
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32], dst: a_mem)
    c_mem = alloc_tensor(storage, prim(n * 8), shape(n, 4), dtype="float32")
    c = call_tir(exp, (x,), out: Tensor[(n, 4), f32], dst: c_mem)
    d = call_tir(add, (a, c), out: Tensor[(n, 4), f32])
    output d
  }
  return d
}`);
    expect(verifyModule(bad).map((d) => d.message)).toEqual([
      "function 'main', binding 'c': planned tensors 'a' and 'c' overlap in storage 'storage' while both are live",
    ]);
  });

  test('the dst of call_tir must have the call output type', () => {
    const bad = parse(`${KERNELS}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    storage = alloc_storage(shape(n * 32))
    a_mem = alloc_tensor(storage, prim(0), shape(4, n), dtype="float32")
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32], dst: a_mem)
    output a
  }
  return a
}`);
    expect(
      verifyModule(bad)
        .map((d) => d.message)
        .join('\n'),
    ).toMatch(/the dst of call_tir \('a_mem'\)/);
  });

  test('the pass is a configured factory; a module without intermediates comes back unchanged', () => {
    const m = parse(`${KERNELS}
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  dataflow {
    a = call_tir(exp, (x,), out: Tensor[(n, 4), f32])
    output a
  }
  return a
}`);
    expect(planMemory().run(m, {}) === m).toBe(true);
  });

  test('the vision model folded, fused and planned: the same numbers as without the plan, call after call', async () => {
    const bytes = new Uint8Array(readFileSync(join(REPO, 'examples/models/tiny-resnet.onnx')));
    const imported = importOnnx(bytes, { file: 'model.onnx', dynamic: { N: { name: 'batch', upper: 64 } } });
    const fused = fuseModule(legalizeModule(foldModule(imported, { evaluate: evaluatePrimFunc })), {
      maxDepth: 64,
      rules: ALL_FUSION_RULES,
      exclude: [],
      inline: inlineIntermediates,
    });
    const stats: PlanStats = { functions: {} };
    const planned = planModule(fused, stats);
    expect(verifyModule(planned, { inferOp: opHooks.inferOp }).map((d) => d.message)).toEqual([]);
    const [line] = describePlan(planned, stats);
    expect(line).toMatch(/^main: \d+ tensors in \d tokens .*batch=1: planned .* of naive .*batch=64: planned/);
    const s = stats.functions.main![0]!;
    const at64 = new Map([['batch', 64]]);
    expect(evaluateAt(s.planned, at64)!).toBeLessThan(evaluateAt(s.naive, at64)! * 0.75);
    const a = await buildAndLoad(fused);
    const b = await buildAndLoad(planned);
    for (const batch of [1, 3, 2]) {
      const x = tensor(Float32Array.from(randomArray(batch * 3 * 32 * 32, batch)), [batch, 3, 32, 32]);
      const want = ((await a.call('main', x)) as NDArray).data as Float32Array;
      const got = ((await b.call('main', x)) as NDArray).data as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });
});
