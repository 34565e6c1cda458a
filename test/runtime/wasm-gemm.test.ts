/** The kiln-wasm-gemm library's hand-written kernel against a float64 reference, tails of the SIMD columns included. */
import { expect, test } from 'vitest';
import { wasmGemmBackend } from '../../src/codegen/backends/wasm-gemm.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import type { GraphFunc } from '../../src/ir/graph/expr.ts';
import { opHooks } from '../../src/ops/index.ts';
import { cpu, NDArray, tensor } from '../../src/runtime/ndarray.ts';
import { wasmGemmRuntime } from '../../src/runtime/wasm-gemm.ts';

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

const COMPOSITE = `
func gemm(x: Tensor[(m, k), f32], w: Tensor[(k, n), f32], b: Tensor[(n,), f32]) -> Tensor[(m, n), f32] {
  dataflow {
    y = matmul(x, w)
    z = add(y, b)
    output z
  }
  return z
}`;

test.each([
  [1, 1, 1],
  [5, 7, 11],
  [3, 64, 36],
  [17, 9, 4],
])('m=%d k=%d n=%d, with a bias, matches float64', async (m, k, n) => {
  const f = parseModule(COMPOSITE, { ...opHooks, file: 'gemm.kir' }).functions.get('gemm') as GraphFunc;
  expect(wasmGemmBackend.supports(f)).toBe(true);
  const out = await wasmGemmBackend.codegen({ name: 'gemm', symbol: 'kiln-wasm-gemm.gemm', func: f });
  const fns = await wasmGemmRuntime.load(
    [{ symbol: 'g', entry: out.entry, files: { 'gemm.wasm': out.files!['gemm.wasm'] as Uint8Array } }],
    { device: cpu },
  );
  const [x, w, b] = [seeded(m * k, m), seeded(k * n, k), seeded(n, n)];
  const y = new NDArray([m, n], 'float32', cpu, new Float32Array(m * n));
  // Twice: the second call reuses the kernel's memory.
  for (let r = 0; r < 2; r++) await fns.g!(tensor(x, [m, k]), tensor(w, [k, n]), tensor(b, [n]), y);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = b[j]!;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[p * n + j]!;
      worst = Math.max(worst, Math.abs(s - (y.data as Float32Array)[i * n + j]!));
    }
  }
  expect(worst).toBeLessThan(1e-5);
});

test('it refuses what is not a 2-D f32 matmul (+ bias)', () => {
  const f = parseModule(COMPOSITE.replace('matmul(x, w)', 'multiply(x, x)').replace('(k, n)', '(m, k)'), {
    ...opHooks,
    file: 'gemm.kir',
  }).functions.get('gemm') as GraphFunc;
  expect(wasmGemmBackend.supports(f)).toBe(false);
});
